"""Taking part in a round's `self` and `peer` methods: stating one's amount, giving points.

Shared by the API and the round page, so both refuse the same things with the same words.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ledger import revisions
from ledger.commons import service as commons_service
from ledger.contributions.models import Contribution
from ledger.database import advisory_lock
from ledger.errors import Conflict, Forbidden, ValidationFailed, field_error
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.models import ROUND_LABELS, PeerPoints, Round, SelfRequest
from ledger.rounds.preview import review_counter

# Each member shares this many points among others' contributions of a round (the `peer` method).
PEER_POINTS = 100


def self_requests(round_: Round) -> list[SelfRequest]:
    """Every amount asked for in the round, by person: they are visible to all members."""
    return list(db.session.scalars(select(SelfRequest).where(SelfRequest.round_id == round_.id).order_by(SelfRequest.person_id)))


def state_request(round_: Round, person: Person, amount_cents: int) -> SelfRequest:
    """Record (or change) what ``person`` asks for, while the round is open or in review."""
    if commons_service.membership(round_.commons, person) is None:
        raise Forbidden(_l("Only members of the commons take part in its rounds."))
    if round_.state not in ("open", "review"):
        raise Conflict(
            _l("Round %(round)s is %(state)s: requests are closed.", round=round_.id, state=ROUND_LABELS[round_.state])
        )
    if amount_cents < 0:
        raise field_error("amount_cents", _l("cannot be negative"))
    request = db.session.scalar(select(SelfRequest).where(SelfRequest.round_id == round_.id, SelfRequest.person_id == person.id))
    if request is None:
        request = SelfRequest(round_id=round_.id, person_id=person.id, amount_cents=amount_cents)
        db.session.add(request)
    request.amount_cents = amount_cents
    db.session.flush()
    return request


def points_given(round_: Round, person: Person) -> dict[int, int]:
    """What ``person`` gave, by contribution id."""
    rows = db.session.execute(
        select(PeerPoints.contribution_id, PeerPoints.points).where(
            PeerPoints.round_id == round_.id, PeerPoints.giver_id == person.id
        )
    )
    return dict(rows.all())


def give_points(round_: Round, person: Person, points: dict[int, int]) -> dict[int, int]:
    """Replace ``person``'s sharing of their points; members and stewards, during review.

    At most PEER_POINTS in all, each at least 1, only to others' contributions of this round.
    """
    member = commons_service.membership(round_.commons, person)
    if member is None or not member.can_review:
        raise Forbidden(_l("Only members and stewards of the commons give points."))
    if round_.state != "review":
        raise Conflict(
            _l("Round %(round)s is %(state)s: points are given during review.", round=round_.id, state=ROUND_LABELS[round_.state])
        )
    if sum(points.values()) > PEER_POINTS:
        raise field_error("points", _l("share at most %(max)s points in all", max=PEER_POINTS))
    contributions = {c.id: c for c in db.session.scalars(select(Contribution).where(Contribution.id.in_(points)))}
    errors = {}
    for contribution_id, value in points.items():
        found = contributions.get(contribution_id)
        if not 1 <= value <= PEER_POINTS:
            errors[f"points.{contribution_id}"] = [_l("give between 1 and %(max)s points", max=PEER_POINTS)]
        elif found is None or found.round_id != round_.id:
            errors[f"points.{contribution_id}"] = [_l("no such contribution in this round")]
        elif found.person_id == person.id:
            errors[f"points.{contribution_id}"] = [_l("you cannot give points to your own contribution")]
    if errors:
        raise ValidationFailed(_l("Some points cannot be given."), fields=errors)
    # Replacing is a delete then inserts: two sharings at once would both delete nothing and
    # keep both (200 points). The giver's sharings of a round take turns.
    advisory_lock("peer-points", round_.id, person.id)
    revisions.bump_at_commit(review_counter(round_.id))  # the round's points change: its review with them
    db.session.execute(
        delete(PeerPoints)
        .where(PeerPoints.round_id == round_.id, PeerPoints.giver_id == person.id)
        .execution_options(**revisions.COUNTED)
    )
    for contribution_id, value in sorted(points.items()):
        db.session.add(PeerPoints(round_id=round_.id, giver_id=person.id, contribution_id=contribution_id, points=value))
    db.session.flush()
    return dict(sorted(points.items()))
