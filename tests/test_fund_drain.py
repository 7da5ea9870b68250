"""Issue 16 item 1: nobody drains the solidarity fund.

The attack, as the battery ran it: a person with no role creates a commons, sets `self` rules,
opens a one-day round for a past period with a 0 envelope, asks for €10,000,000, advances three
times, and the fund paid the per-person cap each time. Each test replays a step of it.
"""

from __future__ import annotations

import calendar
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.service import balance
from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.timeutil import today
from tests.rounds_support import make_fund_manager

TODAY = today()
MONTH = (TODAY.replace(day=1), TODAY.replace(day=calendar.monthrange(TODAY.year, TODAY.month)[1]))


@pytest.fixture
def fund(client, make_person):
    """A fund holding €10,000 under the demo's rules: half of each shortfall, at most €80 per person."""
    manager = make_person("Fund manager")
    make_fund_manager(manager)
    donated = client.post(
        "/api/v1/solidarity-fund/donations",
        json={"amount_cents": 1_000_000, "donor": "Fondation", "date": TODAY.isoformat()},
        headers=manager.headers,
    )
    rules = client.post(
        "/api/v1/solidarity-fund/rules",
        json={"reason": "half, 80 € a month at most", "topup_ratio": "0.5", "per_person_cap_cents": 8_000},
        headers=manager.headers,
    )
    assert donated.status_code == 201 and rules.status_code == 201
    return manager


def topup_transactions() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == "round:topup"))


def run_round(client, steward, slug: str, *, envelope: int = 0, request_cents: int | None = None, declare=None) -> dict:
    """Open this month's round, let ``declare`` (an Actor, hours) declare work, ask, advance three times."""
    created = client.post(
        f"/api/v1/commons/{slug}/rounds",
        json={"period_start": MONTH[0].isoformat(), "period_end": MONTH[1].isoformat(), "envelope_cents": envelope},
        headers=steward.headers,
    )
    assert created.status_code == 201, created.get_json()
    round_id = created.get_json()["id"]
    if declare is not None:
        actor, hours = declare
        declared = client.post(
            "/api/v1/contributions",
            json={"commons": slug, "date": TODAY.isoformat(), "hours": hours, "category": "care", "description": "Permanence"},
            headers=actor.headers,
        )
        assert declared.status_code == 201, declared.get_json()
    if request_cents is not None:
        asked = client.put(
            f"/api/v1/rounds/{round_id}/self-requests", json={"amount_cents": request_cents}, headers=steward.headers
        )
        assert asked.status_code == 200, asked.get_json()
    for _ in range(3):
        moved = client.post(
            f"/api/v1/rounds/{round_id}/advance", json={"reason": "the attacker hurries"}, headers=steward.headers
        )
        assert moved.status_code == 200, moved.get_json()
    return client.get(f"/api/v1/rounds/{round_id}/allocation", headers=steward.headers).get_json()


def self_rules(client, steward, slug: str) -> None:
    response = client.post(
        f"/api/v1/commons/{slug}/rules",
        json={"reason": "everyone asks", "allocation_method": "self", "cap_cents": None},
        headers=steward.headers,
    )
    assert response.status_code == 201, response.get_json()


