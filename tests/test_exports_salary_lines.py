"""Salary lines (SPEC 4.3): exact bytes, detached signature, sums equal to the ledger, re-export."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import Line, batch_of, finalized_round, payroll_scenario
from sqlalchemy import func, select

from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.extensions import db
from ledger.payouts.exports.salary_lines import estimate_salary
from ledger.payouts.models import ExportRecord, PayoutBatch

HEADER = (
    "period;cae_code;employee_ref;last_name;first_name;contract_type;hours;gross_retribution;solidarity_levy;"
    "solidarity_topup;cae_contribution;salary_budget;estimated_employer_charges;estimated_gross_salary;line_count;batch_id"
)


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def export(client, actor, period="2025-03", cae="ECOTONE", analytic=False):
    extra = "&analytic=true" if analytic else ""
    return client.get(f"/api/v1/exports/salary-lines?cae={cae}&period={period}{extra}", headers=actor.headers)


def public_key(client):
    body = client.get("/api/v1/keys/signing").get_json()
    assert body["algorithm"] == "Ed25519"
    return load_pem_public_key(body["public_key_pem"].encode())


def test_salary_lines_file_is_exactly_as_specified(client, scenario):
    rounds = scenario["rounds"]
    velo_cae, jardin_cae = batch_of(rounds["velo"], "cae").id, batch_of(rounds["jardin"], "cae").id
    response = export(client, scenario["people"]["acc"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="salary-lines-ECOTONE-2025-03.csv"'
    expected = (
        "\ufeff" + HEADER + "\r\n"
        # sorted by employee reference: Bob (E-001, CAPE: no salary estimates) before Alice (E-002)
        f"2025-03;ECOTONE;E-001;Durand;Bob;CAPE;8,25;123,45;6,17;5,00;12,23;110,05;0,00;0,00;1;{velo_cae}\r\n"
        # Alice: both commons of March added up; 342,00 / 1,45 = 235,862… → 235,86 gross salary
        f"2025-03;ECOTONE;E-002;Martin-Legrand;Alice;CESA;26,50;400,00;20,00;0,00;38,00;342,00;106,14;235,86;2;{velo_cae}+{jardin_cae}\r\n"
    ).encode("utf-8")
    assert response.data == expected
    assert response.data.startswith(b"\xef\xbb\xbf")


def test_analytic_columns_come_after_the_specified_ones_only_when_asked(client, scenario):
    rounds = scenario["rounds"]
    velo_cae, jardin_cae = batch_of(rounds["velo"], "cae").id, batch_of(rounds["jardin"], "cae").id
    rows = export(client, scenario["people"]["acc"], analytic=True).data.decode("utf-8-sig").split("\r\n")
    assert rows[0] == HEADER + ";analytic_code;contribution_rate"
    assert rows[1].endswith(f";1;{velo_cae};;0,10")  # Bob has no analytic code; the CAE's rate
    assert rows[2].endswith(f";2;{velo_cae}+{jardin_cae};ACT-ALICE;0,10")


def test_signature_verifies_with_the_public_key_alone_and_fails_after_one_byte(client, scenario):
    response = export(client, scenario["people"]["acc"])
    signature = base64.b64decode(response.headers["X-Ledger-Signature"])
    key = public_key(client)
    assert response.headers["X-Ledger-Key-Id"] == client.get("/api/v1/keys/signing").get_json()["key_id"]
    key.verify(signature, response.data)  # raises if invalid
    tampered = bytearray(response.data)
    tampered[tampered.index(b"342,00")] = ord("9")
    with pytest.raises(InvalidSignature):
        key.verify(signature, bytes(tampered))


def _ledger_sum(refs: list[str], kind: str, *, sign: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount_cents), 0))
        .join(Account)
        .join(LedgerTransaction)
        .where(LedgerTransaction.ref.in_(refs), Account.kind == kind)
    )
    return sign * int(total)


def test_sums_in_the_file_equal_the_ledger(client, scenario):
    people, rounds = scenario["people"], scenario["rounds"]
    text = export(client, people["acc"]).data.decode("utf-8-sig")
    rows = [line.split(";") for line in text.strip("\r\n").split("\r\n")[1:]]
    by_ref = {row[2]: row for row in rows}
    march = [rounds["velo"].id, rounds["jardin"].id]

    def cents(value: str) -> int:
        euros, cents_part = value.split(",")
        return int(euros) * 100 + int(cents_part)

    for ref, person in (("E-002", people["alice"]), ("E-001", people["bob"])):
        retributions = [f"round:{r}:retribution:{person.id}" for r in march]
        topups = [f"round:{r}:topup:{person.id}" for r in march]
        row = by_ref[ref]
        assert cents(row[7]) == _ledger_sum(retributions, "retributions", sign=1)
        assert cents(row[8]) == _ledger_sum(retributions, "fund:levies", sign=-1)
        assert cents(row[9]) == _ledger_sum(topups, "fund:payable", sign=-1)
        owed = _ledger_sum(retributions, "payable:person", sign=-1) + _ledger_sum(topups, "fund:payable", sign=-1)
        # what the CAE receives is its contribution plus the salary budget: exactly what the ledger owes
        assert cents(row[10]) + cents(row[11]) == owed
        assert cents(row[12]) + cents(row[13]) == (cents(row[11]) if row[5] == "CESA" else 0)


def test_reexport_gives_the_same_bytes_and_records_who_and_when(client, scenario):
    people, rounds = scenario["people"], scenario["rounds"]
    first, second = export(client, people["acc"]), export(client, people["acc"])
    assert first.data == second.data and first.headers["X-Ledger-Signature"] == second.headers["X-Ledger-Signature"]
    records = db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)).all()
    assert [(r.kind, r.params, r.created_by_id) for r in records] == [
        ("salary-lines", "cae=ECOTONE;period=2025-03", people["acc"].id)
    ] * 2
    import hashlib

    assert records[0].sha256 == hashlib.sha256(first.data).hexdigest() and records[0].byte_count == len(first.data)
    for name in ("velo", "jardin"):
        batch = batch_of(rounds[name], "cae")
        assert (batch.state, batch.exported_by_id) == ("exported", people["acc"].id) and batch.exported_at is not None
    # the April round and the invoice batch are untouched
    assert batch_of(rounds["april"], "cae").state == "pending"
    assert batch_of(rounds["velo"], "invoice").state == "pending"
    # something changes in March: the file changes
    finalized_round(
        "jardin",
        [Line(people["bob"].id, "1.00", 1500, 75, "cae", "ECOTONE")],
        period_start=date(2025, 1, 1),
        period_end=date(2025, 1, 31),
        finalized_at=datetime(2025, 3, 31, 12, tzinfo=UTC),
    )
    third = export(client, people["acc"])
    assert third.data != first.data
    assert b";CAPE;9,25;138,45;6,92;5,00;13,66;122,87;0,00;0,00;2;" in third.data


def test_next_month_holds_only_its_own_round(client, scenario):
    april = export(client, scenario["people"]["acc"], period="2025-04").data.decode("utf-8-sig").split("\r\n")
    assert april[1].startswith("2025-04;ECOTONE;E-002;Martin-Legrand;Alice;CESA;2,00;30,00;1,50;0,00;2,85;25,65;")
    assert april[1].endswith(f";1;{batch_of(scenario['rounds']['april'], 'cae').id}") and april[2:] == [""]
    empty = export(client, scenario["people"]["acc"], period="2024-12")
    assert empty.data == ("\ufeff" + HEADER + "\r\n").encode()


def test_only_the_cae_accountant_exports_salary_lines(client, scenario):
    people = scenario["people"]
    assert export(client, people["admin"]).status_code == 403
    assert export(client, people["alice"]).status_code == 403
    assert client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03").status_code == 401
    bad = export(client, people["acc"], period="2025-13")
    assert bad.status_code == 422 and "period" in bad.get_json()["error"]["fields"]
    assert export(client, people["acc"], cae="NOPE").status_code == 404
    # nothing was exported by the refused requests
    assert db.session.scalar(select(func.count(ExportRecord.id))) == 0
    assert set(db.session.scalars(select(PayoutBatch.state))) == {"pending"}


def test_cli_writes_the_file_and_its_detached_signature(app, client, runner, scenario, tmp_path):
    out = tmp_path / "march.csv"
    result = runner.invoke(["export", "salary-lines", "--cae", "ECOTONE", "--period", "2025-03", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 lines" in result.output
    signature = base64.b64decode((tmp_path / "march.csv.sig").read_text().strip())
    public_key(client).verify(signature, out.read_bytes())
    assert out.read_bytes() == export(client, scenario["people"]["acc"]).data
    assert db.session.scalar(select(ExportRecord.created_by_id).order_by(ExportRecord.id).limit(1)) is None
    failed = runner.invoke(["export", "salary-lines", "--cae", "ECOTONE", "--period", "March", "--out", str(tmp_path / "x.csv")])
    assert failed.exit_code == 1 and "period" in failed.output and not (tmp_path / "x.csv").exists()


def test_salary_estimates_split_the_budget_exactly():
    from decimal import Decimal

    assert estimate_salary(34200, Decimal("0.45"), "CESA") == (10614, 23586)
    assert estimate_salary(34200, Decimal("0.45"), "associe") == (10614, 23586)
    assert estimate_salary(34200, Decimal("0.45"), "CAPE") == (0, 0)
    assert estimate_salary(0, Decimal("0.45"), "CESA") == (0, 0)


def test_the_cae_page_offers_the_analytic_columns_as_the_api_does(client, scenario):
    acc = scenario["people"]["acc"]
    api = export(client, acc, analytic=True).data
    with client.session_transaction() as session:
        session["person_id"] = acc.id
    plain = client.get("/caes/ECOTONE/salary-lines?period=2025-03&form=file").data.decode("utf-8-sig")
    assert plain.split("\r\n")[0] == HEADER
    page = client.get("/caes/ECOTONE/salary-lines?period=2025-03&form=file&analytic=y").data
    assert page == api
    assert page.decode("utf-8-sig").split("\r\n")[2].endswith(";ACT-ALICE;0,10")
