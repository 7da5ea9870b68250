"""Commons, members and income."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy import select

from ledger.accounts import chart
from ledger.accounts.service import balance
from ledger.api import fields
from ledger.api.fields import Cents
from ledger.api.idempotency import idempotent
from ledger.commons import service
from ledger.commons.models import INCOME_SOURCES, ROLES, Income, Membership
from ledger.extensions import db
from ledger.people.auth import public, require_person
from ledger.rounds.rules import rules_in_force

blp = Blueprint("commons", __name__, url_prefix="/api/v1/commons", description="Commons, their members and income")


class CommonsIn(Schema):
    slug = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    steward_email = fields.Email(
        validate=validate.Length(max=254), metadata={"description": "the first steward (default: the administrator creating it)"}
    )
    started_on = fields.Date(
        metadata={"description": "nothing of the commons may be dated earlier (default: this month's first day)"}
    )


class MemberOut(Schema):
    person_id = fields.Integer()
    public_name = fields.String()
    role = fields.String()


class CommonsOut(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    treasury_cents = fields.Integer()
    rule_version = fields.Integer(allow_none=True)
    started_on = fields.Date()
    fund_status = fields.String(metadata={"description": "pending, admitted or suspended: only admitted commons get top-ups"})
    member_count = fields.Integer()
    members = fields.List(fields.Nested(MemberOut))


class MemberIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MembershipOut(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    role = fields.String()
    payout_route = fields.String()


class IncomeIn(Schema):
    amount_cents = Cents(required=True, minimum=1)
    source = fields.String(required=True, validate=validate.OneOf(INCOME_SOURCES))
    funder = fields.String(required=True, validate=validate.Length(min=1, max=160))
    date = fields.Date(required=True)
    earmark = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=160))


class IncomeOut(Schema):
    id = fields.Integer()
    amount_cents = fields.Integer()
    source = fields.String()
    funder = fields.String()
    date = fields.Date(attribute="received_on")
    earmark = fields.String(allow_none=True)
    transaction_id = fields.Integer()


def commons_view(commons) -> dict:
    """Public view: members appear under the name they agreed to show."""
    rules = rules_in_force(commons.id)
    members = db.session.scalars(select(Membership).where(Membership.commons_id == commons.id).order_by(Membership.id)).all()
    return {
        "id": commons.id,
        "slug": commons.slug,
        "name": commons.name,
        "description": commons.description,
        "treasury_cents": balance(chart.commons_treasury(commons).code),
        "rule_version": rules.version if rules else None,
        "started_on": commons.started_on,
        "fund_status": commons.fund_status,
        "member_count": len(members),
        "members": [{"person_id": m.person_id, "public_name": m.person.public_name, "role": m.role} for m in members],
    }


@blp.route("")
class CommonsCollection(MethodView):
    @public
    @blp.response(200, CommonsOut(many=True))
    def get(self):
        """List the commons of this installation."""
        from ledger.commons.models import Commons

        return [commons_view(c) for c in db.session.scalars(select(Commons).order_by(Commons.name))]

    @idempotent
    @blp.arguments(CommonsIn)
    @blp.response(201, CommonsOut)
    def post(self, data):
        """Create a commons (installation administrators only); its first steward is the creator or `steward_email`.

        A new commons is not admitted to the solidarity fund until the fund manager admits it.
        """
        creator = service.require_installation_admin(require_person())
        steward = service.find_steward(data["steward_email"]) if data.get("steward_email") else None
        commons = service.create_commons(
            data["slug"], data["name"], data["description"], creator, steward=steward, started_on=data.get("started_on")
        )
        return commons_view(commons)


@blp.route("/<slug>")
class CommonsItem(MethodView):
    @public
    @blp.response(200, CommonsOut)
    def get(self, slug):
        """A commons, its treasury balance, rule version and members (public names only)."""
        return commons_view(service.get_commons(slug))


@blp.route("/<slug>/members")
class Members(MethodView):
    @idempotent
    @blp.arguments(MemberIn)
    @blp.response(201, MembershipOut)
    def post(self, data, slug):
        """Add a person (by email) to the commons with a role. Stewards only."""
        commons = service.get_commons(slug)
        service.require_role(commons, require_person(), "steward")
        return service.add_member(commons, data["email"], data["role"])


@blp.route("/<slug>/income")
class IncomeCollection(MethodView):
    @public
    @blp.response(200, IncomeOut(many=True))
    def get(self, slug):
        """Income received by the commons (public: funders are organisations, not people)."""
        commons = service.get_commons(slug)
        return db.session.scalars(
            select(Income).where(Income.commons_id == commons.id).order_by(Income.received_on, Income.id)
        ).all()

    @idempotent
    @blp.arguments(IncomeIn)
    @blp.response(201, IncomeOut)
    def post(self, data, slug):
        """Record money received by the commons: one balanced ledger transaction. Stewards only."""
        commons = service.get_commons(slug)
        person = require_person()
        service.require_role(commons, person, "steward")
        return service.record_income(
            commons,
            amount_cents=data["amount_cents"],
            source=data["source"],
            funder=data["funder"],
            received_on=data["date"],
            earmark=data["earmark"],
            recorded_by=person,
        )
