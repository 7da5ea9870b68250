"""Ledger writes that scale (issue 17): on PostgreSQL a writer takes no lock on the whole ledger;
the sequencer gives committed transactions their place after their commit, and verify, receipts
and checkpoints keep working. No timing is asserted: a wait would fail on ``lock_timeout``."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.accounts import sequencer
from ledger.accounts import verify as verify_module
from ledger.accounts.models import Checkpoint, LedgerTransaction
from ledger.accounts.receipts import check_receipt, receipt
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