def test_the_battery_attack_is_replayed_and_the_fund_pays_nothing(client, fund, make_person, installation_admin):
    attacker = make_person("No role at all")
    # 1. A person with no role cannot create a commons.
    refused = client.post("/api/v1/commons", json={"slug": "drain", "name": "Drain"}, headers=attacker.headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert db.session.scalar(select(func.count(Commons.id))) == 0
    # Suppose an administrator creates it for them anyway: it is not admitted to the fund.
    admin = installation_admin()
    created = client.post(
        "/api/v1/commons", json={"slug": "drain", "name": "Drain", "steward_email": attacker.email}, headers=admin.headers
    )
    assert created.status_code == 201 and created.get_json()["fund_status"] == "pending"
    self_rules(client, attacker, "drain")
    # 2. A one-day round for a past period is refused, naming both faults.
    one_day = (TODAY.replace(day=1) - timedelta(days=20)).isoformat()
    short = client.post(
        "/api/v1/commons/drain/rounds",
        json={"period_start": one_day, "period_end": one_day, "envelope_cents": 0},
        headers=attacker.headers,
    )
    assert short.status_code == 422
    assert set(short.get_json()["error"]["fields"]) == {"period_start", "period_end"}
    # 3. A proper round with a 0 envelope and €10,000,000 asked: the fund adds nothing, and says why.
    allocation = run_round(client, attacker, "drain", request_cents=1_000_000_000)
    [line] = allocation["lines"]
    assert line["claim_cents"] == 1_000_000_000 and line["gross_cents"] == 0 and line["topup_cents"] == 0
    assert "not admitted to the solidarity fund" in line["explanation"]
    assert topup_transactions() == 0
    assert balance(chart.fund_treasury().code) == 1_000_000 and balance(chart.fund_payable(attacker.id).code) == 0
    assert client.get("/api/v1/solidarity-fund").get_json()["owed_cents"] == 0


def test_no_counted_hours_no_top_up_and_self_claims_are_bounded_by_hours(client, fund, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo", started_on=MONTH[0].isoformat())
    self_rules(client, steward, "velo")
    # Admitted, €10,000,000 asked, no work declared: nothing.
    [line] = run_round(client, steward, "velo", request_cents=1_000_000_000)["lines"]
    assert line["topup_cents"] == 0 and "no counted hours" in line["explanation"]
    assert topup_transactions() == 0


def test_a_self_claim_is_covered_up_to_counted_hours_at_the_hourly_value(client, fund, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo", started_on=MONTH[0].isoformat())
    self_rules(client, steward, "velo")
    # 2 counted hours at €15: the fund covers €30 of the €10,000,000 asked, half of it: €15.
    [line] = run_round(client, steward, "velo", request_cents=1_000_000_000, declare=(steward, "2"))["lines"]
    assert line["topup_cents"] == 1_500
    assert "2 counted hours at €15.00 per hour, €30.00 at most" in line["explanation"]
    assert balance(chart.fund_payable(steward.id).code) == -1_500


def test_the_per_person_cap_holds_per_month_across_all_commons(client, fund, make_person, make_commons):
    steward, other = make_person("Steward"), make_person("Other steward")
    ana = make_person("Ana")
    make_commons(steward, "velo", members={"contributor": ana}, started_on=MONTH[0].isoformat())
    make_commons(other, "atelier", members={"contributor": ana}, started_on=MONTH[0].isoformat())
    # 10 h at €15 with a 0 envelope: €150 short, half is €75, under the €80 cap.
    [first] = run_round(client, steward, "velo", declare=(ana, "10"))["lines"]
    assert first["topup_cents"] == 7_500
    # The same month in another commons: only €5 of the cap is left.
    [second] = run_round(client, other, "atelier", declare=(ana, "10"))["lines"]
    assert second["topup_cents"] == 500
    # The steward reads Ana's line: about her, naming the cap that bound.
    assert "gives one person at most €80.00 a month across all commons" in second["explanation"]
    assert "€75.00 this month: that cap holds the top-up at €5.00." in second["explanation"]
    assert balance(chart.fund_payable(ana.id).code) == -8_000


def test_a_commons_is_admitted_and_suspended_by_the_fund_manager_only(client, fund, make_person, make_commons, runner):
    steward = make_person("Steward")
    make_commons(steward, "velo", admitted=False)
    url = "/api/v1/solidarity-fund/commons/velo"
    refused = client.put(url, json={"status": "admitted", "reason": "please"}, headers=steward.headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    bad = client.put(url, json={"status": "pending", "reason": "back"}, headers=fund.headers)
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]
    admitted = client.put(url, json={"status": "admitted", "reason": "Active commons"}, headers=fund.headers)
    assert admitted.status_code == 200 and admitted.get_json()["fund_status"] == "admitted"
    listed = {c["slug"]: c for c in client.get("/api/v1/solidarity-fund/commons").get_json()}
    assert listed["velo"]["fund_status"] == "admitted" and listed["velo"]["fund_status_reason"] == "Active commons"
    assert client.get("/api/v1/commons/velo").get_json()["fund_status"] == "admitted"
    # The operator's command line does the same.
    result = runner.invoke(["fund", "suspend", "velo", "--reason", "Accounts not filed"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert client.get("/api/v1/commons/velo").get_json()["fund_status"] == "suspended"
    missing = runner.invoke(["fund", "admit", "nowhere", "--reason", "typo"])
    assert missing.exit_code == 1 and "nowhere" in missing.output


def test_a_short_round_needs_the_manual_cadence_and_a_reason_which_is_kept(client, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo")
    day = {"period_start": "2026-01-10", "period_end": "2026-01-10", "envelope_cents": 0}
    monthly = client.post("/api/v1/commons/velo/rounds", json=day, headers=steward.headers)
    assert monthly.status_code == 422 and "period_end" in monthly.get_json()["error"]["fields"]
    manual = client.post("/api/v1/commons/velo/rules", json={"reason": "by hand", "cadence": "manual"}, headers=steward.headers)
    assert manual.status_code == 201
    no_reason = client.post("/api/v1/commons/velo/rounds", json=day, headers=steward.headers)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0
    kept = client.post("/api/v1/commons/velo/rounds", json=day | {"reason": "The festival day's work"}, headers=steward.headers)
    assert kept.status_code == 201 and kept.get_json()["period_reason"] == "The festival day's work"
    page = client.get(f"/rounds/{kept.get_json()['id']}").get_data(as_text=True)
    assert "The festival day&#39;s work" in page or "The festival day's work" in page


STARTED = "cannot be before the commons started (2020-01-01)"
# 0001-01-01 is already outside the dates every API field accepts; 1900-01-01 is inside them.
DATES = [("0001-01-01", "must be between 1900-01-01 and 2999-12-31"), ("1900-01-01", STARTED)]


@pytest.mark.parametrize(("day", "message"), DATES)
def test_rounds_and_income_cannot_be_dated_before_the_commons_started(client, make_person, make_commons, day, message):
    """Issue 16 item 3: a round for January 0001 swallowed every late declaration; income too."""
    steward = make_person("Steward")
    make_commons(steward, "velo")
    round_ = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": day, "period_end": day[:8] + "28", "envelope_cents": 0},
        headers=steward.headers,
    )
    assert round_.status_code == 422
    assert round_.get_json()["error"]["fields"]["period_start"] == [message]
    income = client.post(
        "/api/v1/commons/velo/income",
        json={"amount_cents": 5_000, "source": "donation", "funder": "Dons", "date": day},
        headers=steward.headers,
    )
    assert income.status_code == 422
    assert income.get_json()["error"]["fields"]["date"] == [message]
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0
