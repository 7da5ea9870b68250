"""What a round's peer review decided for each contribution, as the allocation needs it.

Trust a priori: a declared contribution counts unless something stops it. An open objection
carries it over to the next round (never silently lost); an upheld objection removes it; too few
vouches (when the rules ask for some) also carry it over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from ledger.contributions.models import Contribution, Objection, Vouch
from ledger.extensions import db


@dataclass(frozen=True)
class CountedContribution:
    contribution_id: int
    person_id: int
    category: str
    hours: Decimal


@dataclass
class ReviewOutcome:
    counted: list[CountedContribution] = field(default_factory=list)
    carried_over: list[int] = field(default_factory=list)  # contribution ids
    rejected: list[int] = field(default_factory=list)  # contribution ids (objection upheld)


def review_outcome(round_id: int, min_vouches: int) -> ReviewOutcome:
    """Sort the round's declared contributions into counted, carried over and rejected."""
    contributions = db.session.scalars(
        select(Contribution)
        .where(Contribution.round_id == round_id, Contribution.status == "declared")
        .order_by(Contribution.id)
    ).all()
    # A subquery, not a list of ids: a round may hold more contributions than a statement may
    # carry parameters (65,535 on PostgreSQL).
    in_round = select(Contribution.id).where(Contribution.round_id == round_id, Contribution.status == "declared")
    objection_states: dict[int, set[str]] = {}
    vouch_counts: dict[int, int] = {}
    if contributions:
        for contribution_id, state in db.session.execute(
            select(Objection.contribution_id, Objection.state).where(Objection.contribution_id.in_(in_round))
        ):
            objection_states.setdefault(contribution_id, set()).add(state)
        vouch_counts = dict(db.session.execute(
            select(Vouch.contribution_id, func.count(Vouch.id)).where(Vouch.contribution_id.in_(in_round)).group_by(Vouch.contribution_id)
        ).all())
    outcome = ReviewOutcome()
    for contribution in contributions:
        states = objection_states.get(contribution.id, set())
        if "upheld" in states:
            outcome.rejected.append(contribution.id)
        elif "open" in states or vouch_counts.get(contribution.id, 0) < min_vouches:
            outcome.carried_over.append(contribution.id)
        else:
            outcome.counted.append(CountedContribution(contribution.id, contribution.person_id, contribution.category, Decimal(contribution.hours)))
    return outcome
