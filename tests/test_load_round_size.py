"""A round holding more contributions than a statement may carry parameters (65,535 on
PostgreSQL) still allocates: the review's queries must not pass the round's ids one by one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bench import generate
from ledger.accounts.signing import current_key  # noqa: F401  (the key exists before the round)
from ledger.commons.models import Commons
from ledger.commons.service import record_income
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.lifecycle import step
from ledger.rounds.models import AllocationLine
from ledger.rounds.service import create_round

CONTRIBUTIONS = 66_000
PEOPLE = 300


def test_a_round_of_66000_contributions_allocates(app):
    with db.engine.begin() as connection:
        ids = generate.people(connection, PEOPLE)
        commons = generate.commons(connection, 1, ids[0])
        pairs = generate.memberships(connection, commons, ids, second_every=0)
        generate.contributions(connection, CONTRIBUTIONS, pairs, start=date(2025, 3, 1), days=28)
    the_commons = db.session.get(Commons, commons[0])
    record_income(
        the_commons,
        amount_cents=10_000_000,
        source="grant",
        funder="Région",
        received_on=date(2025, 2, 1),
        earmark=None,
        recorded_by=db.session.get(Person, ids[0]),
    )
    round_ = create_round(
        the_commons, period_start=date(2025, 3, 1), period_end=date(2025, 3, 31), envelope_cents=5_000_000, created_by=None
    )
    assert step(round_, "open") and step(round_, "review")
    db.session.commit()
    assert round_.state == "allocated"
    assert db.session.scalar(select(func.count(AllocationLine.id)).where(AllocationLine.round_id == round_.id)) == PEOPLE
    assert (
        db.session.scalar(select(func.sum(AllocationLine.gross_cents)).where(AllocationLine.round_id == round_.id)) == 5_000_000
    )
