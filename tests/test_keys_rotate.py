"""`ledger keys rotate`: every employee reference re-encrypted, old keys forgotten, old exports still verify."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import payroll_scenario

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
