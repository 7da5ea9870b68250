"""One rule, two edges: the API and the page refuse (or store) the same thing for the same input.

Each case runs once through ``POST /api/v1/...`` and once through the steward's page; the
rule itself lives in one service function, so both must agree on the refusal and on what is stored.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.commons.models import Membership
from ledger.contributions.models import Objection
from ledger.extensions import db
from ledger.fund.models import FundRuleVersion
from ledger.payouts.models import PayoutBatch
from ledger.rounds.models import AllocationLine, Round, RuleVersion
from tests.factories import login, make_world
from tests.rounds_support import advance, declare, make_fund_manager, new_rules, open_round

EDGES = ("api", "page")


@pytest.fixture
def world(app, make_person, make_commons):
    return make_world(make_person, make_commons)


def rules_form(**values) -> dict:
    return {
        "reason": "a change",
        "allocation_method": "time",
        "hourly_value": "15.00",
        "cap": "",
        "levy_percent": "5",
        "category_weights": "",
        "min_vouches": "0",
        "cadence": "monthly",
        "declaration_days": "5",
        "review_days": "7",
        "effective_from": date.today().isoformat(),
    } | values


def propose(client, world, edge: str, api: dict, page: dict):
    """A new rule version through ``edge``; returns (refused?, the text naming the refusal)."""
    if edge == "api":
        response = client.post(
            f"/api/v1/commons/{world.slug}/rules", json={"reason": "a change"} | api, headers=world.steward.headers
        )
        return response.status_code == 422, str(response.get_json())
    login(client, world.steward)
    response = client.post(f"/commons/{world.slug}/rules?lang=en", data=rules_form(**page))
    return response.status_code != 302, response.get_data(as_text=True)


RULE_CASES = [
    # (case, API payload, page form, refused?, words the refusal names)
    (
        "back-dated",
        {"effective_from": "2000-01-01"},
        {"effective_from": "2000-01-01"},
        True,
        "cannot be before the latest version",
    ),
    (
        "unknown category",
        {"category_weights": {"astro": "2"}},
        {"category_weights": "astro=2"},
        True,
        "no category &#39;astro&#39;",
    ),
    (
        "late window past a year",
        {"late_periods": 13},
        {"late_periods": "13"},
        True,
        "must be between 0 and 12 periods",
    ),
    ("accepted", {"hourly_value_cents": 1801}, {"hourly_value": "18.01"}, False, ""),
]


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize(("case", "api", "page", "refused", "words"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_a_rule_version_is_judged_alike_by_the_api_and_the_page(client, world, edge, case, api, page, refused, words):
    was_refused, text = propose(client, world, edge, api, page)
    assert was_refused is refused
    if refused:
        assert words.replace("&#39;", "'" if edge == "api" else "&#39;") in text
        assert db.session.scalar(select(func.count(RuleVersion.id))) == 1  # nothing stored
    else:
        stored = db.session.scalar(select(RuleVersion).where(RuleVersion.version == 2))
        assert stored.hourly_value_cents == 1801


@pytest.mark.parametrize("edge", EDGES)
def test_the_late_window_is_set_alike_by_the_api_and_the_page(client, world, edge):
    login(client, world.steward)
    page = client.get(f"/commons/{world.slug}/rules?lang=en").get_data(as_text=True)
    assert 'name="late_periods"' in page and 'value="1"' in page  # offered, prefilled from the version in force
    was_refused, text = propose(client, world, edge, {"late_periods": 3}, {"late_periods": "3"})
    assert not was_refused, text
    stored = db.session.scalar(select(RuleVersion).where(RuleVersion.version == 2))
    assert stored.late_periods == 3 and stored.hourly_value_cents == 1500


def finalized_round(client, world) -> int:
    declare(world, world.people["ana"], "4", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    advance(client, world, round_id, times=3)
    return round_id


@pytest.mark.parametrize("edge", EDGES)
def test_what_if_on_a_finalized_round_is_refused_by_both_edges_and_stores_nothing(client, world, edge):
    round_id = finalized_round(client, world)
    lines_before = db.session.scalar(select(func.count(AllocationLine.id)))
    if edge == "api":
        response = client.post(
            f"/api/v1/rounds/{round_id}/what-if", json={"hourly_value_cents": 3000}, headers=world.steward.headers
        )
        assert response.status_code == 409 and "simulate on a round not finalized yet" in response.get_json()["error"]["message"]
    else:
        login(client, world.steward)
        page = client.get(f"/rounds/{round_id}?lang=en").get_data(as_text=True)
        assert "What if the rules were different?" not in page  # the page does not offer it
        response = client.post(
            f"/rounds/{round_id}/what-if?lang=en",
            data={"allocation_method": "time", "hourly_value": "30", "cap": "", "levy_percent": "5"},
        )
        assert response.status_code == 409 and "simulate on a round not finalized yet" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "finalized"
    assert db.session.scalar(select(func.count(AllocationLine.id))) == lines_before


def test_a_what_if_rolls_its_own_savepoint_back_leaving_the_session_as_it_was(app, client, world):
    from ledger.rounds import service

    declare(world, world.people["ana"], "4", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    round_ = db.session.get(Round, round_id)
    allocation, _outcome = service.what_if(round_, {"hourly_value_cents": 3000})
    assert [line.claim_cents for line in allocation.lines] == [12_000]
    # No default fund rule or account was left behind in the caller's session.
    assert not db.session.new and db.session.scalar(select(func.count(FundRuleVersion.id))) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count(FundRuleVersion.id))) == 0


# --- Rule versions in force --------------------------------------------------------------


def test_a_commons_version_dated_in_the_future_is_scheduled_not_pinned(client, world):
    tomorrow = date.today() + timedelta(days=30)
    new_rules(client, world, hourly_value_cents=9900, effective_from=tomorrow.isoformat())
    history = client.get(f"/api/v1/commons/{world.slug}/rules").get_json()
    assert [(v["version"], v["state"]) for v in history] == [(1, "in_force"), (2, "scheduled")]
    # A round of a past period pins the version in force today, not the scheduled one.
    declare(world, world.people["ana"], "4", date(2026, 1, 5))
    round_ = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)
    assert round_["rule_version"] == 1
    advance(client, world, round_["id"], times=2)
    allocation = client.get(f"/api/v1/rounds/{round_['id']}/allocation", headers=world.steward.headers).get_json()
    assert allocation["lines"][0]["claim_cents"] == 4 * 1500
    # What-if and the category page read the version in force too.
    assert client.get(f"/api/v1/commons/{world.slug}").get_json()["rule_version"] == 1
    login(client, world.steward)
    page = client.get(f"/commons/{world.slug}/rules?lang=en").get_data(as_text=True)
    assert "Version 2 (scheduled)" in page and "Version 1 (in force)" in page


def test_a_round_of_a_period_to_come_pins_the_version_in_force_on_its_first_day(client, world):
    start = date.today().replace(day=1) + timedelta(days=62)
    start = start.replace(day=1)
    new_rules(client, world, hourly_value_cents=2000, effective_from=start.isoformat())
    end = start + timedelta(days=20)
    assert open_round(client, world, start.isoformat(), end.isoformat(), 1000)["rule_version"] == 2


def test_a_fund_rule_dated_in_the_future_applies_neither_to_todays_rounds_nor_to_the_public_figures(client, world):
    manager = world.steward
    make_fund_manager(manager)
    later = (date.today() + timedelta(days=90)).isoformat()
    scheduled = client.post(
        "/api/v1/solidarity-fund/rules",
        json={"reason": "more generous", "topup_ratio": "1", "per_person_cap_cents": None, "effective_from": later},
        headers=manager.headers,
    )
    assert scheduled.status_code == 201, scheduled.get_json()
    assert scheduled.get_json()["state"] == "scheduled"
    fund = client.get("/api/v1/solidarity-fund").get_json()
    assert (fund["rules"]["version"], fund["rules"]["topup_ratio"], fund["rules"]["state"]) == (1, "0.5", "in_force")
    history = client.get("/api/v1/solidarity-fund/rules").get_json()
    assert [(r["version"], r["state"]) for r in history] == [(1, "in_force"), (2, "scheduled")]


def test_the_care_threshold_of_a_declaration_is_the_one_in_force_not_a_scheduled_one(client, world):
    ana = world.people["ana"]
    new_rules(client, world, weekly_hours_threshold=5, effective_from=(date.today() + timedelta(days=30)).isoformat())
    day = date.today() - timedelta(days=1)
    response = client.post(
        "/api/v1/contributions",
        json={"commons": world.slug, "date": day.isoformat(), "hours": "6", "category": "production", "description": "work"},
        headers=ana.headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["warnings"] == []  # 6 h is under version 1's 48 h; the scheduled 5 h is not in force


# --- Money typed on a page -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "stored", "message"),
    [
        ("18.005", None, "Write an amount in whole cents"),
        ("18,005", None, "Write an amount in whole cents"),
        ("douze", None, "Write an amount in euros"),
        ("18.01", 1801, None),
        ("18,5", 1850, None),
    ],
)
def test_the_round_form_reads_euros_exactly_and_refuses_a_fraction_of_a_cent(client, world, envelope, stored, message):
    login(client, world.steward)
    response = client.post(
        f"/commons/{world.slug}/rounds?lang=en",
        data={"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope": envelope},
    )
    if stored is None:
        assert response.status_code == 200 and message in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Round.id))) == 0
    else:
        assert response.status_code == 302
        assert db.session.scalar(select(Round.envelope_cents)) == stored


def test_a_one_cent_cap_is_accepted_on_the_rules_page_like_on_the_api(client, world):
    refused, text = propose(client, world, "page", {}, {"cap": "0.01", "hourly_value": "18.00"})
    assert not refused, text
    stored = db.session.scalar(select(RuleVersion).where(RuleVersion.version == 2))
    assert (stored.cap_cents, stored.hourly_value_cents) == (1, 1800)
    refused, text = propose(client, world, "page", {}, {"hourly_value": "18.005"})
    assert refused and "Write an amount in whole cents" in text


# --- Contributions: who may change one, and when ------------------------------------------


@pytest.mark.parametrize("edge", EDGES)
def test_a_contribution_in_a_round_under_review_is_closed_to_changes_on_both_edges(client, world, edge):
    ana = world.people["ana"]
    contribution_id = declare(world, ana, "3", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    login(client, ana)
    assert f"/contributions/{contribution_id}/edit" in client.get("/contributions").get_data(as_text=True)
    advance(client, world, round_id)  # review: changes are closed
    assert f"/contributions/{contribution_id}/edit" not in client.get("/contributions").get_data(as_text=True)
    if edge == "api":
        response = client.patch(f"/api/v1/contributions/{contribution_id}", json={"hours": "5"}, headers=ana.headers)
        assert response.get_json()["error"]["code"] == "conflict"
    else:
        response = client.post(f"/contributions/{contribution_id}/edit", data={"hours": "5"})
    # The locale is cached for the test's app context, so the refusal is checked by its status.
    assert response.status_code == 409
    db.session.expire_all()
    from ledger.contributions.models import Contribution

    assert str(db.session.get(Contribution, contribution_id).hours) == "3.00"


# --- Objections, payout routes and payment batches: one refusal, whichever edge ---------------


def same_refusal(api_response, page_response, field: str) -> str:
    """The API's message for ``field`` is the one the page shows (HTML-escaped); returns it."""
    assert api_response.status_code == 422, api_response.get_json()
    message = api_response.get_json()["error"]["fields"][field][0]
    page = page_response.get_data(as_text=True)
    assert escape(message) in page, (message, page[:2000])
    return message


