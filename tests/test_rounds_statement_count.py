"""Finalizing a round issues a fixed number of SQL statements, however many people it pays.

A deterministic proof that allocation and finalization read and write in bulk (no query per
person or per contribution), instead of a timing: the statements sent to the database are
counted while rounds of 50 and of 100 people are finalized. (On PostgreSQL the bulk inserts go
through COPY, outside SQLAlchemy's cursor events; there are as few of them, one per table.)
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select, update

from bench import generate
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.verify import verify_ledger
from ledger.commons.models import Commons, Membership
from ledger.commons.service import record_income
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.fund.service import donate
from ledger.payouts.models import PayoutBatch, PayoutLine
from ledger.people.models import Person
from ledger.rounds.lifecycle import finalize, step
from ledger.rounds.models import AllocationLine
from ledger.rounds.service import create_round
from tests.rounds_support import make_cae

ROUTES = ("invoice", "cae", "waive", "fund")
START, END = date(2025, 3, 1), date(2025, 3, 31)


@contextmanager
def counting_statements():
    """Counts every statement sent to the database (an executemany counts once)."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def allocated_round(people: int, cae_id: int, tag: str):
    """A commons of ``people`` members on every payout route, three contributions each, allocated."""
    return allocate(populated_commons(people, cae_id, tag), people)


def populated_commons(people: int, cae_id: int, tag: str) -> Commons:
    db.session.commit()  # the generator writes on its own connection; SQLite lets one writer in
    with db.engine.begin() as connection:
        ids = generate.people(connection, people, tag=tag)
        [commons_id] = generate.commons(connection, 1, ids[0], tag=tag)
        generate.memberships(connection, [commons_id], ids, second_every=0)
        connection.execute(
            insert(Contribution),
            [
                {
                    "person_id": pid,
                    "commons_id": commons_id,
                    "date": date(2025, 3, 3 + k),
                    "hours": Decimal("2.5"),
                    "category": ("production", "care", "governance")[k],
                    "description": "work",
                    "status": "declared",
                }
                for pid in ids
                for k in range(3)
            ],
        )
    for i, pid in enumerate(ids):
        route = ROUTES[i % len(ROUTES)]
        db.session.execute(
            update(Membership)
            .where(Membership.person_id == pid)
            .values(payout_route=route, payout_cae_id=cae_id if route == "cae" else None)
        )
    commons = db.session.get(Commons, commons_id)
    record_income(
        commons,
        amount_cents=people * 50_000,
        source="grant",
        funder="Région",
        received_on=date(2025, 2, 1),
        earmark=None,
        recorded_by=db.session.get(Person, ids[0]),
    )
    db.session.commit()
    return commons


def allocate(commons: Commons, people: int):
    # Half the claims (3 × 2.5 h at 15 €, care weighs 1.5): everyone falls short and the fund tops up.
    round_ = create_round(commons, period_start=START, period_end=END, envelope_cents=people * 6_000, created_by=None)
    assert step(round_, "open") and step(round_, "review")
    db.session.commit()
    return round_


def finalize_counting(round_) -> int:
    with counting_statements() as sent:
        finalize(round_)
        db.session.commit()
    return len(sent)


def expected_entries(round_id: int) -> int:
    lines = db.session.execute(
        select(AllocationLine.gross_cents, AllocationLine.topup_cents, AllocationLine.net_cents, AllocationLine.route).where(
            AllocationLine.round_id == round_id
        )
    ).all()
    return (
        sum(1 for line in lines if line.gross_cents)
        + sum(1 for line in lines if line.topup_cents)
        + sum(1 for line in lines if line.net_cents and line.route in ("waive", "fund"))
    )


@pytest.fixture
def funded(app, make_person):
    cae_id = make_cae()
    manager = db.session.get(Person, make_person("Fund manager").id)
    donate(amount_cents=10_000_000, donor="Fondation", received_on=date(2025, 1, 10), recorded_by=manager)
    db.session.commit()
    return cae_id


def test_finalizing_issues_the_same_number_of_statements_for_50_and_100_people(funded):
    small, large = allocated_round(50, funded, "s"), allocated_round(100, funded, "l")

    small_count, large_count = finalize_counting(small), finalize_counting(large)

    # One statement per person (or per ledger entry) would add at least 50 here.
    print(f"statements to finalize: {small_count} for 50 people, {large_count} for 100")
    assert abs(large_count - small_count) <= 2, (small_count, large_count)
    assert large_count < 60
    for round_, people in ((small, 50), (large, 100)):
        assert round_.state == "finalized"
        entries = db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_.id))
        assert entries == expected_entries(round_.id) > people  # retributions, top-ups, waivers and gifts
        topups = db.session.scalar(
            select(func.count(LedgerTransaction.id)).where(
                LedgerTransaction.round_id == round_.id, LedgerTransaction.kind == "round:topup"
            )
        )
        assert topups > 0
        paid = db.session.scalar(select(func.count(PayoutLine.id)).join(PayoutBatch).where(PayoutBatch.round_id == round_.id))
        assert paid == sum(1 for i in range(people) if ROUTES[i % len(ROUTES)] in ("invoice", "cae"))
        assert set(db.session.scalars(select(PayoutBatch.route).where(PayoutBatch.round_id == round_.id))) == {"invoice", "cae"}
    assert verify_ledger().ok


def test_allocating_reads_contributions_with_a_fixed_number_of_statements(funded):
    counts = []
    for people, tag in ((50, "s"), (100, "l")):
        commons = populated_commons(people, funded, tag)
        with counting_statements() as sent:
            round_ = allocate(commons, people)
        counts.append(len(sent))
        assert db.session.scalar(select(func.count(AllocationLine.id)).where(AllocationLine.round_id == round_.id)) == people
        assert (
            db.session.scalar(select(func.sum(AllocationLine.hours)).where(AllocationLine.round_id == round_.id)) == 7.5 * people
        )
    print(f"statements to open and allocate: {counts}")
    assert abs(counts[1] - counts[0]) <= 2, counts


def test_finalizing_a_round_writes_one_signed_checkpoint_not_one_signature_per_person(funded, monkeypatch):
    from ledger.accounts import checkpoints
    from ledger.accounts.models import Checkpoint

    round_ = allocated_round(100, funded, "c")
    signed = []
    real_sign = checkpoints.sign_note
    monkeypatch.setattr(checkpoints, "sign_note", lambda *args: signed.append(args) or real_sign(*args))
    before = db.session.scalar(select(func.count(Checkpoint.id)))

    finalize(round_)
    db.session.commit()

    entries = db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_.id))
    assert entries > 100
    assert len(signed) == 1
    assert db.session.scalar(select(func.count(Checkpoint.id))) == before + 1
    unsigned = select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.round_id == round_.id, LedgerTransaction.signature == ""
    )
    assert db.session.scalar(unsigned) == entries
    assert checkpoints.latest().size == db.session.scalar(select(func.max(LedgerTransaction.seq)))
