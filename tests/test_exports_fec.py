"""FEC (SPEC 4.4): 18 columns, YYYYMMDD dates, comma amounts, every écriture balanced, signed."""

from __future__ import annotations

import base64
import re
from collections import defaultdict

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import batch_of, payroll_scenario

from ledger.payouts.exports.fec import COLUMNS

AMOUNT = re.compile(r"^\d+,\d{2}$")
DATE = re.compile(r"^\d{8}$")


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def fec(client, actor, commons="velo", start="2025-01-01", end="2025-12-31"):
    return client.get(f"/api/v1/exports/fec?commons={commons}&from={start}&to={end}", headers=actor.headers)


def parse(data: bytes) -> tuple[list[str], list[dict]]:
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == ""
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:-1]]
    return header, rows


def cents(value: str) -> int:
    euros, part = value.split(",")
    return int(euros) * 100 + int(part)


def test_fec_has_the_18_columns_formats_and_balanced_entries(client, scenario):
    people = scenario["people"]
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=people["acc"].headers)
    client.post(
        f"/api/v1/payout-batches/{batch_of(scenario['rounds']['velo'], 'cae').id}/paid",
        json={"paid_on": "2025-03-28", "bank_reference": "VIR-FEC"},
        headers=people["acc"].headers,
    )
    response = fec(client, people["steward"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    header, rows = parse(response.data)
    assert header == list(COLUMNS) and len(header) == 18
    assert header[0] == "JournalCode" and header[-1] == "Idevise"
    totals = defaultdict(int)
    for row in rows:
        for column in ("EcritureDate", "PieceDate", "ValidDate"):
            assert DATE.match(row[column]), row
        assert AMOUNT.match(row["Debit"]) and AMOUNT.match(row["Credit"])
        assert (cents(row["Debit"]) == 0) != (cents(row["Credit"]) == 0)
        assert re.match(r"^\d{6}$", row["CompteNum"]) and row["CompteLib"]
        totals[row["EcritureNum"]] += cents(row["Debit"]) - cents(row["Credit"])
    assert totals and all(total == 0 for total in totals.values())
    # numbered 1..n without gaps, in date order
    assert sorted(map(int, totals)) == list(range(1, len(totals) + 1))
    dates = [row["EcritureDate"] for row in rows]
    assert dates == sorted(dates)
    # income (1), three retributions of the March round, one payment: jardin's entries are not here
    assert len(totals) == 5
    payment = [row for row in rows if row["EcritureDate"] == "20250328"]
    assert {row["JournalCode"] for row in payment} == {"BQ"}
    assert sum(cents(r["Credit"]) for r in payment if r["CompteNum"] == "512000") == 40228
    # people appear as auxiliary accounts under their pseudonym, never their email
    text = response.data.decode()
    assert people["alice"].email not in text and "@" not in text
    aux = {row["CompAuxNum"] for row in rows if row["CompteNum"] == "467000"}
    assert len(aux) == 3 and all(a.startswith("contributor-") for a in aux)
    # levies go to the fund through the liaison account, inside the same balanced écriture
    assert any(row["CompteNum"] == "458100" for row in rows)


def test_fec_is_signed_and_the_range_is_checked(client, scenario):
    people = scenario["people"]
    response = fec(client, people["steward"], start="2025-03-01", end="2025-03-31")
    key = load_pem_public_key(client.get("/api/v1/keys/signing").get_json()["public_key_pem"].encode())
    key.verify(base64.b64decode(response.headers["X-Ledger-Signature"]), response.data)
    _, rows = parse(response.data)
    assert {row["EcritureDate"][:6] for row in rows} == {"202503"}
    backwards = fec(client, people["steward"], start="2025-03-31", end="2025-03-01")
    assert backwards.status_code == 422 and "to" in backwards.get_json()["error"]["fields"]
    bad_date = fec(client, people["steward"], start="2025-02-30")
    assert bad_date.status_code == 422 and "from" in bad_date.get_json()["error"]["fields"]
    assert fec(client, people["dave"]).status_code == 403
    assert fec(client, people["steward"], commons="nope").status_code == 404
    assert fec(client, people["acc"]).status_code == 200  # accountants keep the books


def test_fec_account_numbers_are_configurable(make_app, client, scenario, runner, tmp_path):
    runner.app.config["LEDGER_FEC_ACCOUNTS"] = {"treasury": ["512100", "Banque Crédit Coopératif"]}
    out = tmp_path / "velo.txt"
    result = runner.invoke(
        ["export", "fec", "--commons", "velo", "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    _, rows = parse(out.read_bytes())
    assert {row["CompteLib"] for row in rows if row["CompteNum"] == "512100"} == {"Banque Crédit Coopératif"}
    assert not any(row["CompteNum"] == "512000" for row in rows)
    assert (tmp_path / "velo.txt.sig").exists()