@pytest.fixture
def review_world(app, make_person, make_commons):
    world = make_world(make_person, make_commons, ana="member", bo="member")
    contribution_id = declare(world, world.people["ana"], "3", date.today() - timedelta(days=1))
    return world, contribution_id


@pytest.mark.parametrize("reason", ["ab", "   ", "x" * 2001], ids=["too short", "blank", "too long"])
def test_an_objection_is_refused_alike_by_the_api_and_the_page_and_nothing_is_stored(client, review_world, reason):
    world, contribution_id = review_world
    bo = world.people["bo"]
    api = client.post(f"/api/v1/contributions/{contribution_id}/objections", json={"reason": reason}, headers=bo.headers)
    login(client, bo)
    page = client.post(f"/contributions/{contribution_id}/object?lang=en", data={"reason": reason})
    assert page.status_code == 422
    if len(reason) > 2000:  # the length cap is also the form field's own: each edge names it
        assert api.status_code == 422 and "reason" in api.get_json()["error"]["fields"]
        assert "reason" in page.get_data(as_text=True)
    else:
        assert same_refusal(api, page, "reason")
    assert db.session.scalar(select(func.count(Objection.id))) == 0


def test_a_second_open_objection_is_refused_alike_by_the_api_and_the_page(client, review_world):
    world, contribution_id = review_world
    bo = world.people["bo"]
    first = client.post(f"/api/v1/contributions/{contribution_id}/objections", json={"reason": "Doubtful"}, headers=bo.headers)
    assert first.status_code == 201
    api = client.post(f"/api/v1/contributions/{contribution_id}/objections", json={"reason": "Again"}, headers=bo.headers)
    login(client, bo)
    page = client.post(f"/contributions/{contribution_id}/object?lang=en", data={"reason": "Again"})
    assert api.status_code == page.status_code == 409
    assert escape(api.get_json()["error"]["message"]) in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Objection.id))) == 1


