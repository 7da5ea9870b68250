"""Every demo export read back with the independent FEC reader, year after year, commons and fund."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from fec_reader import read
from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.people.service import create_token, find_by_email
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)


@pytest.fixture
def admin_headers(demo_app):
    token = create_token(find_by_email("admin@demo.communs.example"), "fec test")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def export(client, headers, query, path="/api/v1/exports/fec"):
    response = client.get(f"{path}?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def read_years(client, headers, books: str):
    """The FEC of every fiscal year from the first ledger entry's to this one's, in order."""
    first = db.session.scalar(select(func.min(LedgerTransaction.occurred_on)))
    files = []
    for year in range(first.year - 1, date.today().year + 1):
        response = export(client, headers, f"{books}&year={year}")
        name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
        files.append(read(name, response.data, "iso-8859-15"))
    return files


def check_books(files, treasury_cents: int) -> None:
    numbers = defaultdict(list)
    for previous, parsed in zip([None, *files], files):
        opening = [row for row in parsed.lines if row["JournalCode"] == "AN"]
        assert parsed.lines[: len(opening)] == opening, "the à-nouveaux come first"
        if previous is not None:
            assert sum(
                int(r["Debit"].replace(",", "")) - int(r["Credit"].replace(",", ""))
                for r in opening
                if r["CompteNum"].startswith("512")
            ) == previous.balance("512")
        for (journal, num), rows in parsed.entries.items():
            if journal != "AN":
                assert (journal == "BQ") == any(r["CompteNum"].startswith("512") for r in rows), (journal, num)
                numbers[journal].append(int(num[2:]))
    # over the whole history, each journal counts 1, 2, 3 … without a gap or a repeat
    for journal, seen in numbers.items():
        assert sorted(seen) == list(range(1, len(seen) + 1)), journal
    assert files[-1].balance("512") == treasury_cents


def test_every_demo_commons_files_a_compliant_fec_every_year(demo_app, admin_headers):
    client = demo_app.test_client()
    commons = db.session.scalars(select(Commons).order_by(Commons.id)).all()
    assert len(commons) == 3 and all(c.siren for c in commons)
    assert {c.fiscal_year_start for c in commons} == {"01-01", "07-01"}
    for one in commons:
        files = read_years(client, admin_headers, f"commons={one.slug}")
        assert {f.siren for f in files} == {one.siren}
        assert {f.closing.strftime("%m%d") for f in files} == {"1231" if one.fiscal_year_start == "01-01" else "0630"}
        treasury = client.get(f"/api/v1/commons/{one.slug}", headers=admin_headers).get_json()["treasury_cents"]
        check_books(files, treasury)
        description = export(
            client, admin_headers, f"commons={one.slug}&year={date.today().year}", "/api/v1/exports/fec/description"
        )
        assert one.siren in description.data.decode("iso-8859-15")
    db.session.rollback()


def test_the_demo_fund_files_its_own_fec(demo_app, admin_headers):
    client = demo_app.test_client()
    files = read_years(client, admin_headers, "fund=true")
    check_books(files, client.get("/api/v1/solidarity-fund").get_json()["balance_cents"])
    assert any(row["CompteNum"] == "758000" for f in files for row in f.lines), "levies reach the fund"
    db.session.rollback()
