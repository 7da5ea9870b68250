"""The solidarity fund API and the rules API: versions, permissions, validation."""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.extensions import db
from ledger.fund.models import FundDonation, FundRuleVersion
from ledger.rounds.models import RuleVersion
from tests.rounds_support import make_fund_manager


def test_fund_is_public_with_default_rules_and_donations_need_the_fund_manager(client, make_person):
    fund = client.get("/api/v1/solidarity-fund").get_json()
    assert fund["balance_cents"] == 0 and fund["rules"]["version"] == 1 and fund["rules"]["topup_ratio"] == "0.5"
    someone, manager = make_person("Someone"), make_person("Manager")
    make_fund_manager(manager)
    payload = {"amount_cents": 12_345, "donor": "Association amie", "date": "2026-01-05"}
    assert client.post("/api/v1/solidarity-fund/donations", json=payload, headers=someone.headers).status_code == 403
    assert client.post("/api/v1/solidarity-fund/donations", json=payload).status_code == 401
    created = client.post("/api/v1/solidarity-fund/donations", json=payload, headers=manager.headers)
    assert created.status_code == 201 and created.get_json()["amount_cents"] == 12_345
    fund = client.get("/api/v1/solidarity-fund").get_json()
    assert (fund["balance_cents"], fund["available_cents"], fund["donations_cents"]) == (12_345, 12_345, 12_345)
    assert fund["flows"][0]["kind"] == "fund:donation" and fund["flows"][0]["amount_cents"] == 12_345


def test_bad_donations_and_fund_rules_are_refused_naming_the_field(client, make_person):
    manager = make_person("Manager")
    make_fund_manager(manager)
    for payload, field in [
        ({"amount_cents": 0, "donor": "x", "date": "2026-01-05"}, "amount_cents"),
        ({"amount_cents": 1.5, "donor": "x", "date": "2026-01-05"}, "amount_cents"),
        ({"amount_cents": 100, "donor": "", "date": "2026-01-05"}, "donor"),
        ({"amount_cents": 100, "donor": "x", "date": "2999-01-05"}, "date"),
    ]:
        response = client.post("/api/v1/solidarity-fund/donations", json=payload, headers=manager.headers)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], payload
    bad_rules = client.post(
        "/api/v1/solidarity-fund/rules",
        headers=manager.headers,
        json={"reason": "more", "topup_ratio": "1.2", "per_person_cap_cents": None},
    )
    assert bad_rules.status_code == 422 and "topup_ratio" in bad_rules.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count(FundDonation.id))) == 0
    assert db.session.scalar(select(func.count(FundRuleVersion.id))) == 0
    good = client.post(
        "/api/v1/solidarity-fund/rules",
        headers=manager.headers,
        json={"reason": "cover more", "topup_ratio": "0.75", "per_person_cap_cents": 8_000},
    )
    assert good.status_code == 201 and good.get_json()["version"] == 2
    assert [r["topup_ratio"] for r in client.get("/api/v1/solidarity-fund/rules").get_json()] == ["0.5", "0.75"]


def test_rules_versions_keep_history_author_reason_and_what_changed(client, make_person, make_commons):
    steward, member = make_person("Steward", show_name_publicly=True), make_person("Member")
    make_commons(steward, "velo", members={"member": member})
    response = client.post(
        "/api/v1/commons/velo/rules",
        headers=steward.headers,
        json={
            "reason": "care is undervalued",
            "allocation_method": "time",
            "hourly_value_cents": 1800,
            "levy_rate": "0.04",
            "cap_cents": None,
            "min_vouches": 1,
            "cadence": "quarterly",
            "category_weights": {"care": "1.5"},
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["version"] == 2 and body["author"] == "Steward" and body["levy_rate"] == "0.04"
    assert {c["field"] for c in body["changes"]} == {
        "hourly_value_cents",
        "levy_rate",
        "min_vouches",
        "cadence",
        "category_weights",
    }
    history = client.get("/api/v1/commons/velo/rules").get_json()
    assert [v["version"] for v in history] == [1, 2] and history[1]["reason"] == "care is undervalued"
    assert history[0]["hourly_value_cents"] == 1500  # the old version is untouched


def test_bad_rules_are_refused_naming_the_field_and_only_stewards_propose(client, make_person, make_commons):
    steward, member = make_person("Steward"), make_person("Member")
    make_commons(steward, "velo", members={"member": member})
    assert client.post("/api/v1/commons/velo/rules", headers=member.headers, json={"reason": "mine"}).status_code == 403
    for payload, field in [
        ({"levy_rate": "0.5.1"}, "levy_rate"),
        ({"levy_rate": 2}, "levy_rate"),
        ({"allocation_method": "lottery"}, "allocation_method"),
        ({"hourly_value_cents": "15"}, "hourly_value_cents"),
        ({"cap_cents": -5}, "cap_cents"),
        ({"category_weights": {"care": "-1"}}, "category_weights.care.value"),
        ({"category_weights": {"astrology": "2"}}, "category_weights.astrology"),
        ({"min_vouches": 1.5}, "min_vouches"),
        ({}, "reason"),
        ({"cadence": "daily"}, "cadence"),
        ({"effective_from": "1999-01-01"}, "effective_from"),
    ]:
        body = {"reason": "a reason", **payload} if field != "reason" else payload
        response = client.post("/api/v1/commons/velo/rules", headers=steward.headers, json=body)
        assert response.status_code == 422, (payload, response.get_json())
        assert field in response.get_json()["error"]["fields"], (payload, response.get_json())
    assert db.session.scalar(select(func.count(RuleVersion.id))) == 1
