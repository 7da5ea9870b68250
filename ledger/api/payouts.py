"""CAEs, their members and accountants, payout routes, payout batches and reconciliation."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy import select

from ledger.api import fields
from ledger.api.fields import Rate, UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.commons import service as commons_service
from ledger.commons.models import PAYOUT_ROUTES, Membership
from ledger.errors import Forbidden, NotFound
from ledger.extensions import db
from ledger.payouts import batches as batch_service
from ledger.payouts import reconciliation, service
from ledger.payouts.invoices import invoice_summary
from ledger.payouts.models import CONTRACT_TYPES, Cae, PayoutBatch
from ledger.people.auth import public, require_admin, require_person
from ledger.people.models import Person
from ledger.rounds.models import Round

blp = Blueprint("payouts", __name__, url_prefix="/api/v1", description="CAEs, payout routes, payout batches and reconciliation")


class CaeIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    contribution_rate = Rate(required=True)
    employer_rate = Rate(required=True)


class CaeOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    contribution_rate = fields.String()
    employer_rate = fields.String()


class CaeMemberIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    employee_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))
    contract_type = fields.String(required=True, validate=validate.OneOf(CONTRACT_TYPES))
    first_name = fields.String(load_default=None, validate=validate.Length(max=120))
    last_name = fields.String(load_default=None, validate=validate.Length(min=1, max=120))
    analytic_code = fields.String(
        load_default="", validate=validate.Length(max=32), metadata={"description": "the member's activity code (enseigne)"}
    )
    contribution_rate = Rate(load_default=None, allow_none=True, metadata={"description": "null: the CAE's rate"})


class CaeMemberOut(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    contract_type = fields.String()
    analytic_code = fields.String()
    contribution_rate = fields.String(metadata={"description": "the rate that applies to this member"})
    # Present only for an accountant of this CAE.
    employee_ref = fields.String()


class AccountantIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class AccountantOut(Schema):
    person_id = fields.Integer()
    cae = fields.String()
    role = fields.String()


class RouteIn(Schema):
    route = fields.String(required=True, validate=validate.OneOf(PAYOUT_ROUTES))
    cae = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class RouteOut(Schema):
    commons = fields.String()
    person_id = fields.Integer()
    route = fields.String()
    cae = fields.String(allow_none=True)
    contract_type = fields.String(allow_none=True)
    warnings = fields.List(fields.String())


class PayoutLineOut(Schema):
    person_id = fields.Integer()
    public_name = fields.String()
    amount_cents = fields.Integer()
    cae_contribution_cents = fields.Integer()
    salary_budget_cents = fields.Integer()


class BatchOut(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    commons = fields.String()
    route = fields.String()
    cae = fields.String(allow_none=True)
    state = fields.String()
    total_cents = fields.Integer()
    exported_at = UtcDateTime(allow_none=True)
    paid_at = UtcDateTime(allow_none=True)
    paid_transaction_id = fields.Integer(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    bank_reference = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(PayoutLineOut))


class PaidIn(Schema):
    paid_on = fields.Date(required=True, metadata={"description": "The day the payment left the bank."})
    bank_reference = fields.String(
        required=True,
        # Its length and characters are checked by batches.mark_paid, for the page as well.
        metadata={
            "description": f"The bank's reference of the transfer (at most {batch_service.BANK_REFERENCE_MAX} printable characters)."
        },
    )


class ReconciliationQuery(Schema):
    late_after_days = fields.Integer(
        load_default=reconciliation.DEFAULT_LATE_AFTER_DAYS, validate=validate.Range(min=0, max=3650)
    )


class ReconciliationOut(Schema):
    scope = fields.Dict()
    late_after_days = fields.Integer()
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())
    late = fields.List(fields.Integer())
    batches = fields.List(fields.Dict())
    differences = fields.List(fields.Dict())


class PeriodQuery(Schema):
    period = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be a month as YYYY-MM")
    )


class InvoiceLineOut(Schema):
    batch_id = fields.Integer()
    round_id = fields.Integer()
    commons = fields.String()
    commons_name = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    amount_cents = fields.Integer()
    state = fields.String()


class InvoiceSummaryOut(Schema):
    period = fields.String(allow_none=True)
    total_cents = fields.Integer()
    unpaid_cents = fields.Integer()
    lines = fields.List(fields.Nested(InvoiceLineOut))


def member_view(member, viewer: Person) -> dict:
    view = {
        "id": member.id,
        "person_id": member.person_id,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "contract_type": member.contract_type,
        "analytic_code": member.analytic_code,
        "contribution_rate": service.member_contribution_rate(member.cae, member),
    }
    if service.is_accountant(viewer, member.cae):
        view["employee_ref"] = service.employee_ref(member)
    return view


def route_view(choice: service.RouteChoice) -> dict:
    return {
        "commons": choice.membership.commons.slug,
        "person_id": choice.membership.person_id,
        "route": choice.membership.payout_route,
        "cae": choice.cae.code if choice.cae else None,
        "contract_type": choice.contract_type,
        "warnings": choice.warnings,
    }


def batch_view(batch: PayoutBatch) -> dict:
    round_ = db.session.get(Round, batch.round_id)
    cae = db.session.get(Cae, batch.cae_id) if batch.cae_id else None
    return {
        "id": batch.id,
        "round_id": batch.round_id,
        "commons": round_.commons.slug,
        "route": batch.route,
        "cae": cae.code if cae else None,
        "state": batch.state,
        "total_cents": batch_service.batch_total(batch),
        "exported_at": batch.exported_at,
        "paid_at": batch.paid_at,
        "paid_transaction_id": batch.paid_transaction_id,
        "paid_on": batch.paid_on,
        "bank_reference": batch.bank_reference,
        "lines": [
            {
                "person_id": line.person_id,
                "public_name": db.session.get(Person, line.person_id).public_name,
                "amount_cents": line.amount_cents,
                "cae_contribution_cents": line.cae_contribution_cents,
                "salary_budget_cents": line.salary_budget_cents,
            }
            for line in batch.lines
        ],
    }


def require_batch_view(person: Person, batch: PayoutBatch) -> None:
    """The batch's CAE accountant, a steward of its commons, or an admin."""
    if person.is_admin or (batch.cae_id and service.is_accountant(person, db.session.get(Cae, batch.cae_id))):
        return
    if not commons_service.can_steward(db.session.get(Round, batch.round_id).commons, person):
        raise Forbidden(_l("Only the CAE's accountant or a steward of the commons may see this batch."))


