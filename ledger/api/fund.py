"""The solidarity fund: public figures and flows, donations, and its versioned rules."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate

from ledger.api import fields
from ledger.api.fields import Cents, Rate, UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.commons.service import get_commons
from ledger.extensions import db
from ledger.fund import service
from ledger.people.auth import public, require_person
from ledger.people.models import Person
from ledger.versions import version_state

blp = Blueprint("fund", __name__, url_prefix="/api/v1/solidarity-fund", description="The installation's solidarity fund")


class FundRulesIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    topup_ratio = Rate(required=True)
    per_person_cap_cents = Cents(required=True, minimum=1, allow_none=True, metadata={"description": "null for no cap"})
    effective_from = fields.Date()


class FundRulesOut(Schema):
    version = fields.Integer()
    author = fields.String()
    reason = fields.String()
    effective_from = fields.Date()
    topup_ratio = fields.String()
    per_person_cap_cents = fields.Integer(allow_none=True)
    state = fields.String(metadata={"description": "in_force (applies today), scheduled (its date is to come) or superseded"})


class FlowOut(Schema):
    transaction_id = fields.Integer()
    kind = fields.String()
    date = fields.Date()
    round_id = fields.Integer(allow_none=True)
    commons_id = fields.Integer(allow_none=True)
    amount_cents = fields.Integer(metadata={"description": "positive: money in; negative: a top-up owed"})


class FundOut(Schema):
    balance_cents = fields.Integer()
    available_cents = fields.Integer(
        metadata={"description": "balance minus the top-ups owed and not yet paid: the dashboard's Solde"}
    )
    owed_cents = fields.Integer()
    levies_cents = fields.Integer()
    donations_cents = fields.Integer()
    topups_cents = fields.Integer()
    rules = fields.Nested(FundRulesOut)
    flows = fields.List(fields.Nested(FlowOut))


class DonationIn(Schema):
    amount_cents = Cents(required=True, minimum=1)
    donor = fields.String(required=True, validate=validate.Length(min=1, max=160))
    date = fields.Date(required=True)


class DonationOut(Schema):
    id = fields.Integer()
    amount_cents = fields.Integer()
    donor = fields.String()
    date = fields.Date(attribute="received_on")
    transaction_id = fields.Integer()


class FundStatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("admitted", "suspended")))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class FundCommonsOut(Schema):
    slug = fields.String()
    name = fields.String()
    fund_status = fields.String(metadata={"description": "pending, admitted or suspended: only admitted commons get top-ups"})
    fund_status_reason = fields.String(allow_none=True)
    fund_status_at = UtcDateTime(allow_none=True)


def rules_view(rules) -> dict:
    author = db.session.get(Person, rules.author_id) if rules.author_id else None
    return {
        "version": rules.version,
        "author": author.public_name if author else "",
        "reason": rules.reason,
        "effective_from": rules.effective_from,
        "topup_ratio": rules.topup_ratio,
        "per_person_cap_cents": rules.per_person_cap_cents,
        "state": version_state(rules, service.fund_rules_in_force()),
    }


@blp.route("")
class Fund(MethodView):
    @public
    @blp.response(200, FundOut)
    def get(self):
        """Balance, what it can still promise, levies, donations, top-ups, rules in force and recent flows (public)."""
        summary = service.fund_summary()
        return vars(summary) | {"rules": rules_view(summary.rules)}


@blp.route("/donations")
class Donations(MethodView):
    @idempotent
    @blp.arguments(DonationIn)
    @blp.response(201, DonationOut)
    def post(self, data):
        """Record a donation received by the fund (fund manager or administrator)."""
        person = service.require_fund_manager(require_person())
        return service.donate(
            amount_cents=data["amount_cents"], donor=data["donor"], received_on=data["date"], recorded_by=person
        )


@blp.route("/rules")
class FundRules(MethodView):
    @public
    @blp.response(200, FundRulesOut(many=True))
    def get(self):
        """Every version of the fund's rules, oldest first (public)."""
        return [rules_view(r) for r in service.fund_rules_history()]

    @idempotent
    @blp.arguments(FundRulesIn)
    @blp.response(201, FundRulesOut)
    def post(self, data):
        """A new version of the fund's rules (fund manager or administrator)."""
        person = service.require_fund_manager(require_person())
        return rules_view(
            service.new_fund_rules(
                person,
                reason=data["reason"],
                topup_ratio=data["topup_ratio"],
                per_person_cap_cents=data["per_person_cap_cents"],
                effective_from=data.get("effective_from"),
            )
        )


@blp.route("/commons")
class FundCommons(MethodView):
    @public
    @blp.response(200, FundCommonsOut(many=True))
    def get(self):
        """Every commons and its standing with the fund: pending, admitted or suspended (public)."""
        return service.fund_commons()


@blp.route("/commons/<slug>")
class FundCommonsItem(MethodView):
    @blp.arguments(FundStatusIn)
    @blp.response(200, FundCommonsOut)
    def put(self, data, slug):
        """Admit a commons to the fund, or suspend it, with a reason (fund manager or administrator)."""
        person = service.require_fund_manager(require_person())
        return service.set_fund_status(get_commons(slug), data["status"], reason=data["reason"], actor=person)
