"""Issue 16 item 5: no personal data in clear in idempotency replay records, which are purged after
their key's lifetime; database and backup files readable by their owner only."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from payouts_support import create_cae, grant_accountant
from sqlalchemy import func, select, text, update

from ledger.api.idempotency import IdempotencyRecord
from ledger.extensions import db
from ledger.timeutil import utcnow

SECRET_REF = "EMP-SECRET-4711"


@pytest.fixture
def cast(make_person):
    return {"admin": make_person("Admin", admin=True), "alice": make_person("Alice Martin"), "acc": make_person("Accountant")}


def setup_cae(client, cast):
    create_cae(client, cast["admin"])
    grant_accountant(client, cast["admin"], "ECOTONE", cast["acc"])


def add_member_with_key(client, cast, key="member-1"):
    return client.post(
        "/api/v1/caes/ECOTONE/members",
        json={"email": cast["alice"].email, "employee_ref": SECRET_REF, "contract_type": "CESA"},
        headers={**cast["acc"].headers, "Idempotency-Key": key},  # the accountant sees the reference
    )


def stored_replay_bytes() -> bytes:
    rows = db.session.execute(text("SELECT * FROM idempotency_records")).mappings().all()
    assert len(rows) == 1
    return b" ".join(str(v).encode() if not isinstance(v, (bytes, memoryview)) else bytes(v) for v in rows[0].values())


def test_a_replay_record_holds_no_employee_reference_nor_name_in_clear_yet_replays(client, cast):
    setup_cae(client, cast)
    first = add_member_with_key(client, cast)
    assert first.status_code == 201 and first.get_json()["employee_ref"] == SECRET_REF
    stored = stored_replay_bytes()
    assert SECRET_REF.encode() not in stored and b"Alice" not in stored and cast["alice"].email.encode() not in stored
    replay = add_member_with_key(client, cast)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replay"] == "true"
    assert replay.get_json() == first.get_json()


def test_a_replay_still_works_after_the_data_key_is_rotated(client, cast, runner):
    setup_cae(client, cast)
    first = add_member_with_key(client, cast)
    assert runner.invoke(["keys", "rotate"]).exit_code == 0
    db.session.expire_all()
    replay = add_member_with_key(client, cast)
    assert replay.headers.get("Idempotent-Replay") == "true" and replay.get_json() == first.get_json()


def test_expired_keys_are_purged_by_the_cli_and_are_not_replayed(app, client, cast, runner):
    setup_cae(client, cast)
    add_member_with_key(client, cast, "old")
    client.post(
        "/api/v1/caes",
        json={"code": "B", "name": "B", "contribution_rate": "0.1", "employer_rate": "0.4"},
        headers={**cast["admin"].headers, "Idempotency-Key": "fresh"},
    )
    old = utcnow() - timedelta(hours=app.config["LEDGER_IDEMPOTENCY_HOURS"], minutes=1)
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "old").values(created_at=old))
    db.session.commit()
    result = runner.invoke(["purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert "1 expired idempotency records deleted" in result.output
    assert db.session.scalars(select(IdempotencyRecord.key)).all() == ["fresh"]


def test_an_expired_key_not_yet_purged_is_not_replayed(app, client, cast):
    setup_cae(client, cast)
    body = {"code": "B", "name": "B", "contribution_rate": "0.1", "employer_rate": "0.4"}
    headers = {**cast["admin"].headers, "Idempotency-Key": "k"}
    assert client.post("/api/v1/caes", json=body, headers=headers).status_code == 201
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    again = client.post("/api/v1/caes", json=body, headers=headers)
    assert "Idempotent-Replay" not in again.headers
    assert again.status_code == 409  # acted anew: the code is taken, which a replay would have hidden
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 1


def test_the_scheduler_purges_expired_keys(app, client, cast):
    from ledger.rounds.scheduler import run_purge

    setup_cae(client, cast)
    add_member_with_key(client, cast)
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    assert run_purge(app) == 1
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0


def test_a_new_sqlite_database_file_is_readable_by_its_owner_only(make_app, tmp_path):
    path = tmp_path / "fresh" / "ledger.db"
    from ledger.migrate import upgrade

    upgrade(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'other.db'}")
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
    assert stat.S_IMODE((tmp_path / "other.db").stat().st_mode) == 0o600


def test_a_backup_file_is_readable_by_its_owner_only(runner, tmp_path):
    out = tmp_path / "backup.zip"
    out.write_bytes(b"")
    out.chmod(0o644)  # even over an existing, readable file
    result = runner.invoke(["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(Path(out).stat().st_mode) == 0o600
