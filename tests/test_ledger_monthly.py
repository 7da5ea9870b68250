"""The ledger's monthly totals (ledger.accounts.monthly) equal the raw ledger after any postings.

``post_many`` adds each batch's totals in the transaction of its postings; these tests rebuild
every total from the postings themselves and compare, on the suite's engine and on PostgreSQL,
and check that the migration's backfill computes the same rows.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.accounts import monthly
from ledger.accounts.chart import AccountSpec
from ledger.accounts.models import Posting
from ledger.accounts.service import Entry, Leg, post_many, reverse
from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.migrate import alembic_config

TX_KINDS = ("income", "round:finalize", "round:waive", "payout", "fund:donation")


def accounts(commons_ids: list[int]) -> list[AccountSpec]:
    specs = [
        AccountSpec("fund:treasury", "Fund bank", "asset", "fund:treasury"),
        AccountSpec("fund:levies", "Fund levies", "income", "fund:levies"),
        AccountSpec("fund:topups", "Fund top-ups", "expense", "fund:topups"),
    ]
    for cid in commons_ids:
        specs += [
            AccountSpec(f"commons:{cid}:treasury", "Treasury", "asset", "treasury", commons_id=cid),
            AccountSpec(f"commons:{cid}:payable:1", "Payable", "liability", "payable:person", commons_id=cid),
        ]
    return specs


def entries_strategy(specs: list[AccountSpec], commons_ids: list[int]):
    leg = st.tuples(st.sampled_from(specs), st.integers(-(10**9), 10**9).filter(bool))
    entry = st.builds(
        lambda legs, balance, kind, day, commons_id: Entry(
            kind,
            tuple(Leg(spec, cents) for spec, cents in legs)
            + ((Leg(balance, -sum(c for _, c in legs)),) if sum(c for _, c in legs) else ()),
            date(2025, 1, 1) + timedelta(days=day),
            commons_id=commons_id,
        ),
        st.lists(leg, min_size=1, max_size=4),
        st.sampled_from(specs),
        st.sampled_from(TX_KINDS),
        st.integers(0, 800),
        st.sampled_from([None, *commons_ids]),
    )
    return st.lists(entry, min_size=1, max_size=8)


def check_totals_after_random_batches() -> None:
    commons_ids = []
    for slug in ("velo", "pain"):
        commons = Commons(slug=slug, name=slug.title(), started_on=date(2020, 1, 1))
        db.session.add(commons)
        db.session.flush()
        commons_ids.append(commons.id)
    db.session.commit()
    specs = accounts(commons_ids)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(entries_strategy(specs, commons_ids), st.booleans())
    def batch_then_compare(entries, reverse_first):
        entries = [e for e in entries if e.legs and all(leg.amount_cents for leg in e.legs)]
        if not entries:
            return
        ids = post_many(entries)
        if reverse_first:
            from ledger.accounts.models import LedgerTransaction

            reverse(db.session.get(LedgerTransaction, ids[0]), occurred_on=date(2026, 6, 30), memo="undo")
        db.session.commit()
        assert monthly.stored_rows() == monthly.rebuild_rows()

    batch_then_compare()
    stored = monthly.stored_rows()
    assert stored, "the examples posted nothing"
    # Every posting is counted once, in exactly one row.
    assert sum(row[5] for row in stored) == db.session.scalar(select(func.count(Posting.id)))


def test_totals_equal_the_raw_ledger_after_random_postings(app):
    check_totals_after_random_batches()


@pytest.mark.postgres
def test_totals_equal_the_raw_ledger_after_random_postings_on_postgresql(pg_app):
    check_totals_after_random_batches()


def test_the_migration_backfills_the_totals_of_postings_recorded_before_it(app, database_url):
    commons = Commons(slug="velo", name="Velo", started_on=date(2020, 1, 1))
    db.session.add(commons)
    db.session.flush()
    commons_id = commons.id
    treasury, payable = accounts([commons_id])[3:5]
    post_many(
        [
            Entry("income", (Leg(treasury, 5_000), Leg(payable, -5_000)), date(2026, 1, 31), commons_id=commons.id),
            Entry("payout", (Leg(payable, 3_000), Leg(treasury, -3_000)), date(2026, 2, 1), commons_id=commons.id),
            Entry("payout", (Leg(payable, 1_000), Leg(treasury, -1_000)), date(2026, 2, 27), commons_id=commons.id),
        ]
    )
    db.session.commit()
    expected = monthly.stored_rows()
    db.session.remove()
    db.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, monthly_revision_parent())
    command.upgrade(config, "head")
    assert monthly.stored_rows() == expected == monthly.rebuild_rows()
    assert ("2026-02", commons_id, "treasury", "payout", -4_000, 2) in expected


def monthly_revision_parent() -> str:
    """The revision before the one creating the totals (it follows whatever head main had)."""
    from alembic.script import ScriptDirectory

    from ledger.migrate import alembic_config as config_of

    return ScriptDirectory.from_config(config_of("sqlite://")).get_revision("0016_speed").down_revision
