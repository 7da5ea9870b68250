"""Objection votes counted by college: the same count as rule votes, with "reject" as the yes."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select

from ledger.contributions.models import Objection, ObjectionState, Vote
from ledger.extensions import db
from ledger.governance import colleges
from ledger.governance.tally import VoteResult, count

HALF = Fraction(1, 2)


def objection_result(objection: Objection, quorum: Decimal) -> VoteResult:
    """Upholding needs the quorum and a weighted majority to reject; a tie keeps the contribution.

    Without colleges this is one person, one vote (``ledger.contributions.voting.decide``).
    The contributor does not vote on their own work.
    """
    contribution = objection.contribution
    ballots = dict(db.session.execute(select(Vote.person_id, Vote.keep).where(Vote.objection_id == objection.id)).all())
    to_reject = {person_id: not keep for person_id, keep in ballots.items()}
    return count(
        colleges.counts(contribution.commons_id, to_reject, excluding=contribution.person_id),
        quorum=Fraction(quorum),
        majority=HALF,
    )


def objection_outcome(objection: Objection, quorum: Decimal) -> str | None:
    """The objection's new state once decided ("upheld" or "dismissed"), else None (still open)."""
    counted = objection_result(objection, quorum)
    if not counted.quorum_met:
        return None
    return ObjectionState.UPHELD if counted.adopted else ObjectionState.DISMISSED
