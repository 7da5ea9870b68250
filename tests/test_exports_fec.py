"""FEC (SPEC 4.4) read back with an independent reader (tests/fec_reader.py), not the exporter's code.

Names, encoding, 18 columns, mandatory fields, balanced écritures, à-nouveaux that carry the
treasury, stable numbering across a back-dated entry, bank movements only in BQ, signatures.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fec_reader import FIELDS, FecError, cents, read
from payouts_support import batch_of, payroll_scenario

VELO_SIREN, FUND_SIREN = "900000019", "900000043"


@pytest.fixture
def scenario(client, make_person, make_commons):
    found = payroll_scenario(client, make_person, make_commons)
    people = found["people"]
    set_identity(client, people["steward"], "/api/v1/commons/velo/legal-identity", siren=VELO_SIREN, legal_name="Vélo SAS")
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=people["acc"].headers)
    paid = client.post(
        f"/api/v1/payout-batches/{batch_of(found['rounds']['velo'], 'cae').id}/paid",
        json={"paid_on": "2025-03-28", "bank_reference": "VIR-FEC"},
        headers=people["acc"].headers,
    )
    assert paid.status_code == 200, paid.get_json()
    return found


def set_identity(client, actor, url, **body):
    response = client.put(url, json=body, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def fec(client, actor, query="commons=velo&from=2025-01-01&to=2025-12-31", path="/api/v1/exports/fec"):
    return client.get(f"{path}?{query}", headers=actor.headers)


def read_response(response, encoding="iso-8859-15"):
    assert response.status_code == 200, response.get_json()
    name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
    assert response.headers["Content-Type"] == f"text/plain; charset={encoding}"
    return read(name, response.data, encoding)


def numbers(parsed) -> dict[str, str]:
    """PieceRef → EcritureNum of the écritures that come from the ledger."""
    return {rows[0]["PieceRef"]: num for (journal, num), rows in parsed.entries.items() if journal != "AN"}


def test_a_commons_fec_is_named_encoded_balanced_and_keeps_bank_movements_in_bq(client, scenario):
    people = scenario["people"]
    parsed = read_response(fec(client, people["steward"]))
    assert (parsed.siren, parsed.closing.isoformat()) == (VELO_SIREN, "2025-12-31")
    # nothing before 2025: the à-nouveaux are empty; income, 3 retributions, 1 payment, nothing of jardin
    assert [journal for journal, _ in parsed.entries] == ["BQ"] * 5
    assert not any(row["CompteNum"].startswith("458") for row in parsed.lines)
    for (journal, _), rows in parsed.entries.items():
        assert (journal == "BQ") == any(row["CompteNum"].startswith("512") for row in rows)
    # numbered BQ000001… in the order of recording
    assert sorted(num for _, num in parsed.entries) == [f"BQ{n:06d}" for n in range(1, 6)]
    payment = [row for row in parsed.lines if row["EcritureDate"] == "20250328"]
    assert sum(cents(r["Credit"]) for r in payment if r["CompteNum"] == "512000") == 40228
    # the year-end bank balance is the commons' treasury
    treasury = client.get("/api/v1/commons/velo", headers=people["steward"].headers).get_json()["treasury_cents"]
    assert parsed.balance("512") == treasury
    # people under their pseudonym, a CAE member under their analytic code; never an email
    text = fec(client, people["steward"]).data.decode("iso-8859-15")
    assert "@" not in text
    aux = {row["CompAuxNum"] for row in parsed.lines if row["CompteNum"] == "467000"}
    assert "ACT-ALICE" in aux and len(aux) == 3
    assert {a for a in aux if a != "ACT-ALICE"} == {a for a in aux if a.startswith("contributor-")}


def test_numbers_are_stored_at_recording_and_a_back_dated_income_renumbers_nothing(client, scenario):
    people = scenario["people"]
    before = read_response(fec(client, people["steward"]))
    income = client.post(
        "/api/v1/commons/velo/income",
        json={"amount_cents": 12_345, "source": "donation", "funder": "Anonyme", "date": "2025-01-01"},
        headers=people["steward"].headers,
    )
    assert income.status_code == 201, income.get_json()
    after = read_response(fec(client, people["steward"]))
    old, new = numbers(before), numbers(after)
    assert {ref: new[ref] for ref in old} == old
    [added] = set(new) - set(old)
    assert new[added] == "BQ000006"
    entry = after.entries[("BQ", "BQ000006")]
    assert entry[0]["EcritureDate"] == "20250101" and entry[0]["ValidDate"] >= "20250101"
    # ValidDate is the recording day, EcritureDate the operation's: the back-dated entry shows both
    assert entry[0]["ValidDate"] != entry[0]["EcritureDate"]


def test_a_fiscal_year_starting_in_july_opens_with_the_balances_carried_in_an(client, scenario):
    people = scenario["people"]
    set_identity(client, people["steward"], "/api/v1/commons/velo/legal-identity", fiscal_year_start="07-01")
    first = read_response(fec(client, people["steward"], "commons=velo&year=2024"))
    assert first.closing.isoformat() == "2025-06-30"
    second = read_response(fec(client, people["steward"], "commons=velo&year=2025"))
    assert second.closing.isoformat() == "2026-06-30"
    opening = second.entries[("AN", "AN000001")]
    assert list(second.entries) == [("AN", "AN000001")]
    assert {row["EcritureDate"] for row in opening} == {"20250701"}
    assert second.lines[: len(opening)] == opening  # the file opens with them
    # 512 carried = 512 at the end of the year before = the treasury; classes 1-5 only, result on 110/119
    assert second.balance("512") == first.balance("512")
    assert all(row["CompteNum"][0] in "12345" for row in opening)
    payables = defaultdict(int)
    for row in first.lines:
        if row["CompteNum"].startswith("467"):
            payables[row["CompAuxNum"]] += cents(row["Debit"]) - cents(row["Credit"])
    carried = {row["CompAuxNum"]: cents(row["Debit"]) - cents(row["Credit"]) for row in opening if row["CompteNum"] == "467000"}
    assert carried == {aux: total for aux, total in payables.items() if total}
    result = [row for row in opening if row["CompteNum"][:3] in ("110", "119")]
    assert len(result) == 1 and first.balance("6") + first.balance("7") == -(
        cents(result[0]["Credit"]) - cents(result[0]["Debit"])
    )


def test_the_fund_keeps_its_own_books(client, scenario):
    people = scenario["people"]
    missing = fec(client, people["admin"], "fund=true&year=2025")
    assert missing.status_code == 422 and "siren" in missing.get_json()["error"]["fields"]
    set_identity(client, people["admin"], "/api/v1/solidarity-fund/legal-identity", siren=FUND_SIREN, legal_name="Fonds")
    parsed = read_response(fec(client, people["admin"], "fund=true&year=2025"))
    assert parsed.siren == FUND_SIREN
    fund = client.get("/api/v1/solidarity-fund").get_json()
    assert parsed.balance("512") == fund["balance_cents"]
    assert -parsed.balance("758") == fund["levies_cents"] and parsed.balance("657") == fund["topups_cents"]
    assert -parsed.balance("467") == fund["owed_cents"]
    for (journal, _), rows in parsed.entries.items():
        assert (journal == "BQ") == any(row["CompteNum"].startswith("512") for row in rows)
    assert fec(client, people["dave"], "fund=true&year=2025").status_code == 403


def test_without_a_siren_there_is_no_fec_and_bad_identities_are_refused(client, scenario, runner, tmp_path):
    people = scenario["people"]
    refused = fec(client, people["steward2"], "commons=jardin&year=2025")
    assert refused.status_code == 422 and "SIREN" in refused.get_json()["error"]["fields"]["siren"][0]
    result = runner.invoke(["export", "fec", "--commons", "jardin", "--year", "2025", "--out", str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "no SIREN" in result.output and not (tmp_path / "x.txt").exists()
    for body, name in (({"siren": "900000018"}, "siren"), ({"fiscal_year_start": "02-30"}, "fiscal_year_start")):
        bad = client.put("/api/v1/commons/jardin/legal-identity", json=body, headers=people["steward2"].headers)
        assert bad.status_code == 422 and name in bad.get_json()["error"]["fields"]
    assert (
        client.put(
            "/api/v1/commons/jardin/legal-identity", json={"siren": "900000027"}, headers=people["alice"].headers
        ).status_code
        == 403
    )


def test_encoding_replaces_typographic_dashes_and_refuses_what_latin9_lacks(client, scenario):
    people = scenario["people"]
    for funder, day in (("Métropole — économie circulaire", "2025-05-02"), ("Club ☃ hiver", "2025-05-03")):
        posted = client.post(
            "/api/v1/commons/velo/income",
            json={"amount_cents": 1000, "source": "grant", "funder": funder, "date": day},
            headers=people["steward"].headers,
        )
        assert posted.status_code == 201
    refused = fec(client, people["steward"])
    assert refused.status_code == 422
    message = refused.get_json()["error"]["fields"]["encoding"][0]
    assert "☃" in message and "EcritureLib" in message and "utf-8" in message
    utf8 = read_response(fec(client, people["steward"], "commons=velo&from=2025-01-01&to=2025-12-31&encoding=utf-8"), "utf-8")
    assert any("Métropole — économie" in row["EcritureLib"] for row in utf8.lines)
    latin9 = read_response(fec(client, people["steward"], "commons=velo&from=2025-01-01&to=2025-05-02"))
    assert any("Métropole - économie" in row["EcritureLib"] for row in latin9.lines)


def test_fec_and_description_are_signed_and_the_range_is_checked(client, scenario, runner, tmp_path, monkeypatch):
    people = scenario["people"]
    response = fec(client, people["steward"], "commons=velo&from=2025-03-01&to=2025-03-31")
    key = load_pem_public_key(client.get("/api/v1/keys/signing").get_json()["public_key_pem"].encode())
    key.verify(base64.b64decode(response.headers["X-Ledger-Signature"]), response.data)
    parsed = read_response(response)
    assert {row["EcritureDate"][:6] for row in parsed.lines if row["JournalCode"] != "AN"} == {"202503"}
    assert {row["EcritureDate"] for row in parsed.lines if row["JournalCode"] == "AN"} == {"20250301"}
    described = fec(client, people["steward"], "commons=velo&from=2025-03-01&to=2025-03-31", "/api/v1/exports/fec/description")
    assert described.status_code == 200
    key.verify(base64.b64decode(described.headers["X-Ledger-Signature"]), described.data)
    notes = described.data.decode("iso-8859-15")
    assert f"{VELO_SIREN}FEC20250331.txt" in notes and "ISO-8859-15" in notes and "Vélo SAS" in notes
    assert all(f"{name} (" in notes for name in ("JournalCode", "EcritureNum", "ValidDate", "Idevise"))
    backwards = fec(client, people["steward"], "commons=velo&from=2025-03-31&to=2025-03-01")
    assert backwards.status_code == 422 and "to" in backwards.get_json()["error"]["fields"]
    bad_date = fec(client, people["steward"], "commons=velo&from=2025-02-30&to=2025-03-01")
    assert bad_date.status_code == 422 and "from" in bad_date.get_json()["error"]["fields"]
    both = fec(client, people["steward"], "commons=velo&year=2025&from=2025-01-01&to=2025-02-01")
    assert both.status_code == 422 and "year" in both.get_json()["error"]["fields"]
    assert fec(client, people["dave"]).status_code == 403
    assert fec(client, people["steward"], "commons=nope&year=2025").status_code == 404
    assert fec(client, people["acc"]).status_code == 200  # accountants keep the books
    # the CLI writes the file, its description and both signatures, under the legal name
    monkeypatch.chdir(tmp_path)  # the default names land in the working directory, never in the checkout
    result = runner.invoke(["export", "fec", "--commons", "velo", "--year", "2025"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{VELO_SIREN}FEC20251231.txt" in result.output and f"{VELO_SIREN}FEC20251231_description.txt" in result.output
    written = sorted(path.name for path in tmp_path.glob(f"{VELO_SIREN}FEC*"))
    assert written == [
        f"{VELO_SIREN}FEC20251231{suffix}" for suffix in (".txt", ".txt.sig", "_description.txt", "_description.txt.sig")
    ]


def test_fec_account_numbers_are_configurable(client, scenario, runner, tmp_path):
    runner.app.config["LEDGER_FEC_ACCOUNTS"] = {"treasury": ["512100", "Banque Crédit Coopératif"]}
    out = tmp_path / f"{VELO_SIREN}FEC20251231.txt"
    result = runner.invoke(
        ["export", "fec", "--commons", "velo", "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    parsed = read(out.name, out.read_bytes())
    assert {row["CompteLib"] for row in parsed.lines if row["CompteNum"] == "512100"} == {"Banque Crédit Coopératif"}
    assert not any(row["CompteNum"] == "512000" for row in parsed.lines)
    assert (tmp_path / f"{out.name}.sig").exists() and (tmp_path / f"{out.stem}_description.txt").exists()


def test_the_reader_catches_what_it_should():
    good = "\t".join(FIELDS)
    line = "BQ\tBanque\t1\t20250101\t512000\tBanque\t\t\tL1\t20250101\tx\t{d}\t{c}\t\t\t20250101\t\t"
    body = good + "\r\n" + line.format(d="1,00", c="0,00") + "\r\n"
    with pytest.raises(FecError, match="does not balance"):
        read("900000019FEC20251231.txt", body.encode())
    with pytest.raises(FecError, match="file name"):
        read("velo-FEC20251231.txt", body.encode())
    with pytest.raises(FecError, match="checksum"):
        read("900000018FEC20251231.txt", body.encode())


def test_sage_entries_match_the_fec_and_carry_the_members_analytic_code(client, scenario, runner, tmp_path):
    people = scenario["people"]
    response = fec(client, people["acc"], "commons=velo&year=2025", "/api/v1/exports/sage")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=iso-8859-15"
    assert re.search(r'filename="900000019SAGE20250101-20251231.csv"', response.headers["Content-Disposition"])
    key = load_pem_public_key(client.get("/api/v1/keys/signing").get_json()["public_key_pem"].encode())
    key.verify(base64.b64decode(response.headers["X-Ledger-Signature"]), response.data)
    text = response.data.decode("iso-8859-15")
    assert text.endswith("\r\n")
    header, *records = text[:-2].split("\r\n")
    assert header.split(";") == [
        "Numéro de pièce",
        "Code journal",
        "Date de pièce",
        "N° compte général",
        "Numéro de compte tiers",
        "Libellé d'écriture",
        "Montant débit",
        "Montant crédit",
        "Type de ligne",
        "Numéro analytique",
    ]
    rows = [dict(zip(header.split(";"), r.split(";"), strict=True)) for r in records]
    general = [r for r in rows if r["Type de ligne"] == "G"]
    book = read_response(fec(client, people["acc"], "commons=velo&year=2025"))
    assert len(general) == sum(1 for r in book.lines if r["JournalCode"] != "AN")
    totals = defaultdict(int)
    for r in general:
        assert re.match(r"^\d{6}$", r["Date de pièce"])
        totals[r["Numéro de pièce"]] += cents(r["Montant débit"] or "0,00") - cents(r["Montant crédit"] or "0,00")
    assert set(totals) == {num for _, num in book.entries if not num.startswith("AN")} and not any(totals.values())
    analytic = [r for r in rows if r["Type de ligne"] == "A"]
    # Alice's velo retribution is her only écriture with a class-6 line: it gets her analytic line
    assert [(r["N° compte général"], r["Numéro analytique"], r["Montant débit"]) for r in analytic] == [
        ("622600", "ACT-ALICE", "300,00")
    ]
    out = tmp_path / "velo-sage.csv"
    result = runner.invoke(["export", "sage", "--commons", "velo", "--year", "2025", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == response.data and (tmp_path / "velo-sage.csv.sig").exists()
    assert fec(client, people["dave"], "commons=velo&year=2025", "/api/v1/exports/sage").status_code == 403


def test_legal_identities_are_set_from_the_command_line(client, scenario, runner):
    refused = runner.invoke(["legal", "set", "--commons", "jardin", "--siren", "123456789"])
    assert refused.exit_code == 1 and "siren" in refused.output
    result = runner.invoke(["legal", "set", "--commons", "jardin", "--siren", "900000027", "--fiscal-year-start", "04-01"])
    assert result.exit_code == 0 and "900000027" in result.output and "04-01" in result.output, result.output
    assert runner.invoke(["legal", "set", "--fund", "--siren", "900000043", "--legal-name", "Fonds"]).exit_code == 0
    assert runner.invoke(["legal", "set", "--cae", "ECOTONE", "--siren", "900000050"]).exit_code == 0
    assert runner.invoke(["legal", "set", "--fund", "--cae", "ECOTONE"]).exit_code == 1
    parsed = read_response(fec(client, scenario["people"]["steward2"], "commons=jardin&year=2024"))
    assert (parsed.siren, parsed.closing.isoformat()) == ("900000027", "2025-03-31")
    assert client.get("/api/v1/exports/fec?fund=true&year=2025", headers=scenario["people"]["admin"].headers).status_code == 200
