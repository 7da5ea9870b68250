"""`ledger backup` / `ledger restore`: one file restores an installation whose ledger verifies."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.service import balance
from ledger.extensions import db
from ledger.payouts.models import CaeMembership
from ledger.rounds.models import AllocationLine
from tests.conftest import ENGINE, PG_URL, LedgerRunner, fresh_pg_database, worker_id
from tests.payouts_support import add_cae_member, create_cae
from tests.rounds_support import World, advance, declare, fund_commons, open_round, set_route


@pytest.fixture
def installation(app, client, make_person, make_commons):
    """A commons with income, a CAE member, and a finalized round: every kind of row at least once."""
    admin = make_person("Admin", admin=True)
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", members={"member": ana, "contributor": bob})
    world = World("velo", steward, {"ana": ana, "bob": bob})
    fund_commons(world, 300_000)
    cae = create_cae(client, admin, code="OXALIS")
    add_cae_member(client, admin, "OXALIS", ana, "EMP-001", first_name="Ana", last_name="Lopès")
    set_route(world, ana, "cae", cae["id"])
    declare(world, ana, "10", date(2026, 1, 12))
    declare(world, bob, "4.5", date(2026, 1, 14), category="care")
    created = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)
    advance(client, world, created["id"], times=3)
    return {"admin": admin, "world": world, "round": created["id"]}


def figures() -> dict:
    """What must be identical after a restore (read, then the session lets go of SQLite's lock)."""
    found = {
        "transactions": db.session.scalar(select(func.count(LedgerTransaction.id))),
        "last_hash": db.session.scalar(select(LedgerTransaction.hash).order_by(LedgerTransaction.seq.desc()).limit(1)),
        "treasury": balance("commons:velo:treasury"),
        "fund": balance(chart.fund_treasury().code),
        "lines": sorted(db.session.execute(select(AllocationLine.person_id, AllocationLine.net_cents)).all()),
        "employee_refs": db.session.scalar(select(func.count(CaeMembership.id))),
    }
    db.session.rollback()
    return found


@pytest.fixture
def empty_database_url(request, tmp_path):
    if ENGINE == "postgresql":
        return fresh_pg_database(PG_URL, f"ledger_restore_{os.environ.get('LEDGER_TEST_DB_TAG', '')}{worker_id(request)}")
    return f"sqlite:///{tmp_path / 'restored.db'}"


def test_backup_then_restore_into_an_empty_database_verifies_with_equal_figures(
    app, runner, make_app, installation, empty_database_url, tmp_path
):
    before = figures()
    assert before["transactions"] >= 3
    out = tmp_path / "ledger-backup.zip"
    made = runner.invoke(["backup", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "Keys are not in the backup" in made.output
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["keys_included"] is False
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert (
        rows["ledger_transactions"] == before["transactions"] and rows["people"] == 5
    )  # with the administrator who created the commons

    # The same keys (saved apart, as the notice says), another database.
    restored_app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with restored_app.app_context():
        restored_runner = LedgerRunner(restored_app)
        result = restored_runner.invoke(["restore", str(out)])
        assert result.exit_code == 0, result.output
        verified = restored_runner.invoke(["verify"])
        assert verified.exit_code == 0, verified.output
        assert f"{before['transactions']} transactions, last hash {before['last_hash']}" in verified.output
        assert figures() == before
        # The database hands out fresh ids after the restored ones (PostgreSQL sequences reset).
        client = restored_app.test_client()
        steward = installation["world"].steward
        response = client.post(
            "/api/v1/commons",
            json={"slug": "atelier", "name": "Atelier", "steward_email": steward.email},
            headers=installation["admin"].headers,
        )
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["id"] == 2
        db.session.remove()


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(runner, installation, tmp_path):
    out = tmp_path / "b.zip"
    assert runner.invoke(["backup", "--out", str(out)]).exit_code == 0
    before = figures()
    result = runner.invoke(["restore", str(out)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert figures() == before


def test_restore_refuses_a_damaged_backup_and_stores_nothing(app, runner, make_app, installation, empty_database_url, tmp_path):
    out = tmp_path / "b.zip"
    assert runner.invoke(["backup", "--out", str(out)]).exit_code == 0
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "tables/ledger_postings.jsonl":
                data = data.replace(b'"amount_cents":', b'"amount_cents":1', 1)  # one amount altered
            target.writestr(item, data)
    restored_app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with restored_app.app_context():
        result = LedgerRunner(restored_app).invoke(["restore", str(damaged)])
        assert result.exit_code == 1
        assert "ledger_postings" in result.output and "damaged" in result.output
        assert db.session.scalar(select(func.count(LedgerTransaction.id))) == 0
        db.session.remove()


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = runner.invoke(["restore", str(junk)])
    assert result.exit_code == 1 and "cannot read" in result.output
