"""Peer review: vouches, objections, answers, votes, mediation, and what is under review."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy import select

from ledger.api import fields
from ledger.api.contributions import ContributionOut, contribution_view, readable_contribution
from ledger.api.fields import Hours, UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.commons.service import get_commons
from ledger.contributions import peer
from ledger.contributions.models import OBJECTION_STATES, Objection, ObjectionState
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.people.auth import require_person
from ledger.people.models import Person
from ledger.rounds.models import Round

blp = Blueprint("review", __name__, url_prefix="/api/v1", description="Peer control a posteriori: vouches, objections and votes")

TEXT_MAX = 10_000


class VouchOut(Schema):
    contribution_id = fields.Integer()
    person_id = fields.Integer()
    vouch_count = fields.Integer()


class ObjectionIn(Schema):
    reason = fields.String(
        required=True, validate=validate.Length(max=TEXT_MAX), metadata={"description": "3 to 2000 characters"}
    )


class AnswerIn(Schema):
    answer = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX))
    amended_hours = Hours(load_default=None, allow_none=True)


class VoteIn(Schema):
    vote = fields.String(required=True, validate=validate.OneOf(("keep", "reject")))


class ResolveIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("uphold", "dismiss")))
    resolution = fields.String(required=True, validate=validate.Length(max=TEXT_MAX))


class TallyOut(Schema):
    keep = fields.Integer()
    reject = fields.Integer()
    eligible = fields.Integer()


class ObjectionOut(Schema):
    id = fields.Integer()
    contribution_id = fields.Integer()
    objector_id = fields.Integer()
    objector_name = fields.String()
    reason = fields.String()
    state = fields.String(validate=validate.OneOf(OBJECTION_STATES))  # documents the enum
    answer = fields.String(allow_none=True)
    amended_hours = Hours(allow_none=True)
    resolution = fields.String(allow_none=True)
    votes = fields.Nested(TallyOut)
    my_vote = fields.String(allow_none=True)
    created_at = UtcDateTime()
    resolved_at = UtcDateTime(allow_none=True)


class ReviewOut(Schema):
    commons = fields.String()
    round_id = fields.Integer(allow_none=True)
    contributions = fields.List(fields.Nested(ContributionOut))
    open_objections = fields.List(fields.Nested(ObjectionOut))


class ReviewQuery(Schema):
    round = fields.Integer(validate=validate.Range(min=1))


def objection_view(objection: Objection, viewer: Person) -> dict:
    counted = peer.tally(objection)
    mine = next((v for v in objection.votes if v.person_id == viewer.id), None)
    objector = db.session.get(Person, objection.objector_id)
    return {
        "id": objection.id,
        "contribution_id": objection.contribution_id,
        "objector_id": objection.objector_id,
        "objector_name": objector.display_name if objector.id == viewer.id else objector.public_name,
        "reason": objection.reason,
        "state": objection.state,
        "answer": objection.answer,
        "amended_hours": objection.amended_hours,
        "resolution": objection.resolution,
        "votes": {"keep": counted.keep, "reject": counted.reject, "eligible": counted.eligible},
        "my_vote": None if mine is None else ("keep" if mine.keep else "reject"),
        "created_at": objection.created_at,
        "resolved_at": objection.resolved_at,
    }


def _objection(objection_id: int, person: Person) -> Objection:
    objection = peer.get_objection(objection_id)
    peer.require_commons_viewer(objection.contribution.commons, person)
    return objection


@blp.route("/contributions/<int:contribution_id>/vouches")
class Vouches(MethodView):
    @idempotent
    @blp.response(201, VouchOut)
    def post(self, contribution_id):
        """Vouch for someone else's contribution (members and stewards, once each)."""
        person = require_person()
        contribution = readable_contribution(contribution_id, person)
        peer.vouch(contribution, person)
        db.session.refresh(contribution)
        return {"contribution_id": contribution.id, "person_id": person.id, "vouch_count": len(contribution.vouches)}


