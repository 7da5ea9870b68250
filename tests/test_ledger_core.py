"""The double-entry core: balance, append-only, hash chain, signatures, reversals."""

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction, Posting
from ledger.accounts.service import DuplicateEntry, Leg, UnbalancedTransaction, balance, post, reverse
from ledger.accounts.signing import current_key
from ledger.accounts.verify import verify_ledger
from ledger.extensions import db


class FakeCommons:
    def __init__(self, id, name="Vélo"):
        self.id, self.name = id, name


@pytest.fixture
def commons(app, make_person, make_commons):
    from ledger.commons.models import Commons

    steward = make_person()
    make_commons(steward, "velo")
    return db.session.scalar(select(Commons).where(Commons.slug == "velo"))


def income(commons, cents, **kwargs):
    return post(
        "income",
        [Leg(chart.commons_treasury(commons), cents), Leg(chart.commons_income(commons, "grant"), -cents)],
        occurred_on=date(2026, 1, 15),
        commons_id=commons.id,
        **kwargs,
    )


def test_balanced_transaction_is_written_with_its_postings_and_chained(commons):
    first = income(commons, 10_000)
    second = income(commons, 2_500)
    db.session.commit()
    assert [p.amount_cents for p in first.postings] == [10_000, -10_000]
    assert first.seq + 1 == second.seq and second.prev_hash == first.hash
    assert balance(chart.commons_treasury(commons).code) == 12_500
    assert verify_ledger().ok


def test_unbalanced_transaction_is_refused_by_the_code_and_nothing_is_stored(commons):
    before = db.session.scalar(select(db.func.count(LedgerTransaction.id)))
    with pytest.raises(UnbalancedTransaction, match="sum to 1"):
        post(
            "income",
            [Leg(chart.commons_treasury(commons), 101), Leg(chart.commons_income(commons, "grant"), -100)],
            occurred_on=date(2026, 1, 1),
        )
    with pytest.raises(UnbalancedTransaction, match="at least two"):
        post("income", [Leg(chart.commons_treasury(commons), 0)], occurred_on=date(2026, 1, 1))
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(LedgerTransaction.id))) == before


def test_unbalanced_postings_inserted_behind_the_codes_back_are_refused_by_postgresql_or_caught_by_verify(commons):
    tx = income(commons, 5_000)
    db.session.commit()
    account_id = db.session.scalar(select(Posting.account_id).where(Posting.transaction_id == tx.id).limit(1))
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        # The deferred constraint trigger refuses the commit.
        db.session.execute(
            text("INSERT INTO ledger_postings (transaction_id, account_id, amount_cents, memo) VALUES (:t, :a, 1, '')"),
            {"t": tx.id, "a": account_id},
        )
        with pytest.raises((IntegrityError, DBAPIError), match="does not balance"):
            db.session.commit()
        db.session.rollback()
        assert verify_ledger().ok
    else:
        db.session.execute(
            text("INSERT INTO ledger_postings (transaction_id, account_id, amount_cents, memo) VALUES (:t, :a, 1, '')"),
            {"t": tx.id, "a": account_id},
        )
        db.session.commit()
        report = verify_ledger()
        assert not report.ok and report.first_bad_id == tx.id and "balance" in report.reason


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_postings SET amount_cents = amount_cents + 1",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_transactions SET memo = 'changed'",
        "DELETE FROM ledger_transactions",
    ],
)
def test_ledger_rows_cannot_be_updated_or_deleted(commons, statement):
    income(commons, 1_000)
    db.session.commit()
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert verify_ledger().ok


def test_editing_one_posting_amount_makes_verify_fail_naming_that_transaction(commons, runner, tamper):
    income(commons, 1_000)
    target = income(commons, 2_000)
    income(commons, 3_000)
    db.session.commit()
    tamper()  # what someone with direct database access could do first
    db.session.execute(
        text("UPDATE ledger_postings SET amount_cents = 2500 WHERE transaction_id = :t AND amount_cents = 2000"), {"t": target.id}
    )
    db.session.execute(
        text("UPDATE ledger_postings SET amount_cents = -2500 WHERE transaction_id = :t AND amount_cents = -2000"),
        {"t": target.id},
    )
    db.session.commit()

    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert f"id={target.id}" in result.output and "altered" in result.output

    body = runner.app.test_client().get("/api/v1/ledger/verify").get_json()
    assert body["ok"] is False and body["first_bad"]["id"] == target.id and body["checked"] == target.seq


def test_deleting_a_transaction_or_forging_a_signature_is_detected(commons, tamper):
    income(commons, 1_000)
    middle = income(commons, 2_000)
    last = income(commons, 3_000)
    db.session.commit()
    tamper()  # what someone with direct database access could do first
    db.session.execute(
        text("UPDATE ledger_transactions SET signature = :s, key_id = :k WHERE id = :t"),
        {"s": "Zm9yZ2Vk", "k": current_key().key_id, "t": last.id},
    )
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == last.id and "signature" in report.reason

    db.session.execute(text("DELETE FROM ledger_postings WHERE transaction_id = :t"), {"t": middle.id})
    db.session.execute(text("DELETE FROM fec_entry_numbers WHERE transaction_id = :t"), {"t": middle.id})
    db.session.execute(text("DELETE FROM ledger_transactions WHERE id = :t"), {"t": middle.id})
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == last.id and "missing" in report.reason


def test_reversal_negates_every_posting_and_points_to_the_original(commons):
    original = income(commons, 4_200)
    correction = reverse(original, occurred_on=date(2026, 2, 1), memo="entered twice")
    db.session.commit()
    assert correction.reverses_id == original.id
    assert sorted(p.amount_cents for p in correction.postings) == [-4_200, 4_200]
    assert balance(chart.commons_treasury(commons).code) == 0
    assert verify_ledger().ok
    with pytest.raises(IntegrityError):  # a transaction is reversed at most once
        reverse(original, occurred_on=date(2026, 2, 1), memo="again")
        db.session.flush()
    db.session.rollback()


def test_a_business_reference_is_written_once(commons):
    income(commons, 100, ref="demo:once")
    with pytest.raises(DuplicateEntry):
        income(commons, 100, ref="demo:once")
