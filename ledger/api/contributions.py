"""Contributions: declare, list, edit and withdraw (SPEC 4.2)."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, validate

from ledger.api import fields
from ledger.api.fields import Hours, Id, UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.commons.service import get_commons
from ledger.contributions import service
from ledger.contributions.models import Contribution, ContributionStatus
from ledger.contributions.status import DISPLAY_STATUSES
from ledger.contributions.validation import EVIDENCE_MAX, Draft
from ledger.database import end_write_phase
from ledger.errors import Forbidden, NotFound, ValidationFailed, field_error
from ledger.people.auth import require_person
from ledger.people.models import Person

blp = Blueprint(
    "contributions",
    __name__,
    url_prefix="/api/v1/contributions",
    description="Contributions: time given to a commons, declared by the person who gave it",
)

# Generous bounds at the schema; the service applies the contract's exact ones with clear messages.
TEXT_MAX = 10_000


class ContributionIn(Schema):
    commons = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"description": "slug of the commons"}
    )
    date = fields.Date(required=True)
    hours = Hours(required=True, metadata={"description": "more than 0, at most 24 a day, in steps of 0.25"})
    category = fields.String(required=True, validate=validate.Length(min=1, max=40))
    description = fields.String(
        required=True, validate=validate.Length(max=TEXT_MAX), metadata={"description": "3 to 2000 characters"}
    )
    evidence_url = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=TEXT_MAX),
        metadata={"description": f"http(s) link, at most {EVIDENCE_MAX} characters"},
    )


class ContributionPatch(Schema):
    date = fields.Date()
    hours = Hours()
    category = fields.String(validate=validate.Length(min=1, max=40))
    description = fields.String(validate=validate.Length(max=TEXT_MAX))
    evidence_url = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))


class RoundRef(Schema):
    id = fields.Integer()
    state = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()


class ObjectionBrief(Schema):
    id = fields.Integer()
    state = fields.String()


class ContributionOut(Schema):
    id = fields.Integer()
    commons = fields.String(metadata={"description": "slug of the commons"})
    person_id = fields.Integer()
    person_name = fields.String(metadata={"description": "the name the person agreed to show"})
    date = fields.Date()
    hours = Hours()
    category = fields.String()
    description = fields.String()
    evidence_url = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(DISPLAY_STATUSES)})
    round_id = fields.Integer(allow_none=True)
    round = fields.Nested(RoundRef, allow_none=True, metadata={"description": "null until a round adopts it"})
    carried_from_round_id = fields.Integer(allow_none=True)
    vouch_count = fields.Integer()
    objections = fields.List(fields.Nested(ObjectionBrief))
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class SavedOut(ContributionOut):
    late = fields.Boolean(metadata={"description": "dated in a closed period: it went to the current open round"})
    warnings = fields.List(fields.String(), metadata={"description": "kind notices (weekly hours), never refusals"})


CONTRIBUTION_IN, SAVED_OUT = ContributionIn(), SavedOut()


class ContributionQuery(Schema):
    commons = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "all of this commons' contributions (members only); default: your own"},
    )
    round = Id()
    person = Id(metadata={"description": "with commons: one person's contributions"})
    status = fields.String(validate=validate.OneOf(DISPLAY_STATUSES))
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


def contribution_view(contribution: Contribution, viewer: Person) -> dict:
    """A contribution as the API shows it; other people appear under their public name."""
    round_ = contribution.round
    person = contribution.person
    return {
        "id": contribution.id,
        "commons": contribution.commons.slug,
        "person_id": contribution.person_id,
        "person_name": person.display_name if person.id == viewer.id else person.public_name,
        "date": contribution.date,
        "hours": contribution.hours,
        "category": contribution.category,
        "description": contribution.description,
        "evidence_url": contribution.evidence_url,
        "status": service.status_of(contribution),
        "round_id": contribution.round_id,
        "round": {"id": round_.id, "state": round_.state, "period_start": round_.period_start, "period_end": round_.period_end}
        if round_
        else None,
        "carried_from_round_id": contribution.carried_from_round_id,
        "vouch_count": len(contribution.vouches),
        "objections": [{"id": o.id, "state": o.state} for o in contribution.objections],
        "created_at": contribution.created_at,
        "updated_at": contribution.updated_at,
    }


def saved_view(saved: service.Saved, viewer: Person) -> dict:
    return {**contribution_view(saved.contribution, viewer), "late": saved.late, "warnings": saved.warnings}


def readable_contribution(contribution_id: int, person: Person) -> Contribution:
    contribution = service.get_contribution(contribution_id)
    if not service.can_see(person, contribution):
        raise Forbidden(_l("Only people of this commons can see this contribution."))
    return contribution


def live_contribution(contribution_id: int, person: Person) -> Contribution:
    """A contribution at its own URL: once withdrawn (deleted), it is gone from there (404)."""
    contribution = readable_contribution(contribution_id, person)
    if contribution.status == ContributionStatus.WITHDRAWN:
        raise NotFound(_l("This contribution was withdrawn."))
    return contribution


def _commons_field(slug: str):
    """The commons named in a body or query field; an unknown slug is that field's error."""
    try:
        return get_commons(slug)
    except NotFound as exc:
        raise field_error("commons", _l("no commons with this slug")) from exc


