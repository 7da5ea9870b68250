"""`ledger keys rotate`: every employee reference re-encrypted, old keys forgotten, old exports still verify."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import payroll_scenario

from ledger import crypto
from ledger.crypto import decrypt
from ledger.extensions import db
from ledger.payouts.models import CaeMembership


def test_rotation_reencrypts_everything_and_old_exports_still_verify(app, client, runner, make_person, make_commons):
    scenario = payroll_scenario(client, make_person, make_commons)
    before = client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=scenario["people"]["acc"].headers)
    old_tokens = {m.id: bytes(m.employee_ref_encrypted) for m in db.session.query(CaeMembership)}
    key_file = Path(app.config["LEDGER_DATA_KEY_FILE"])
    old_key = key_file.read_text()

    result = runner.invoke(["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "2 values re-encrypted" in result.output
    new_key = key_file.read_text()
    assert new_key != old_key and len(new_key.strip().splitlines()) == 1 and old_key.strip() not in new_key

    db.session.expire_all()
    members = db.session.query(CaeMembership).order_by(CaeMembership.id).all()
    assert all(bytes(m.employee_ref_encrypted) != old_tokens[m.id] for m in members)
    assert [decrypt(m.employee_ref_encrypted) for m in members] == ["E-002", "E-001"]
    # the export made before the rotation still verifies, and a new export gives the same bytes
    key = load_pem_public_key(client.get("/api/v1/keys/signing").get_json()["public_key_pem"].encode())
    key.verify(base64.b64decode(before.headers["X-Ledger-Signature"]), before.data)
    after = client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=scenario["people"]["acc"].headers)
    assert after.data == before.data


def test_rotation_is_refused_when_keys_come_from_the_environment(make_app):
    from conftest import LedgerRunner
    from cryptography.fernet import Fernet

    app = make_app(LEDGER_DATA_KEY=Fernet.generate_key().decode())
    with app.app_context():
        result = LedgerRunner(app).invoke(["keys", "rotate"])
    assert result.exit_code == 1 and "LEDGER_DATA_KEY" in result.output


def test_first_use_of_the_key_file_by_many_threads_gives_everyone_the_same_key(app):
    """A worker reading while another creates the key file must never see it empty (CI saw a 500)."""
    key_file = Path(app.config["LEDGER_DATA_KEY_FILE"])
    key_file.unlink(missing_ok=True)
    barrier = threading.Barrier(16)
    seen: list[list[bytes]] = []

    def first_use():
        with app.app_context():
            barrier.wait()
            seen.append(crypto.load_keys())

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16 and all(keys == seen[0] for keys in seen) and len(seen[0]) == 1
    assert key_file.read_text().strip().encode() == seen[0][0]
    assert key_file.stat().st_mode & 0o077 == 0
    assert [p.name for p in key_file.parent.iterdir() if p.name.startswith(".data_keys")] == []
