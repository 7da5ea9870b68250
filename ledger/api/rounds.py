"""Retribution rounds: creation, lifecycle, allocation preview, recomputation and simulation."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy import select

from ledger.api import fields
from ledger.api.fields import Cents, Hours, UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.api.rules import RuleSettings
from ledger.commons import service as commons_service
from ledger.contributions.models import Contribution
from ledger.errors import Conflict
from ledger.extensions import db
from ledger.people.auth import current_person, require_person
from ledger.people.models import Person
from ledger.rounds import lifecycle, participation, service
from ledger.rounds.allocation.words import render
from ledger.rounds.models import AllocationLine, Round
from ledger.rounds.participation import PEER_POINTS

blp = Blueprint("rounds", __name__, url_prefix="/api/v1", description="Retribution rounds and their allocation")


class RoundIn(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    envelope_cents = Cents(required=True, minimum=0)
    reason = fields.String(
        validate=validate.Length(max=2000),
        metadata={"description": "why, for a round shorter than a week (only under the manual cadence)"},
    )


class RoundOut(Schema):
    id = fields.Integer()
    commons = fields.String(attribute="commons.slug")
    state = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    envelope_cents = fields.Integer()
    period_reason = fields.String(allow_none=True)
    rule_version = fields.Integer(attribute="rule_version.version")
    review_starts_on = fields.Date()
    allocation_on = fields.Date()
    created_at = UtcDateTime()
    review_at = UtcDateTime(allow_none=True)
    allocated_at = UtcDateTime(allow_none=True)
    finalized_at = UtcDateTime(allow_none=True)
    paid_at = UtcDateTime(allow_none=True)
    history = fields.Method("get_history", metadata={"description": "Every step, oldest first, with its reason if early."})

    def get_history(self, round_):
        return [RoundEventOut().dump(event) for event in lifecycle.history(round_)]


class RoundEventOut(Schema):
    from_state = fields.String()
    to_state = fields.String()
    actor_id = fields.Integer(allow_none=True)
    early = fields.Boolean()
    reason = fields.String(allow_none=True)
    at = UtcDateTime()


class AdvanceIn(Schema):
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=lifecycle.REASON_MAX),
        metadata={"description": "Why the round moves before its current window ends; required then."},
    )


class LineOut(Schema):
    person_id = fields.Integer()
    public_name = fields.String()
    hours = Hours()
    weighted_hours = fields.String()
    claim_cents = fields.Integer()
    gross_cents = fields.Integer()
    levy_cents = fields.Integer()
    topup_cents = fields.Integer()
    net_cents = fields.Integer()
    route = fields.String()
    cae_id = fields.Integer(allow_none=True)
    cae_contribution_cents = fields.Integer()
    salary_budget_cents = fields.Integer()
    explanation = fields.String()


class CarriedOut(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    date = fields.Date()
    hours = Hours()
    category = fields.String()
    round_id = fields.Integer(allow_none=True, metadata={"description": "the round it moved to (null: the next one created)"})


class AllocationOut(Schema):
    round_id = fields.Integer()
    state = fields.String()
    simulated = fields.Boolean()
    method = fields.String()
    envelope_cents = fields.Integer()
    rule_version = fields.Integer(allow_none=True)
    claims_cents = fields.Integer()
    distributed_cents = fields.Integer()
    left_in_treasury_cents = fields.Integer()
    levies_cents = fields.Integer()
    topups_cents = fields.Integer()
    lines = fields.List(fields.Nested(LineOut))
    carried_over = fields.List(fields.Nested(CarriedOut))


class SelfRequestIn(Schema):
    amount_cents = Cents(required=True, minimum=0)


class SelfRequestOut(Schema):
    person_id = fields.Integer()
    public_name = fields.String()
    amount_cents = fields.Integer()


class PeerPointsIn(Schema):
    points = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,12}$")),
        values=fields.Integer(strict=True, validate=validate.Range(1, PEER_POINTS)),
        required=True,
    )


def allocation_view(round_: Round, lines: list, *, method: str, rule_version: int | None, simulated: bool, carried: list) -> dict:
    """The SPEC 4.2 shape, from stored lines or from a simulation's lines alike."""
    names = {p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_([l.person_id for l in lines])))}
    me = current_person()
    out = []
    for line in lines:
        steps = line.steps if hasattr(line, "steps") else line.explanation
        # The caller's own line in the second person, the others' about them (as on the round page).
        about = None if me is not None and line.person_id == me.id else names.get(line.person_id, "")
        out.append(
            {name: getattr(line, name) for name in LineOut._declared_fields if name not in ("public_name", "explanation")}
            | {"public_name": names.get(line.person_id, ""), "explanation": render(steps, about)}
        )
    distributed = sum(line.gross_cents for line in lines)
    return {
        "round_id": round_.id,
        "state": round_.state,
        "simulated": simulated,
        "method": method,
        "envelope_cents": round_.envelope_cents,
        "rule_version": rule_version,
        "claims_cents": sum(line.claim_cents for line in lines),
        "distributed_cents": distributed,
        "left_in_treasury_cents": round_.envelope_cents - distributed,
        "levies_cents": sum(line.levy_cents for line in lines),
        "topups_cents": sum(line.topup_cents for line in lines),
        "lines": out,
        "carried_over": carried,
    }


