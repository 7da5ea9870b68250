"""What a round's peer review decided for each contribution, as the allocation needs it.

Trust a priori: a declared contribution counts unless something stops it. An open objection
carries it over to the next round (never silently lost); an upheld objection removes it; too few
vouches (when the rules ask for some) also carry it over.

The decision is written once, as SQL conditions, so that a round of 200,000 contributions is
sorted by the database: the allocation reads only the counted hours per person and category,
and the ids of the contributions that do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Integer, and_, cast, exists, func, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from ledger.bulk import execute_plain
from ledger.contributions.models import Contribution, ContributionStatus, Objection, ObjectionState, Vouch
from ledger.extensions import db


class CountedHours(NamedTuple):
    """The counted hours of one person in one category (a tuple: a large round has 66,000)."""

    person_id: int
    category: str
    hours: Decimal


@dataclass
class ReviewTotals:
    """The review of a round as the allocation reads it: counted hours summed, the rest by id."""

    counted: list[CountedHours] = field(default_factory=list)
    carried_over: list[int] = field(default_factory=list)  # contribution ids
    rejected: list[int] = field(default_factory=list)  # contribution ids (objection upheld)


def in_review(round_id: int) -> ColumnElement[bool]:
    """The contributions a round's review decides on."""
    return and_(Contribution.round_id == round_id, Contribution.status == ContributionStatus.DECLARED)


def _objection(*states: ObjectionState) -> ColumnElement[bool]:
    return exists().where(Objection.contribution_id == Contribution.id, Objection.state.in_(states))


def _vouches():
    return select(func.count(Vouch.id)).where(Vouch.contribution_id == Contribution.id).scalar_subquery()


def _enough_vouches(min_vouches: int) -> ColumnElement[bool]:
    return true() if min_vouches <= 0 else _vouches() >= min_vouches


def counts(min_vouches: int) -> ColumnElement[bool]:
    """A contribution of the round counts: no open or upheld objection, and enough vouches."""
    # One anti-join for both states: PostgreSQL probes the objections once per contribution, not twice.
    return and_(not_(_objection(ObjectionState.UPHELD, ObjectionState.OPEN)), _enough_vouches(min_vouches))


def review_totals(round_id: int, min_vouches: int) -> ReviewTotals:
    """Sort the round's declared contributions into counted (their hours summed per person and
    category), carried over and rejected (by id).

    Two queries whatever the round's size. Hours are summed as whole hundredths: SQLite keeps
    NUMERIC as floating point, and a float sum of 200,000 values would not be exact.
    """
    hundredths = func.sum(cast(func.round(Contribution.hours * 100), Integer))
    totals = ReviewTotals()
    # Plain rows, without the ORM's handling of each of the 66,000 rows of a 200,000-contribution
    # round (a quarter of a second), fetched at once (row by row, psycopg's fetchone costs more
    # than the row).
    for person_id, category, total in execute_plain(
        select(Contribution.person_id, Contribution.category, hundredths)
        .where(in_review(round_id), counts(min_vouches))
        .group_by(Contribution.person_id, Contribution.category)
        .order_by(Contribution.person_id, Contribution.category)
    ).all():
        totals.counted.append(CountedHours(person_id, category, Decimal(int(total)).scaleb(-2)))
    # Started from the objections (few) rather than from the round's contributions (many), unless
    # the rules ask for vouches, which every contribution may lack.
    objected = Contribution.id.in_(
        select(Objection.contribution_id).where(Objection.state.in_((ObjectionState.OPEN, ObjectionState.UPHELD)))
    )
    stopped = objected if min_vouches <= 0 else or_(objected, not_(_enough_vouches(min_vouches)))
    for contribution_id, upheld in db.session.execute(
        select(Contribution.id, _objection(ObjectionState.UPHELD)).where(in_review(round_id), stopped).order_by(Contribution.id)
    ):
        (totals.rejected if upheld else totals.carried_over).append(contribution_id)
    return totals
