"""Ledger writes that scale (issue 17): on PostgreSQL a writer takes no lock on the whole ledger;
the sequencer gives committed transactions their place after their commit, and verify, receipts
and checkpoints keep working. No timing is asserted: a wait would fail on ``lock_timeout``."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.accounts import chart, checkpoints, sequencer
from ledger.accounts import verify as verify_module
from ledger.accounts.models import Checkpoint, LedgerTransaction, TransactionKind
from ledger.accounts.numbering import FecEntryNumber
from ledger.accounts.receipts import check_receipt, receipt
from ledger.accounts.service import Entry, Leg, post_many
from ledger.accounts.signing import current_key, raw_public_key
from ledger.accounts.verify import verify_ledger
from ledger.commons.service import create_commons, record_income
from ledger.errors import Conflict
from ledger.extensions import db
from ledger.people.service import create_person
from ledger.timeutil import today, utcnow

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_app):
    """The suite's ``app``, replaced here by one on PostgreSQL (make_person and client follow it)."""
    return pg_app


def two_commons():
    admin = create_person("admin@example.org", "Alix Admin", "a good long password", admin=True)
    made = [
        create_commons(slug, name, "", admin, steward=admin, started_on=today() - timedelta(days=30))
        for slug, name in (("velo", "Vélo"), ("jardin", "Jardin"))
    ]
    db.session.commit()
    return admin, made


def income(commons, person, cents: int):
    return record_income(
        commons,
        amount_cents=cents,
        source="grant",
        funder="Métropole",
        received_on=today(),
        earmark=None,
        recorded_by=person,
    )


def test_a_commons_commits_while_another_commons_ledger_write_is_still_open(app):
    admin, (velo, jardin) = two_commons()
    velo_id, jardin_id, admin_id = velo.id, jardin.id, admin.id
    posted, go_on, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[Exception] = []

    def velo_writer():
        with app.app_context():
            try:
                from ledger.commons.models import Commons
                from ledger.people.models import Person

                income(db.session.get(Commons, velo_id), db.session.get(Person, admin_id), 10_000)
                db.session.flush()  # its transaction and postings are written, its commit not yet
                posted.set()
                go_on.wait(30)
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported by the main thread)
                errors.append(error)
                posted.set()
            finally:
                db.session.remove()
                done.set()

    thread = threading.Thread(target=velo_writer)
    thread.start()
    assert posted.wait(30) and not errors
    # Jardin's write must not wait for Vélo's open transaction: any lock wait fails at once.
    db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
    income(db.session.get(type(jardin), jardin_id), db.session.get(type(admin), admin_id), 5_000)
    db.session.commit()
    jardin_tx = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.commons_id == jardin_id)).one()
    assert jardin_tx.seq is not None  # sequenced right after its own commit
    go_on.set()
    assert done.wait(30) and not errors, errors
    thread.join(5)
    db.session.expire_all()

    velo_tx = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.commons_id == velo_id)).one()
    # Vélo's id was drawn first, but its place is after Jardin's: the order of commits.
    assert velo_tx.id < jardin_tx.id and velo_tx.seq == jardin_tx.seq + 1
    assert velo_tx.format == jardin_tx.format == 3
    report = verify_ledger()
    assert report.ok, report.reason
    assert report.checked == velo_tx.seq and report.notes == []
    assert db.session.scalar(select(Checkpoint.size).order_by(Checkpoint.size.desc()).limit(1)) == velo_tx.seq
    proof = receipt(velo_tx.id)
    assert check_receipt(proof, raw_public_key(current_key())) == []


def batch(commons, count: int, tag: str) -> list[Entry]:
    """``count`` balanced entries of one commons: a finalization's shape, each with its ref."""
    legs = (Leg(chart.commons_retributions(commons), 100), Leg(chart.commons_treasury(commons), -100))
    return [
        Entry(TransactionKind.ROUND_RETRIBUTION, legs, today(), commons_id=commons.id, ref=f"{tag}:{i}") for i in range(count)
    ]


def placed_count(connection) -> int:
    return connection.scalar(text("SELECT count(*) FROM ledger_transactions WHERE seq IS NOT NULL"))


def test_a_batch_is_placed_by_its_writer_when_the_sequencer_is_free_and_others_still_never_wait(app):
    admin, (velo, jardin) = two_commons()
    income(velo, admin, 10_000_000)
    db.session.commit()
    checkpoints_before = db.session.scalar(select(func.count(Checkpoint.id)))
    ids = post_many(batch(velo, sequencer.WRITER_PLACES_FROM, "velo"))
    # Placed inside this transaction (its place and FEC numbers are written with the rows) …
    assert db.session.scalar(select(func.count()).where(LedgerTransaction.id.in_(ids), LedgerTransaction.seq.is_(None))) == 0
    assert db.session.scalar(select(func.count(FecEntryNumber.transaction_id)).where(FecEntryNumber.transaction_id.in_(ids))) > 0
    # … while another connection sees the sequencer's lock taken and none of the batch yet: a
    # writer there takes no lock (the first test), only its sequencing waits for this commit.
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '1s'"))
        assert placed_count(other) == 1  # the income; the batch is not committed yet
        assert other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": sequencer.SEQUENCER_LOCK_KEY}) is False
        other.rollback()
    db.session.commit()
    assert db.session.scalar(select(func.count(Checkpoint.id))) == checkpoints_before + 1  # signed in its commit
    seqs = db.session.scalars(
        select(LedgerTransaction.seq).where(LedgerTransaction.id.in_(ids)).order_by(LedgerTransaction.id)
    ).all()
    assert seqs == list(range(2, 2 + len(ids)))
    income(jardin, admin, 5_000)
    db.session.commit()
    report = verify_ledger()
    assert report.ok and report.notes == [] and report.checked == len(ids) + 2, report.reason
    assert check_receipt(receipt(ids[-1]), raw_public_key(current_key())) == []


