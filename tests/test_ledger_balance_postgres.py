"""PostgreSQL's deferred balance check sums a transaction once per run of its postings
(migration 0019_balance_once) and still refuses, at commit, every transaction that does not
balance: one inserted behind the code's back, one of many in the same commit, and one that
gained a posting after the check had already found it balanced."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.accounts import chart
from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.service import Leg, post
from ledger.commons.models import Commons
from ledger.extensions import db

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_app):
    return pg_app


@pytest.fixture
def commons(app, make_person, make_commons):
    make_commons(make_person(), "velo")
    return db.session.scalar(select(Commons).where(Commons.slug == "velo"))


def income(commons, cents: int) -> LedgerTransaction:
    return post(
        "income",
        [Leg(chart.commons_treasury(commons), cents), Leg(chart.commons_income(commons, "grant"), -cents)],
        occurred_on=date(2026, 1, 15),
        commons_id=commons.id,
    )


def add_posting(tx_id: int, cents: int) -> None:
    """A posting written past the service, as a bug or a hurried operator would."""
    account_id = db.session.scalar(select(Account.id).order_by(Account.id).limit(1))
    db.session.execute(
        text("INSERT INTO ledger_postings (transaction_id, account_id, amount_cents, memo) VALUES (:t, :a, :c, '')"),
        {"t": tx_id, "a": account_id, "c": cents},
    )


def transactions() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


def test_many_balanced_transactions_commit_together(commons):
    for cents in (1_000, 2_000, 3_000):
        income(commons, cents)
    db.session.commit()
    assert transactions() == 3
    assert db.session.scalar(select(func.sum(Posting.amount_cents))) == 0


def test_one_unbalanced_transaction_among_balanced_ones_refuses_the_commit(commons):
    first = income(commons, 1_000)
    second = income(commons, 2_000)
    income(commons, 3_000)
    add_posting(second.id, 1)
    db.session.flush()
    with pytest.raises(DBAPIError, match=f"ledger transaction {second.id} does not balance"):
        db.session.commit()
    db.session.rollback()
    assert transactions() == 0, f"nothing of the commit is stored (first was {first.id})"


def test_a_posting_added_after_the_check_found_the_transaction_balanced_is_summed_again(commons):
    tx = income(commons, 5_000)
    db.session.flush()
    # The pending checks fire now and find the transaction balanced; the check remembers it.
    db.session.execute(text("SET CONSTRAINTS ledger_postings_balance IMMEDIATE"))
    db.session.execute(text("SET CONSTRAINTS ledger_postings_balance DEFERRED"))
    add_posting(tx.id, 1)
    with pytest.raises(DBAPIError, match=f"ledger transaction {tx.id} does not balance"):
        db.session.commit()
    db.session.rollback()
    assert transactions() == 0


def test_a_posting_added_to_a_committed_transaction_is_refused(commons):
    tx = income(commons, 5_000)
    db.session.commit()
    add_posting(tx.id, -1)
    with pytest.raises(DBAPIError, match=f"ledger transaction {tx.id} does not balance"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Posting.id)).where(Posting.transaction_id == tx.id)) == 2
