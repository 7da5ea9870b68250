"""post_many: a batch of ledger entries written with a fixed number of statements, as one chain."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger import bulk
from ledger.accounts import chart
from ledger.accounts.chain import GENESIS
from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.service import DuplicateEntry, Entry, Leg, UnbalancedTransaction, balance, post, post_many
from ledger.accounts.verify import verify_ledger
from ledger.extensions import db

ON = date(2026, 1, 15)


class FakeCommons:
    def __init__(self, id, name="Vélo"):
        self.id, self.name = id, name


@pytest.fixture
def commons(app, make_person, make_commons):
    from ledger.commons.models import Commons

    make_commons(make_person(), "velo")
    return db.session.scalar(select(Commons).where(Commons.slug == "velo"))


def retribution(commons, person_id: int, gross: int, ref: str | None = None) -> Entry:
    levy = gross // 20
    return Entry(
        "round:retribution",
        (
            Leg(chart.commons_retributions(commons), gross, "gross retribution"),
            Leg(chart.person_payable(person_id, commons), -(gross - levy), "net retribution"),
            Leg(chart.commons_treasury(commons), -levy, "solidarity levy"),
            Leg(chart.fund_treasury(), levy, "solidarity levy"),
            Leg(chart.fund_levies(), -levy, "solidarity levy"),
        ),
        ON,
        memo=f"retribution of {person_id}",
        commons_id=commons.id,
        ref=ref,
    )


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(LedgerTransaction.id))),
        db.session.scalar(select(func.count(Posting.id))),
        db.session.scalar(select(func.count(Account.id))),
    )


def test_a_batch_continues_the_chain_in_order_and_verifies(commons, make_person, runner):
    people = [make_person(f"P{i}").id for i in range(3)]
    before = post(
        "income",
        [Leg(chart.commons_treasury(commons), 100_000), Leg(chart.commons_income(commons, "grant"), -100_000)],
        occurred_on=ON,
        commons_id=commons.id,
    )
    ids = post_many([retribution(commons, p, 1_000 * (i + 1), ref=f"test:{p}") for i, p in enumerate(people)])
    after = post(
        "income",
        [Leg(chart.commons_treasury(commons), 5), Leg(chart.commons_income(commons, "grant"), -5)],
        occurred_on=ON,
        commons_id=commons.id,
    )
    db.session.commit()

    chain = db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.seq)).all()
    assert [tx.id for tx in chain] == [before.id, *ids, after.id]
    assert [tx.seq for tx in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS
    assert all(tx.prev_hash == previous.hash for previous, tx in zip(chain, chain[1:]))
    assert [tx.ref for tx in chain[1:4]] == [f"test:{p}" for p in people]
    # Postings keep the order of the legs (the order that was hashed), with amounts and memos.
    first = chain[1]
    assert [(p.account.code, p.amount_cents, p.memo) for p in first.postings] == [
        (f"commons:{commons.id}:retributions", 1_000, "gross retribution"),
        (f"commons:{commons.id}:payable:{people[0]}", -950, "net retribution"),
        (f"commons:{commons.id}:treasury", -50, "solidarity levy"),
        ("fund:treasury", 50, "solidarity levy"),
        ("fund:levies", -50, "solidarity levy"),
    ]
    assert balance(chart.person_payable(people[2], commons).code) == -2_850
    assert balance(chart.fund_levies().code) == -(50 + 100 + 150)
    # Each account exists once, whether it was new in the batch or already there.
    codes = db.session.scalars(select(Account.code)).all()
    assert len(codes) == len(set(codes))
    assert verify_ledger().ok
    result = runner.invoke(["verify"])
    assert result.exit_code == 0, result.output


def test_a_batch_is_refused_whole_when_one_entry_is_unbalanced(commons):
    before = counts()
    bad = Entry("round:topup", (Leg(chart.fund_topups(), 10), Leg(chart.fund_payable(7), -9)), ON, ref="test:bad")
    with pytest.raises(UnbalancedTransaction, match="test:bad: postings do not balance"):
        post_many([retribution(commons, 1, 1_000, ref="test:good"), bad])
    db.session.rollback()
    assert counts() == before
    assert db.session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.ref == "test:good")) is None


def test_a_reference_already_written_refuses_the_whole_batch(commons):
    post_many([retribution(commons, 1, 1_000, ref="test:1")])
    db.session.commit()
    before = counts()
    with pytest.raises(DuplicateEntry, match="test:1"):
        post_many([retribution(commons, 2, 1_000, ref="test:2"), retribution(commons, 1, 1_000, ref="test:1")])
    db.session.rollback()
    assert counts() == before
    with pytest.raises(DuplicateEntry, match="test:3"):  # twice in the same batch
        post_many([retribution(commons, 3, 1_000, ref="test:3"), retribution(commons, 3, 2_000, ref="test:3")])
    db.session.rollback()
    assert counts() == before
    assert verify_ledger().ok


def test_more_references_and_accounts_than_one_in_list_carries(commons, make_person, monkeypatch):
    monkeypatch.setattr(bulk, "IN_CHUNK", 4)
    people = [make_person(f"P{i}").id for i in range(12)]
    ids = post_many([retribution(commons, p, 100 + p, ref=f"test:{p}") for p in people[:10]])
    db.session.commit()
    assert len(ids) == 10
    payables = db.session.scalar(select(func.count(Account.id)).where(Account.kind == "payable:person"))
    assert payables == 10
    last = people[9]  # in the third IN list of four
    with pytest.raises(DuplicateEntry, match=f"test:{last}"):
        post_many(
            [retribution(commons, p, 100, ref=f"new:{p}") for p in people] + [retribution(commons, last, 100, ref=f"test:{last}")]
        )
    db.session.rollback()
    assert verify_ledger().ok


def test_an_empty_batch_writes_nothing(commons):
    before = counts()
    assert post_many([]) == []
    assert counts() == before


def test_among_selects_exactly_the_values_asked_in_one_statement_on_postgresql(commons, make_person, monkeypatch):
    from ledger.people.models import Person

    monkeypatch.setattr(bulk, "IN_CHUNK", 4)
    people = [make_person(f"Among {i}") for i in range(10)]
    db.session.commit()
    asked = [p.id for p in people[1:9]] + [10_000_000]  # eight that exist, one that does not
    conditions = list(bulk.among(Person.id, asked))
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    assert len(conditions) == (1 if postgresql else 3)  # one array parameter, or IN lists of 4
    found = [row for condition in conditions for row in db.session.scalars(select(Person.display_name).where(condition))]
    assert sorted(found) == [f"Among {i}" for i in range(1, 9)]
    codes = [f"unknown:{i}" for i in range(5)] + [chart.commons_retributions(commons).code]
    post_many([retribution(commons, people[0].id, 1_000)])
    matched = [code for c in bulk.among(Account.code, codes) for code in db.session.scalars(select(Account.code).where(c))]
    assert matched == [chart.commons_retributions(commons).code]  # text values too
    assert list(bulk.among(Person.id, [])) == []