@blp.route("")
class Contributions(MethodView):
    @blp.arguments(ContributionQuery, location="query")
    @blp.response(200, ContributionOut(many=True))
    def get(self, query):
        """Your contributions, or with `commons` those of a commons you belong to, newest first."""
        person = require_person()
        filters = service.Filters(
            commons=_commons_field(query["commons"]) if "commons" in query else None,
            round_id=query.get("round"),
            person_id=query.get("person"),
            status=query.get("status"),
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
            limit=query["limit"],
            offset=query["offset"],
        )
        return [contribution_view(c, person) for c in service.list_contributions(person, filters)]

    # Schema instances built once: webargs would build one per request from a class.
    @idempotent
    @blp.arguments(CONTRIBUTION_IN)
    @blp.response(201, SAVED_OUT)
    def post(self, data):
        """Declare time given to a commons. Send an `Idempotency-Key` header to retry safely."""
        person = require_person()
        commons = _commons_field(data["commons"])
        draft = Draft(
            on=data["date"],
            hours=data["hours"],
            category=data["category"].strip(),
            description=data["description"].strip(),
            evidence_url=(data["evidence_url"] or "").strip() or None,
        )
        saved = service.declare(person, commons, draft)
        end_write_phase()  # the write lock is released before the answer is built
        return saved_view(saved, person)


@blp.route("/<int:contribution_id>")
class ContributionItem(MethodView):
    @blp.response(200, ContributionOut)
    def get(self, contribution_id):
        """One contribution (its author and the people of its commons)."""
        person = require_person()
        return contribution_view(live_contribution(contribution_id, person), person)

    @blp.arguments(ContributionPatch)
    @blp.response(200, SavedOut)
    def patch(self, data, contribution_id):
        """Change your contribution while its round is open; the same checks as a declaration."""
        person = require_person()
        if not data:
            raise ValidationFailed(_l("Nothing to change."), fields={"_schema": [_l("send at least one field")]})
        changes = {("on" if name == "date" else name): value for name, value in data.items()}
        for name in ("category", "description"):
            if name in changes:
                changes[name] = changes[name].strip()
        if "evidence_url" in changes:
            changes["evidence_url"] = (changes["evidence_url"] or "").strip() or None
        contribution = live_contribution(contribution_id, person)
        return saved_view(service.update(contribution, person, changes), person)

    @blp.response(200, ContributionOut, description="The contribution, now withdrawn (the row is kept).")
    def delete(self, contribution_id):
        """Withdraw your contribution while its round is open. Afterwards this URL answers 404; the
        withdrawn contribution stays listed with `GET /contributions?status=withdrawn`."""
        person = require_person()
        contribution = live_contribution(contribution_id, person)
        return contribution_view(service.withdraw(contribution, person), person)