@blp.route("/contributions/<int:contribution_id>/objections")
class Objections(MethodView):
    @blp.response(200, ObjectionOut(many=True))
    def get(self, contribution_id):
        """Objections to a contribution, with their answers and vote counts."""
        person = require_person()
        contribution = readable_contribution(contribution_id, person)
        return [objection_view(o, person) for o in contribution.objections]

    @idempotent
    @blp.arguments(ObjectionIn)
    @blp.response(201, ObjectionOut)
    def post(self, data, contribution_id):
        """Object to someone else's contribution, with a written reason."""
        person = require_person()
        contribution = readable_contribution(contribution_id, person)
        return objection_view(peer.object_to(contribution, person, data["reason"]), person)


@blp.route("/objections/<int:objection_id>")
class ObjectionItem(MethodView):
    @blp.response(200, ObjectionOut)
    def get(self, objection_id):
        """One objection."""
        person = require_person()
        return objection_view(_objection(objection_id, person), person)


@blp.route("/objections/<int:objection_id>/answer")
class Answer(MethodView):
    @blp.arguments(AnswerIn)
    @blp.response(200, ObjectionOut)
    def post(self, data, objection_id):
        """The contributor answers and/or amends the hours (`amended_hours` replaces the declared hours)."""
        person = require_person()
        objection = _objection(objection_id, person)
        return objection_view(peer.answer(objection, person, data["answer"], data["amended_hours"]), person)


@blp.route("/objections/<int:objection_id>/votes")
class Votes(MethodView):
    @blp.arguments(VoteIn)
    @blp.response(201, ObjectionOut)
    def post(self, data, objection_id):
        """Vote `keep` or `reject` (one person, one vote; voting again changes your vote).

        Once the votes cast reach the quorum of the rules, the majority decides: `reject` upholds
        the objection, `keep` or a tie dismisses it.
        """
        person = require_person()
        objection = _objection(objection_id, person)
        return objection_view(peer.vote(objection, person, data["vote"] == "keep"), person)


@blp.route("/objections/<int:objection_id>/withdraw")
class WithdrawObjection(MethodView):
    @blp.response(200, ObjectionOut)
    def post(self, objection_id):
        """The objector withdraws their objection."""
        person = require_person()
        objection = _objection(objection_id, person)
        return objection_view(peer.withdraw_objection(objection, person), person)


@blp.route("/objections/<int:objection_id>/resolve")
class Resolve(MethodView):
    @blp.arguments(ResolveIn)
    @blp.response(200, ObjectionOut)
    def post(self, data, objection_id):
        """Mediation (commons whose rules say so): a steward upholds or dismisses, saying why."""
        person = require_person()
        objection = _objection(objection_id, person)
        return objection_view(peer.resolve(objection, person, data["decision"], data["resolution"]), person)


def review_view(commons, round_, person: Person) -> dict:
    contributions = peer.under_review(commons, round_)
    return {
        "commons": commons.slug,
        "round_id": round_.id if round_ else None,
        "contributions": [contribution_view(c, person) for c in contributions],
        "open_objections": [
            objection_view(o, person) for c in contributions for o in c.objections if o.state == ObjectionState.OPEN
        ],
    }


@blp.route("/commons/<slug>/review")
class CommonsReview(MethodView):
    @blp.arguments(ReviewQuery, location="query")
    @blp.response(200, ReviewOut)
    def get(self, query, slug):
        """What is under review in a commons: one round's contributions (`round`), or all not yet allocated."""
        person = require_person()
        commons = get_commons(slug)
        peer.require_commons_viewer(commons, person)
        round_ = None
        if "round" in query:
            round_ = db.session.scalar(select(Round).where(Round.id == query["round"], Round.commons_id == commons.id))
            if round_ is None:
                raise NotFound(_l("No such round in this commons."))
        return review_view(commons, round_, person)


@blp.route("/rounds/<int:round_id>/review")
class RoundReview(MethodView):
    @blp.response(200, ReviewOut)
    def get(self, round_id):
        """A round's contributions with their vouches and objections (people of the commons)."""
        person = require_person()
        round_ = db.session.get(Round, round_id)
        if round_ is None:
            raise NotFound(_l("No round with this number."))
        peer.require_commons_viewer(round_.commons, person)
        return review_view(round_.commons, round_, person)