def test_a_batch_written_while_the_sequencer_runs_waits_for_it_and_a_small_write_never_takes_its_lock(app):
    admin, (velo, _) = two_commons()
    income(velo, admin, 10_000_000)  # a small write: left to the sequencer, no lock taken
    assert not db.session.info.get(checkpoints.DUE) and db.session.info.get(checkpoints.WAITING)
    db.session.commit()
    with db.engine.connect() as running:  # a sequencer at work holds its lock
        running.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": sequencer.SEQUENCER_LOCK_KEY})
        ids = post_many(batch(velo, sequencer.WRITER_PLACES_FROM + 10, "velo"))
        assert db.session.scalar(
            select(func.count()).where(LedgerTransaction.id.in_(ids), LedgerTransaction.seq.is_(None))
        ) == len(ids)
        running.rollback()  # the sequencer is done: the writer's commit sequences its batch
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(LedgerTransaction.seq.is_(None))) == 0
    assert verify_ledger().ok


def test_a_batch_placed_in_a_savepoint_rolled_back_leaves_the_ledger_whole(app):
    admin, (velo, jardin) = two_commons()
    with pytest.raises(RuntimeError), db.session.begin_nested():
        post_many(batch(velo, sequencer.WRITER_PLACES_FROM, "velo"))
        raise RuntimeError("the rest of the finalization failed")
    # The savepoint took the lock away with the rows it placed: someone else may sequence now.
    with db.engine.connect() as other:
        assert other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": sequencer.SEQUENCER_LOCK_KEY}) is True
        other.rollback()
    income(jardin, admin, 5_000)
    db.session.commit()
    assert db.session.scalars(select(LedgerTransaction.seq)).all() == [1]
    report = verify_ledger()
    assert report.ok and report.checked == 1 and report.notes == [], report.reason


def test_a_transaction_left_without_its_place_is_a_note_then_a_failure_and_has_no_receipt_yet(app, monkeypatch):
    admin, (velo, _) = two_commons()
    monkeypatch.setattr(sequencer, "integrate", lambda engine=None: 0)  # the writer dies after its commit
    income(velo, admin, 10_000)
    db.session.commit()
    monkeypatch.undo()
    tx = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.commons_id == velo.id)).one()
    assert tx.seq is None and tx.hash is None and tx.content_hash

    young = verify_ledger()
    assert young.ok and "waiting for the sequencer" in young.notes[0]
    with pytest.raises(Conflict) as refused:
        receipt(tx.id)
    assert refused.value.code == "not_yet_in_checkpoint"
    later = utcnow() + sequencer.MAX_DELAY + timedelta(seconds=1)
    monkeypatch.setattr(verify_module, "utcnow", lambda: later)
    old = verify_ledger()
    assert not old.ok and old.first_bad_id == tx.id and "still not in the log" in old.reason
    monkeypatch.undo()

    assert sequencer.integrate() == 1  # the scheduler's backstop
    db.session.expire_all()
    assert tx.seq == 1 and verify_ledger().ok
    assert check_receipt(receipt(tx.id), raw_public_key(current_key())) == []


def test_the_ledger_lets_a_transaction_get_its_place_once_and_nothing_else_change(app, monkeypatch):
    admin, (velo, _) = two_commons()
    monkeypatch.setattr(sequencer, "integrate", lambda engine=None: 0)
    income(velo, admin, 10_000)
    db.session.commit()
    monkeypatch.undo()
    tx_id = db.session.scalar(select(LedgerTransaction.id))
    changes = [
        "UPDATE ledger_transactions SET memo = 'x' WHERE id = :id",  # the content, before its place
        "UPDATE ledger_transactions SET seq = 1, prev_hash = 'a', hash = 'b', memo = 'x' WHERE id = :id",
        "UPDATE ledger_transactions SET seq = 1 WHERE id = :id",  # a place must come whole
        "DELETE FROM ledger_transactions WHERE id = :id",
    ]
    for statement in changes:
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement), {"id": tx_id})
        db.session.rollback()
    sequencer.integrate()
    with pytest.raises(DBAPIError, match="append-only"):  # and once placed, it stays there
        db.session.execute(
            text("UPDATE ledger_transactions SET seq = 7, prev_hash = 'a', hash = 'b' WHERE id = :id"), {"id": tx_id}
        )
    db.session.rollback()
    assert db.session.scalar(select(LedgerTransaction.seq)) == 1 and verify_ledger().ok