def stored_allocation(round_: Round) -> dict:
    lines = db.session.scalars(
        select(AllocationLine).where(AllocationLine.round_id == round_.id).order_by(AllocationLine.person_id)
    ).all()
    return allocation_view(
        round_,
        lines,
        method=round_.rule_version.allocation_method,
        rule_version=round_.rule_version.version,
        simulated=False,
        carried=service.carried_over_from(round_),
    )


def require_member(round_: Round, person: Person, *roles: str):
    return commons_service.require_role(round_.commons, person, *(roles or ("contributor", "member", "steward")))


@blp.route("/commons/<slug>/rounds")
class CommonsRounds(MethodView):
    @blp.response(200, RoundOut(many=True))
    def get(self, slug):
        """The commons' rounds, latest period first (public)."""
        commons = commons_service.get_commons(slug)
        return db.session.scalars(select(Round).where(Round.commons_id == commons.id).order_by(Round.period_start.desc())).all()

    @idempotent
    @blp.arguments(RoundIn)
    @blp.response(201, RoundOut)
    def post(self, data, slug):
        """Open a round (stewards only): it pins the current rules and adopts the waiting contributions."""
        commons = commons_service.get_commons(slug)
        person = require_person()
        commons_service.require_role(commons, person, "steward")
        return service.create_round(commons, created_by=person, **data)


@blp.route("/rounds/<int:round_id>")
class RoundItem(MethodView):
    @blp.response(200, RoundOut)
    def get(self, round_id):
        """A round: its state, period, envelope, pinned rule version and transition dates (public)."""
        return service.get_round(round_id)


@blp.route("/rounds/<int:round_id>/advance")
class Advance(MethodView):
    @blp.arguments(AdvanceIn, required=False)
    @blp.response(200, RoundOut)
    def post(self, data, round_id):
        """Move the round one state on (stewards only). After finalization, 409 and nothing written.

        Before the declaration (or review) window ends, a `reason` is required (422 otherwise);
        it is kept in the round's history.
        """
        round_ = service.get_round(round_id)
        person = require_person()
        require_member(round_, person, "steward")
        return lifecycle.advance(round_, person, (data or {}).get("reason"))


@blp.route("/rounds/<int:round_id>/allocation")
class AllocationItem(MethodView):
    @blp.response(200, AllocationOut)
    def get(self, round_id):
        """The allocation with each person's explanation (members of the commons). Public names only."""
        round_ = service.get_round(round_id)
        require_member(round_, require_person())
        if round_.state in ("open", "review"):
            raise Conflict(
                f"Round {round_id} is {round_.state}: its allocation is computed at 'allocated'. "
                "A steward can simulate it with POST /what-if.",
                code="not_allocated",
            )
        return stored_allocation(round_)


@blp.route("/rounds/<int:round_id>/recompute")
class Recompute(MethodView):
    @blp.response(200, AllocationOut)
    def post(self, round_id):
        """Pin the latest rule version and compute the preview again (stewards, while allocated)."""
        round_ = service.get_round(round_id)
        require_member(round_, require_person(), "steward")
        service.recompute(round_)
        return stored_allocation(round_)


@blp.route("/rounds/<int:round_id>/what-if")
class WhatIf(MethodView):
    @blp.arguments(RuleSettings)
    @blp.response(200, AllocationOut)
    def post(self, overrides, round_id):
        """What the round would give under its rules changed by the payload. Writes nothing."""
        round_ = service.get_round(round_id)
        require_member(round_, require_person(), "steward")
        allocation, outcome = service.what_if(round_, overrides)
        carried = db.session.scalars(select(Contribution).where(Contribution.id.in_(outcome.carried_over))).all()
        view = allocation_view(
            round_,
            allocation.lines,
            method=allocation.method,
            rule_version=None,
            simulated=True,
            carried=[
                {
                    "id": c.id,
                    "person_id": c.person_id,
                    "date": c.date,
                    "hours": c.hours,
                    "category": c.category,
                    "round_id": c.round_id,
                }
                for c in carried
            ],
        )
        return view


@blp.route("/rounds/<int:round_id>/self-requests")
class SelfRequests(MethodView):
    @blp.response(200, SelfRequestOut(many=True))
    def get(self, round_id):
        """What each person asks for (the `self` method): seen by all the commons' members."""
        round_ = service.get_round(round_id)
        require_member(round_, require_person())
        rows = participation.self_requests(round_)
        names = {
            p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_([r.person_id for r in rows])))
        }
        return [{"person_id": r.person_id, "public_name": names[r.person_id], "amount_cents": r.amount_cents} for r in rows]

    @blp.arguments(SelfRequestIn)
    @blp.response(200, SelfRequestOut)
    def put(self, data, round_id):
        """State (or change) the amount you ask for, while the round is open or in review."""
        person = require_person()
        request = participation.state_request(service.get_round(round_id), person, data["amount_cents"])
        return {"person_id": person.id, "public_name": person.public_name, "amount_cents": request.amount_cents}


@blp.route("/rounds/<int:round_id>/peer-points")
class PeerPointsItem(MethodView):
    @blp.arguments(PeerPointsIn)
    @blp.response(200, PeerPointsIn)
    def put(self, data, round_id):
        """Share your 100 points among others' contributions of the round (members, during review).

        Replaces your previous sharing. Your own contributions cannot receive your points.
        """
        given = participation.give_points(
            service.get_round(round_id), require_person(), {int(k): v for k, v in data["points"].items()}
        )
        return {"points": {str(k): v for k, v in given.items()}}