@blp.route("/caes")
class CaeCollection(MethodView):
    @public
    @blp.response(200, CaeOut(many=True))
    def get(self):
        """The CAEs of this installation (organisations: public)."""
        return db.session.scalars(select(Cae).order_by(Cae.code)).all()

    @idempotent
    @blp.arguments(CaeIn)
    @blp.response(201, CaeOut)
    def post(self, data):
        """Create a CAE. Admins only."""
        require_admin()
        return service.create_cae(data["code"], data["name"], data["contribution_rate"], data["employer_rate"])


@blp.route("/caes/<code>")
class CaeItem(MethodView):
    @public
    @blp.response(200, CaeOut)
    def get(self, code):
        """One CAE."""
        return service.get_cae(code)


@blp.route("/caes/<code>/members")
class CaeMembers(MethodView):
    @blp.response(200, CaeMemberOut(many=True))
    def get(self, code):
        """The CAE's members; employee references only for the CAE's own accountant."""
        cae, person = service.get_cae(code), require_person()
        service.require_cae_access(person, cae)
        return [member_view(m, person) for m in service.cae_members(cae)]

    @idempotent
    @blp.arguments(CaeMemberIn)
    @blp.response(201, CaeMemberOut)
    def post(self, data, code):
        """Add a person to the CAE with their employee reference (encrypted at rest) and contract type."""
        cae, person = service.get_cae(code), require_person()
        service.require_cae_access(person, cae)
        member = service.add_cae_member(
            cae,
            data["email"],
            data["employee_ref"],
            data["contract_type"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            analytic_code=data["analytic_code"],
            contribution_rate=None if data["contribution_rate"] is None else str(data["contribution_rate"]),
        )
        return member_view(member, person)


@blp.route("/caes/<code>/accountants")
class CaeAccountants(MethodView):
    @idempotent
    @blp.arguments(AccountantIn)
    @blp.response(201, AccountantOut)
    def post(self, data, code):
        """Make a person accountant of this CAE. Admins only."""
        require_admin()
        cae = service.get_cae(code)
        role = service.grant_accountant(cae, data["email"])
        return {"person_id": role.person_id, "cae": cae.code, "role": role.role}


@blp.route("/caes/<code>/batches")
class CaeBatches(MethodView):
    @blp.response(200, BatchOut(many=True))
    def get(self, code):
        """The CAE's payout batches, oldest first. The CAE's accountant (or an admin) only."""
        cae = service.get_cae(code)
        service.require_cae_access(require_person(), cae)
        rows = db.session.scalars(
            select(PayoutBatch).where(PayoutBatch.route == "cae", PayoutBatch.cae_id == cae.id).order_by(PayoutBatch.id)
        )
        return [batch_view(b) for b in rows]


@blp.route("/caes/<code>/reconciliation")
class CaeReconciliation(MethodView):
    @blp.arguments(ReconciliationQuery, location="query")
    @blp.response(200, ReconciliationOut)
    def get(self, query, code):
        """Finalized vs exported vs paid for this CAE, what is late and what differs from the ledger."""
        cae = service.get_cae(code)
        service.require_cae_access(require_person(), cae)
        return reconciliation.for_cae(cae, query["late_after_days"]).as_dict()


@blp.route("/commons/<slug>/members/<int:person_id>/route")
class MemberRoute(MethodView):
    @blp.response(200, RouteOut)
    def get(self, slug, person_id):
        """A member's payout route in this commons (the person themself or a steward)."""
        commons, person = commons_service.get_commons(slug), require_person()
        if person.id != person_id:
            commons_service.require_role(commons, person, "steward")
        member = db.session.scalar(
            select(Membership).where(Membership.commons_id == commons.id, Membership.person_id == person_id)
        )
        if member is None:
            raise NotFound(_l("Person %(person_id)s is not a member of %(commons)s.", person_id=person_id, commons=commons.name))
        return route_view(service.route_view(member))

    @blp.arguments(RouteIn)
    @blp.response(200, RouteOut)
    def put(self, data, slug, person_id):
        """Choose where this member's retributions go: `cae` (with the CAE's code), `invoice`, `waive` or `fund`."""
        commons = commons_service.get_commons(slug)
        return route_view(service.set_route(commons, person_id, data["route"], data["cae"], require_person()))


@blp.route("/commons/<slug>/payout-batches")
class CommonsBatches(MethodView):
    @blp.response(200, BatchOut(many=True))
    def get(self, slug):
        """The payout batches of the commons' rounds. Stewards only."""
        commons = commons_service.get_commons(slug)
        commons_service.require_role(commons, require_person(), "steward")
        rows = db.session.scalars(
            select(PayoutBatch)
            .join(Round, Round.id == PayoutBatch.round_id)
            .where(Round.commons_id == commons.id)
            .order_by(PayoutBatch.id)
        )
        return [batch_view(b) for b in rows]


@blp.route("/commons/<slug>/reconciliation")
class CommonsReconciliation(MethodView):
    @blp.arguments(ReconciliationQuery, location="query")
    @blp.response(200, ReconciliationOut)
    def get(self, query, slug):
        """Finalized vs exported vs paid for this commons, what is late and what differs. Stewards only."""
        commons = commons_service.get_commons(slug)
        commons_service.require_role(commons, require_person(), "steward")
        return reconciliation.for_commons(commons, query["late_after_days"]).as_dict()


@blp.route("/payout-batches/<int:batch_id>")
class BatchItem(MethodView):
    @blp.response(200, BatchOut)
    def get(self, batch_id):
        """One payout batch and its lines."""
        batch = batch_service.get_batch(batch_id)
        require_batch_view(require_person(), batch)
        return batch_view(batch)


@blp.route("/payout-batches/<int:batch_id>/paid")
class BatchPaid(MethodView):
    @idempotent
    @blp.arguments(PaidIn)
    @blp.response(200, BatchOut)
    def post(self, data, batch_id):
        """Mark a batch paid (the CAE's accountant for `cae`, a steward for `invoice`): writes its ledger payment."""
        batch = batch_service.get_batch(batch_id)
        return batch_view(batch_service.mark_paid(batch, require_person(), data["paid_on"], data["bank_reference"]))


@blp.route("/me/payout-routes")
class MyRoutes(MethodView):
    @blp.response(200, RouteOut(many=True))
    def get(self):
        """My payout route in each commons I belong to."""
        person = require_person()
        rows = db.session.scalars(select(Membership).where(Membership.person_id == person.id).order_by(Membership.id))
        return [route_view(service.route_view(m)) for m in rows]


@blp.route("/me/invoice-summary")
class MyInvoiceSummary(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, InvoiceSummaryOut)
    def get(self, query):
        """What I may invoice (the `invoice` route), per commons and round; optionally for one month."""
        return invoice_summary(require_person(), query["period"])
