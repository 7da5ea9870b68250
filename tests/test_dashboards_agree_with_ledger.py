"""Every money figure of the transparency dashboards, summed, equals the ledger's own balances to the cent.

The ledger side is read here straight from the postings (account kind, transaction kind and
commons), not through the dashboards' queries; the dashboards' side is read from their CSV
downloads, which carry the same rows as the pages, and the fund's figures from the public API.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.commons.models import Commons
from ledger.extensions import db
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)


@pytest.fixture
def client(demo_app):
    yield demo_app.test_client()
    db.session.rollback()


def read_csv(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def ledger_sum(account_kind: str, *, commons_id=None, tx_kind: str | None = None, round_id=None) -> int:
    """Debits minus credits on accounts of a kind (``x:*`` for a prefix), optionally within one
    commons' transactions, one transaction kind (``%`` allowed) or one round."""
    query = (
        select(func.coalesce(func.sum(Posting.amount_cents), 0))
        .join(Account, Account.id == Posting.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
    )
    query = query.where(Account.kind.like(account_kind.replace("*", "%")))
    if commons_id is not None:
        query = query.where(LedgerTransaction.commons_id == commons_id)
    if tx_kind is not None:
        query = query.where(LedgerTransaction.kind.like(tx_kind))
    if round_id is not None:
        query = query.where(LedgerTransaction.round_id == round_id)
    return int(db.session.scalar(query))


def column_sum(rows, column, **where) -> int:
    return sum(int(r[column]) for r in rows if all(r[k] == v for k, v in where.items()))


def scopes():
    return [(None, "")] + [(c.id, f"{c.slug}/") for c in db.session.scalars(select(Commons).order_by(Commons.id))]


def test_income_charts_sum_to_the_income_accounts(client):
    for commons_id, prefix in scopes():
        income = -ledger_sum("income:*", commons_id=commons_id, tx_kind="income")
        assert income > 0
        assert column_sum(read_csv(client, f"/transparency/{prefix}income-sources.csv"), "amount_cents") == income
        assert column_sum(read_csv(client, f"/transparency/{prefix}income-funders.csv"), "amount_cents") == income


def test_funder_flows_split_paid_owed_and_waived_exactly_as_the_payable_accounts(client):
    rows = read_csv(client, "/transparency/funder-flows.csv")
    seen_owed = seen_paid = 0
    for commons in db.session.scalars(select(Commons)):
        c = commons.id
        expected = {
            "paid": ledger_sum("payable:person", commons_id=c, tx_kind="%payout"),
            "owed": -ledger_sum("payable:person", commons_id=c),
            "waived": ledger_sum("payable:person", commons_id=c, tx_kind="%round:waive"),
            "fund": -ledger_sum("fund:levies", commons_id=c)
            + ledger_sum("payable:person", commons_id=c, tx_kind="%round:to-fund"),
        }
        income = -ledger_sum("income:*", commons_id=c)
        expected["treasury"] = income - sum(expected.values())
        got = {use: column_sum(rows, "amount_cents", commons=commons.name, use=use) for use in expected}
        assert got == expected, commons.slug
        # and the treasury share is what the bank holds beyond what is owed or was waived
        bank = db.session.scalar(
            select(func.sum(Posting.amount_cents)).join(Account).where(Account.kind == "treasury", Account.commons_id == c)
        )
        assert expected["treasury"] == int(bank) - expected["owed"] - expected["waived"]
        seen_owed += expected["owed"]
        seen_paid += expected["paid"]
    assert seen_owed > 0 and seen_paid > 0, "the demo has both paid and owed retributions"


def test_the_fund_balance_is_the_same_on_the_chart_the_csv_and_the_api(client):
    fund = client.get("/api/v1/solidarity-fund").get_json()
    rows = read_csv(client, "/transparency/fund.csv")
    levies, donations, topups = (column_sum(rows, c) for c in ("levies_cents", "donations_cents", "topups_cents"))
    assert levies == -ledger_sum("fund:levies") == fund["levies_cents"]
    assert donations == -ledger_sum("fund:donations") == fund["donations_cents"]
    assert topups == ledger_sum("fund:topups") == fund["topups_cents"]
    solde = ledger_sum("fund:treasury") + ledger_sum("fund:payable")
    assert int(rows[-1]["balance_cents"]) == solde == levies + donations - topups == fund["available_cents"]
    assert fund["balance_cents"] == ledger_sum("fund:treasury") and fund["owed_cents"] == -ledger_sum("fund:payable")
    assert fund["owed_cents"] > 0, "the demo has top-ups owed, so the difference shows"
    for commons_id, prefix in scopes()[1:]:
        mine = read_csv(client, f"/transparency/{prefix}fund.csv")
        assert column_sum(mine, "levies_cents") == -ledger_sum("fund:levies", commons_id=commons_id)
        assert column_sum(mine, "topups_cents") == ledger_sum("fund:topups", commons_id=commons_id)


def test_round_and_rule_figures_sum_to_the_retribution_and_top_up_postings(client):
    for commons_id, prefix in scopes():
        rows = read_csv(client, f"/transparency/{prefix}rounds.csv")
        gross = ledger_sum("retributions", commons_id=commons_id, tx_kind="round:retribution")
        assert column_sum(rows, "distributed_cents") == gross > 0
        assert column_sum(rows, "topups_cents") == ledger_sum("fund:topups", commons_id=commons_id)
        rules = read_csv(client, f"/transparency/{prefix}rules.csv")
        assert column_sum(rules, "paid_cents") == gross + ledger_sum("fund:topups", commons_id=commons_id)
