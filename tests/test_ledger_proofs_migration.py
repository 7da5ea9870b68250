"""Migration 0004 on a ledger written with per-transaction signatures: it builds the tree and a
first signed checkpoint, and the old signatures stay and are still verified."""

from __future__ import annotations

import os
from datetime import date

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from ledger import create_app
from ledger.accounts.chain import GENESIS, PostingData, TransactionData, link_hash
from ledger.accounts.signing import load_or_create
from ledger.extensions import db
from ledger.migrate import alembic_config, upgrade
from tests.conftest import ENGINE, PG_URL, REQUIRE_PG, _unavailable, fresh_pg_database, worker_id


@pytest.fixture
def legacy_url(tmp_path, request):
    if ENGINE == "postgresql":
        if not PG_URL:
            _unavailable("PostgreSQL (LEDGER_TEST_POSTGRES_URL)", REQUIRE_PG)
        # One database per worker (and per checkout sharing the server), as conftest names its own.
        tag = os.environ.get("LEDGER_TEST_DB_TAG", "")
        return fresh_pg_database(PG_URL, f"ledger_test_legacy_{tag}{worker_id(request)}")
    return f"sqlite:///{tmp_path / 'legacy.db'}"


def write_legacy_ledger(url: str, key, n: int = 5) -> None:
    """What a ledger looked like before checkpoints: format-1 hashes, each one signed."""
    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (id, code, name, type, kind) VALUES (1, 'a', 'A', 'asset', 'x'), (2, 'b', 'B', 'income', 'y')"
            )
        )
        prev = GENESIS
        for seq in range(1, n + 1):
            data = TransactionData(
                seq,
                "income",
                f"old {seq}",
                "2025-01-02",
                "2025-01-02T10:00:00.000000+00:00",
                None,
                None,
                None,
                None,
                (PostingData("a", 100 * seq), PostingData("b", -100 * seq)),
            )
            digest = link_hash(data, prev)
            connection.execute(
                text(
                    "INSERT INTO ledger_transactions (id, seq, kind, memo, occurred_on, recorded_at, prev_hash, hash, signature, key_id) "
                    "VALUES (:id, :id, 'income', :memo, :on, :at, :prev, :hash, :sig, :kid)"
                ),
                {
                    "id": seq,
                    "memo": data.memo,
                    "on": date(2025, 1, 2),
                    "at": data.recorded_at,
                    "prev": prev,
                    "hash": digest,
                    "sig": key.sign(digest.encode()),
                    "kid": key.key_id,
                },
            )
            connection.execute(
                text(
                    "INSERT INTO ledger_postings (transaction_id, account_id, amount_cents, memo) VALUES (:t, 1, :c, ''), (:t, 2, :d, '')"
                ),
                {"t": seq, "c": 100 * seq, "d": -100 * seq},
            )
            prev = digest
        if connection.dialect.name == "postgresql":  # rows given their ids: move the sequences on
            for table in ("accounts", "ledger_transactions"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
    engine.dispose()


def test_the_migration_checkpoints_an_old_ledger_whose_signatures_still_verify(legacy_url, keys_dir, tmp_path):
    from ledger.accounts.models import Checkpoint
    from ledger.accounts.verify import verify_ledger

    key_file = str(keys_dir / "signing_key.pem")
    key = load_or_create(key_file)
    write_legacy_ledger(legacy_url, key)
    upgrade(legacy_url, signing_key_file=key_file, origin="test.example/ledger")

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": legacy_url,
            "SECRET_KEY": "x",
            "INSTANCE_DIR": str(tmp_path / "i"),
            "LEDGER_SIGNING_KEY_FILE": key_file,
            "LEDGER_DATA_KEY_FILE": str(tmp_path / "dk"),
            "LEDGER_LOG_JSON": False,
            "LEDGER_ORIGIN": "test.example/ledger",
        }
    )
    with app.app_context():
        [first] = db.session.scalars(db.select(Checkpoint)).all()
        assert first.size == 5 and first.note.startswith("test.example/ledger\n5\n") and first.key_id == key.key_id
        report = verify_ledger()
        assert report.ok and report.checked == 5 and report.checkpoints == 1
        # New transactions chain on, in format 2, under a new checkpoint.
        from ledger.accounts.chart import AccountSpec
        from ledger.accounts.service import Leg, post

        post(
            "income",
            [Leg(AccountSpec("a", "A", "asset", "x"), 7), Leg(AccountSpec("b", "B", "income", "y"), -7)],
            occurred_on=date(2026, 1, 1),
        )
        db.session.commit()
        report = verify_ledger()
        assert report.ok and report.checked == 6 and report.checkpoints == 2
        # The old signatures are still checked: a forged one is named.
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE ledger_transactions DISABLE TRIGGER USER"))
        else:
            db.session.execute(text("DROP TRIGGER ledger_transactions_no_update"))
        db.session.execute(text("UPDATE ledger_transactions SET signature = :s WHERE seq = 3"), {"s": key.sign(b"other")})
        db.session.commit()
        report = verify_ledger()
        assert not report.ok and report.first_bad_seq == 3 and "signature" in report.reason
        db.session.remove()
        db.engine.dispose()


def test_without_the_key_at_migration_the_next_commit_checkpoints_everything(legacy_url, keys_dir, tmp_path, monkeypatch):
    from ledger.accounts.chart import AccountSpec
    from ledger.accounts.models import Checkpoint
    from ledger.accounts.service import Leg, post
    from ledger.accounts.verify import verify_ledger

    key_file = str(keys_dir / "signing_key.pem")
    write_legacy_ledger(legacy_url, load_or_create(key_file))
    monkeypatch.delenv("LEDGER_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("LEDGER_INSTANCE_DIR", str(tmp_path / "nowhere"))
    upgrade(legacy_url)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": legacy_url,
            "SECRET_KEY": "x",
            "INSTANCE_DIR": str(tmp_path / "i"),
            "LEDGER_SIGNING_KEY_FILE": key_file,
            "LEDGER_DATA_KEY_FILE": str(tmp_path / "dk"),
            "LEDGER_LOG_JSON": False,
        }
    )
    with app.app_context():
        assert db.session.scalars(db.select(Checkpoint)).all() == []
        # Until a commit publishes the key, the old signatures have no key to be checked with.
        assert "key history" in verify_ledger().reason
        post(
            "income",
            [Leg(AccountSpec("a", "A", "asset", "x"), 7), Leg(AccountSpec("b", "B", "income", "y"), -7)],
            occurred_on=date(2026, 1, 1),
        )
        db.session.commit()
        assert [c.size for c in db.session.scalars(db.select(Checkpoint))] == [6]
        report = verify_ledger()
        assert report.ok and report.checked == 6 and report.checkpoints == 1
        db.session.remove()
        db.engine.dispose()
