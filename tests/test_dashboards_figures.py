"""The figures behind each chart, on the demo installation, against independent computations.

The dashboards aggregate in SQL; these tests recompute the same figures by walking ORM rows in
Python (and a pairwise formula for the Gini coefficient), then compare them with the charts and
their CSV downloads.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from itertools import combinations

import pytest
from sqlalchemy import select

from dashboards import charts
from ledger.accounts import chart as accounts_chart
from ledger.accounts.models import Account
from ledger.accounts.service import balance
from ledger.commons.models import Commons, Income
from ledger.contributions.models import Category, Contribution, Objection, Vote, Vouch
from ledger.extensions import db
from ledger.rounds.models import AllocationLine, Round
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)

DECIDED = ("finalized", "paid")


@pytest.fixture
def demo(demo_app):
    yield {c.slug: c for c in db.session.scalars(select(Commons))}
    db.session.rollback()  # these tests only read; leave the module's database as loaded


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


def scopes(demo):
    return [None] + [c.id for c in demo.values()]


def read_csv(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def decided_lines(commons_id):
    lines = db.session.scalars(select(AllocationLine)).all()
    return [line for line in lines if line.round.state in DECIDED and commons_id in (None, line.round.commons_id)]


def pairwise_gini(amounts: list[int]) -> Fraction:
    """Gini as the mean absolute difference over all pairs divided by twice the mean."""
    n, total = len(amounts), sum(amounts)
    if not n or not total:
        return Fraction(0)
    differences = 2 * sum(abs(a - b) for a, b in combinations(amounts, 2))
    return Fraction(differences, n * n) / (2 * Fraction(total, n))


def test_the_demo_feeds_every_chart(demo):
    for commons_id in scopes(demo):
        for key in charts.BUILDERS:  # democratic health: tests/test_dashboards_democracy.py
            chart = charts.build(key, commons_id)
            assert chart.rows, f"{chart.key} is empty for commons {commons_id}"


def test_income_by_funder_matches_the_recorded_income_rows(client, demo):
    for commons_id in scopes(demo):
        expected: dict[tuple[str, str], int] = defaultdict(int)
        for income in db.session.scalars(select(Income)):
            if commons_id in (None, income.commons_id):
                expected[(income.received_on.strftime("%Y-%m"), income.funder)] += income.amount_cents
        chart = charts.build("income-funders", commons_id)
        assert {(r["month"], r["funder"]): r["amount_cents"] for r in chart.rows} == dict(expected)
    rows = read_csv(client, "/transparency/income-funders.csv")
    assert sum(int(r["amount_cents"]) for r in rows) == sum(i.amount_cents for i in db.session.scalars(select(Income)))
    by_source = read_csv(client, "/transparency/roue-libre/income-sources.csv")
    roue = demo["roue-libre"]
    assert sum(int(r["amount_cents"]) for r in by_source) == -sum(
        balance(accounts_chart.commons_income(roue, source).code) for source in {r["source"] for r in by_source}
    )


def test_each_funders_money_is_attributed_exactly_in_the_proportions_of_its_commons_spending(client, demo):
    rows = read_csv(client, "/transparency/funder-flows.csv")
    given: dict[tuple[str, str], int] = defaultdict(int)
    for income in db.session.scalars(select(Income)):
        given[(income.funder, income.commons.name)] += income.amount_cents
    attributed: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        attributed[(row["funder"], row["commons"])] += int(row["amount_cents"])
    assert attributed == given  # every euro of every funder is accounted for, exactly
    for commons in demo.values():
        lines = decided_lines(commons.id)
        to_fund = sum(line.levy_cents + (line.net_cents if line.route == "fund" else 0) for line in lines)
        waived = sum(line.net_cents for line in lines if line.route == "waive")
        to_people = sum(line.net_cents for line in lines if line.route in ("cae", "invoice"))
        mine = [r for r in rows if r["commons"] == commons.name]
        total = {use: sum(int(r["amount_cents"]) for r in mine if r["use"] == use) for use in ("paid", "owed", "waived", "fund")}
        # rounded once for the whole table: each use adds up to the cent (tests/test_dashboards_ledger.py: to the ledger)
        assert total["fund"] == to_fund and total["waived"] == waived
        assert total["paid"] + total["owed"] == to_people and to_people > 0


def test_rounds_figures_match_their_allocation_lines(demo):
    for commons_id in scopes(demo):
        chart = charts.build("rounds", commons_id)
        rounds = [
            r
            for r in db.session.scalars(select(Round).order_by(Round.id))
            if r.state in DECIDED and commons_id in (None, r.commons_id)
        ]
        assert sorted(row["round_id"] for row in chart.rows) == [r.id for r in rounds]
        for row in chart.rows:
            round_ = db.session.get(Round, row["round_id"])
            assert row["envelope_cents"] == round_.envelope_cents
            assert row["distributed_cents"] == sum(line.gross_cents for line in round_.lines)
            assert row["topups_cents"] == sum(line.topup_cents for line in round_.lines)
            assert row["hours"] == sum((Decimal(line.hours) for line in round_.lines), Decimal(0))
            assert row["shortfall_cents"] == max(0, sum(line.claim_cents - line.gross_cents for line in round_.lines))
    installation = charts.build("rounds", None).rows
    assert any(row["shortfall_cents"] > 0 and row["topups_cents"] > 0 for row in installation), "the demo has a short round"


def test_gini_and_top_share_match_an_independent_computation(client, demo):
    for commons_id in scopes(demo):
        per_person: dict[int, int] = defaultdict(int)
        for line in decided_lines(commons_id):
            per_person[line.person_id] += line.gross_cents + line.topup_cents
        amounts = list(per_person.values())
        d = charts.distribution_of(commons_id)
        assert d.people == len(amounts) and d.total_cents == sum(amounts)
        assert d.gini == pairwise_gini(amounts)
        top = -(-len(amounts) // 10)  # the top 10%, rounded up
        assert d.top_people == top
        assert d.top_share == Fraction(sum(sorted(amounts, reverse=True)[:top]), sum(amounts))
        assert 0 < d.gini < 1
    d = charts.distribution_of(None)
    page = client.get("/transparency?lang=en").get_data(as_text=True)
    assert f"Gini coefficient {charts.stats.as_decimal(d.gini)}" in page
    assert f"the top 10% ({d.top_people} people) received {charts.percent(d.top_share)}" in page
    rows = read_csv(client, "/transparency/distribution.csv")
    assert len(rows) == d.people + 1 and rows[0] == {"people_share": "0.0000", "received_share": "0.0000"}
    assert rows[-1] == {"people_share": "1.0000", "received_share": "1.0000"}
    # the curve is convex: the shares received grow at least as fast as the people counted
    shares = [Decimal(r["received_share"]) for r in rows]
    assert shares == sorted(shares)


def test_hours_by_category_and_invisible_work_match_the_counted_contributions(demo):
    for commons_id in scopes(demo):
        invisible = {(c.commons_id, c.code): c.invisible for c in db.session.scalars(select(Category))}
        expected: dict[str, Decimal] = defaultdict(Decimal)
        hidden = Decimal(0)
        for contribution in db.session.scalars(select(Contribution)):
            if (
                contribution.round is None
                or contribution.round.state not in DECIDED
                or contribution.status != "declared"
                or any(o.state == "upheld" for o in contribution.objections)
                or commons_id not in (None, contribution.commons_id)
            ):
                continue
            expected[contribution.category] += Decimal(contribution.hours)
            if invisible.get((contribution.commons_id, contribution.category)):
                hidden += Decimal(contribution.hours)
        rows = charts.build("categories", commons_id).rows
        assert {r["category"]: r["hours"] for r in rows} == dict(expected)
        assert sum(r["hours"] for r in rows if r["invisible"]) == hidden > 0


def test_review_participation_counts_distinct_people(demo):
    for commons_id in scopes(demo):
        rows = {r["round_id"]: r for r in charts.build("reviews", commons_id).rows}
        assert rows
        for round_id, row in rows.items():
            contributions = [
                c
                for c in db.session.scalars(select(Contribution).where(Contribution.round_id == round_id))
                if c.status != "withdrawn"
            ]
            ids = {c.id for c in contributions}
            vouchers = {v.person_id for v in db.session.scalars(select(Vouch)) if v.contribution_id in ids}
            objections = [o for o in db.session.scalars(select(Objection)) if o.contribution_id in ids]
            voters = {v.person_id for v in db.session.scalars(select(Vote)) if v.objection_id in {o.id for o in objections}}
            assert (row["contributions"], row["vouchers"], row["objectors"], row["objections"], row["voters"]) == (
                len(ids),
                len(vouchers),
                len({o.objector_id for o in objections}),
                len(objections),
                len(voters),
            )
    assert any(r["vouchers"] for r in charts.build("reviews", None).rows)


def test_fund_flows_add_up_to_the_fund_accounts(demo):
    rows = charts.build("fund", None).rows
    assert sum(r["levies_cents"] for r in rows) == -balance(accounts_chart.fund_levies().code) > 0
    assert sum(r["donations_cents"] for r in rows) == -balance(accounts_chart.fund_donations().code) > 0
    assert sum(r["topups_cents"] for r in rows) == balance(accounts_chart.fund_topups().code) > 0
    # the balance counts every top-up granted, paid or owed (the fund's payables)
    owed = sum(balance(a.code) for a in db.session.scalars(select(Account).where(Account.kind == "fund:payable")))
    assert rows[-1]["balance_cents"] == balance(accounts_chart.fund_treasury().code) + owed
    for commons in demo.values():
        levies = sum(line.levy_cents for line in decided_lines(commons.id))
        assert sum(r["levies_cents"] for r in charts.build("fund", commons.id).rows) == levies


def test_rules_intended_against_paid_per_round(demo):
    rows = charts.build("rules", None).rows
    decided = [r for r in db.session.scalars(select(Round)) if r.state in DECIDED]
    assert len(rows) == len(decided)
    by_label = {row["round"]: row for row in rows}
    for round_ in decided:
        row = by_label[f"{round_.commons.name} {round_.period_start:%Y-%m}"]
        hours = sum((Decimal(line.hours) for line in round_.lines), Decimal(0))
        paid = sum(line.gross_cents + line.topup_cents for line in round_.lines)
        assert row["reference_hourly_cents"] == round_.rule_version.hourly_value_cents
        assert row["paid_cents"] == paid
        # within half a cent of the exact ratio
        assert abs(Fraction(row["effective_hourly_cents"]) - Fraction(paid) / Fraction(hours)) <= Fraction(1, 2)
    assert any(r["effective_hourly_cents"] < r["reference_hourly_cents"] for r in rows), "the demo has a short round"


def test_each_csv_has_the_tables_columns_and_rows(client, demo):
    for key in charts.BUILDERS:
        for prefix, commons_id in (("/transparency", None), ("/transparency/cartocommuns", demo["cartocommuns"].id)):
            chart = charts.build(key, commons_id)
            rows = read_csv(client, f"{prefix}/{key}.csv")
            assert len(rows) == len(chart.rows)
            assert list(rows[0]) == [column for column, _ in chart.columns]
    assert client.get("/transparency/nothing.csv").status_code == 404
    assert client.get("/transparency/no-such-commons/rounds.csv").status_code == 404
