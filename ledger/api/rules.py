"""A commons' rules: every change a new public version with author, reason and effective date."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, validate

from ledger.api import fields
from ledger.api.fields import Cents, Rate, UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.commons import service as commons_service
from ledger.extensions import db
from ledger.governance.procedure import require_direct_change_allowed
from ledger.people.auth import public, require_person
from ledger.rounds.models import ALLOCATION_METHODS, CADENCES, DECISION_PROCEDURES, OBJECTION_PROCEDURES
from ledger.rounds.rules import RULE_FIELDS, latest_rules, propose_rules, rules_changes, rules_history, rules_in_force
from ledger.timeutil import today
from ledger.versions import version_state

blp = Blueprint("rules", __name__, url_prefix="/api/v1/commons", description="Versioned rules of a commons")

MAX_WEIGHT = Decimal(10)


class Weight(fields.Field):
    """A category weight: a decimal between 0 and 10 with at most 4 decimals ("1.5")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "example": "1.5"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(_('must be a decimal such as "1.5"'))
        try:
            weight = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValidationError(_('must be a decimal such as "1.5"')) from exc
        if not weight.is_finite() or not 0 <= weight <= MAX_WEIGHT:
            raise ValidationError(_("must be between 0 and %(max)s", max=MAX_WEIGHT))
        if weight != weight.quantize(Decimal("0.0001")):
            raise ValidationError(_("has at most four decimal places"))
        return weight


class RuleSettings(Schema):
    """The settings of a version; any left out keep the previous version's value."""

    cadence = fields.String(validate=validate.OneOf(CADENCES))
    declaration_days = fields.Integer(strict=True, validate=validate.Range(0, 60))
    review_days = fields.Integer(strict=True, validate=validate.Range(0, 60))
    allocation_method = fields.String(validate=validate.OneOf(ALLOCATION_METHODS))
    hourly_value_cents = Cents(minimum=0, maximum=100_000)
    cap_cents = Cents(minimum=1, allow_none=True, metadata={"description": "null for no cap"})
    category_weights = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)), values=Weight())
    min_vouches = fields.Integer(strict=True, validate=validate.Range(0, 50))
    objection_procedure = fields.String(validate=validate.OneOf(OBJECTION_PROCEDURES))
    quorum = Rate()
    levy_rate = Rate()
    hybrid_time_weight = Rate()
    weekly_hours_threshold = fields.Integer(strict=True, validate=validate.Range(1, 168))
    decision_procedure = fields.String(validate=validate.OneOf(DECISION_PROCEDURES))
    majority = Rate()
    decision_days = fields.Integer(strict=True, validate=validate.Range(1, 90))
    late_periods = fields.Integer(
        strict=True,
        # The bound (0 to 12) is the service's (rounds.rules.stored_settings), shared with the pages.
        metadata={"description": "how many periods back work may still be declared late (1: the previous period), 0 to 12"},
    )


class RulesIn(RuleSettings):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    effective_from = fields.Date()


class ChangeOut(Schema):
    field = fields.String()
    before = fields.Raw()
    after = fields.Raw()


class RulesOut(Schema):
    version = fields.Integer()
    author_id = fields.Integer()
    author = fields.String()
    reason = fields.String()
    effective_from = fields.Date()
    created_at = UtcDateTime()
    cadence = fields.String()
    declaration_days = fields.Integer()
    review_days = fields.Integer()
    allocation_method = fields.String()
    hourly_value_cents = fields.Integer()
    cap_cents = fields.Integer(allow_none=True)
    category_weights = fields.Dict(keys=fields.String(), values=fields.String())
    min_vouches = fields.Integer()
    objection_procedure = fields.String()
    quorum = fields.String()
    levy_rate = fields.String()
    hybrid_time_weight = fields.String()
    weekly_hours_threshold = fields.Integer()
    decision_procedure = fields.String()
    majority = fields.String()
    decision_days = fields.Integer()
    late_periods = fields.Integer()
    state = fields.String(metadata={"description": "in_force (applies today), scheduled (its date is to come) or superseded"})
    changes = fields.List(fields.Nested(ChangeOut))


def rules_view(version, previous=None) -> dict:
    from ledger.people.models import Person

    view = {name: getattr(version, name) for name in RULE_FIELDS}
    author = db.session.get(Person, version.author_id)
    view.update(
        version=version.version,
        author_id=version.author_id,
        author=author.public_name if author else "",
        reason=version.reason,
        effective_from=version.effective_from,
        created_at=version.created_at,
        state=version_state(version, rules_in_force(version.commons_id)),
        changes=[{"field": f, "before": b, "after": a} for f, b, a in rules_changes(previous, version)],
    )
    return view


@blp.route("/<slug>/rules")
class Rules(MethodView):
    @public
    @blp.response(200, RulesOut(many=True))
    def get(self, slug):
        """The full public history of the commons' rules, oldest first, with what each version changed."""
        commons = commons_service.get_commons(slug)
        history = rules_history(commons.id)
        return [rules_view(v, history[i - 1] if i else None) for i, v in enumerate(history)]

    @idempotent
    @blp.arguments(RulesIn)
    @blp.response(201, RulesOut)
    def post(self, data, slug):
        """Record a new version of the rules (stewards, only while the rules name the `steward` procedure;
        otherwise make a proposal); unset fields keep their value."""
        commons = commons_service.get_commons(slug)
        person = require_person()
        commons_service.require_role(commons, person, "steward")
        require_direct_change_allowed(commons)
        previous = latest_rules(commons.id)
        version = propose_rules(commons, person, data.pop("reason"), data.pop("effective_from", None) or today(), data)
        return rules_view(version, previous)