ROUTE_CASES = [("cae", ""), ("cae", "NOPE")]


@pytest.mark.parametrize(("route", "cae"), ROUTE_CASES, ids=["cae without a CAE", "unknown CAE"])
def test_a_payout_route_is_refused_alike_by_the_api_and_the_page_and_nothing_is_stored(client, world, route, cae):
    ana = world.people["ana"]
    member = db.session.scalar(select(Membership).where(Membership.person_id == ana.id))
    before = member.payout_route
    api = client.put(
        f"/api/v1/commons/{world.slug}/members/{ana.id}/route", json={"route": route, "cae": cae or None}, headers=ana.headers
    )
    login(client, ana)
    prefix = f"m{member.id}"
    page = client.post(f"/account/payouts/{world.slug}?lang=en", data={f"{prefix}-route": route, f"{prefix}-cae": cae})
    assert page.status_code == 422
    same_refusal(api, page, "cae")
    db.session.expire_all()
    assert db.session.get(Membership, member.id).payout_route == before


@pytest.fixture
def unpaid_batch(client, world):
    round_id = finalized_round(client, world)
    batch = db.session.scalar(select(PayoutBatch).where(PayoutBatch.round_id == round_id))
    assert batch.state == "pending", batch.state
    return batch.id


# The payment date as days from today, read when the test runs: a date computed when the module
# was collected was no longer in the future for a run that crossed midnight.
PAYMENT_CASES = [
    ("paid_on", 1, "VIR-1"),
    ("bank_reference", 0, ""),
    ("bank_reference", 0, "   "),
    ("bank_reference", 0, "R" * 200),
]


@pytest.mark.parametrize(("field", "days_from_today", "reference"), PAYMENT_CASES, ids=["future", "empty", "blank", "too long"])
def test_marking_a_batch_paid_is_refused_alike_by_the_api_and_the_page_and_nothing_is_stored(
    client, world, unpaid_batch, field, days_from_today, reference
):
    paid_on = (date.today() + timedelta(days=days_from_today)).isoformat()
    transactions = db.session.scalar(select(func.count(LedgerTransaction.id)))
    api = client.post(
        f"/api/v1/payout-batches/{unpaid_batch}/paid",
        json={"paid_on": paid_on, "bank_reference": reference},
        headers=world.steward.headers,
    )
    login(client, world.steward)
    page = client.post(
        f"/payout-batches/{unpaid_batch}/paid?lang=en",
        data={"paid_on": paid_on, "bank_reference": reference, "next": f"/commons/{world.slug}/payouts"},
        follow_redirects=True,
    )
    same_refusal(api, page, field)
    db.session.expire_all()
    assert db.session.get(PayoutBatch, unpaid_batch).state == "pending"
    assert db.session.scalar(select(func.count(LedgerTransaction.id))) == transactions
