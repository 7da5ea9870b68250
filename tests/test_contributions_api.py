"""The contributions API (SPEC 4.2): declare, list, edit, withdraw — and every refusal stores nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.rounds.models import Round
from ledger.rounds.rules import rules_in_force
from ledger.timeutil import today

TODAY = today()
YESTERDAY = TODAY - timedelta(days=1)


def count_contributions() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(Contribution.id)))


def make_round(slug: str, start: date, end: date, state: str = "open") -> int:
    """A round row as the rounds engineer's code would create it (their API is not needed here)."""
    from ledger.commons.service import get_commons

    commons = get_commons(slug)
    rules = rules_in_force(commons.id)
    round_ = Round(
        commons_id=commons.id,
        rule_version_id=rules.id,
        period_start=start,
        period_end=end,
        envelope_cents=100_000,
        state=state,
        review_starts_on=end + timedelta(days=5),
        allocation_on=end + timedelta(days=12),
    )
    db.session.add(round_)
    db.session.commit()
    return round_.id


@pytest.fixture
def velo(make_person, make_commons):
    steward, member, contributor = make_person("Steward"), make_person("Member"), make_person("Contributor")
    make_commons(steward, "velo", members={"member": member, "contributor": contributor})
    return {"steward": steward, "member": member, "contributor": contributor}


def payload(**overrides) -> dict:
    body = {
        "commons": "velo",
        "date": YESTERDAY.isoformat(),
        "hours": "2.5",
        "category": "care",
        "description": "Welcomed two newcomers at the workshop",
        "evidence_url": "https://example.org/notes",
    }
    body.update(overrides)
    return body


def test_declaring_returns_the_stored_contribution_with_status_and_round(client, velo):
    response = client.post("/api/v1/contributions", json=payload(), headers=velo["contributor"].headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["hours"] == "2.50" and body["category"] == "care" and body["commons"] == "velo"
    assert body["status"] == "declared" and body["round"] is None and body["round_id"] is None
    assert body["late"] is False and body["warnings"] == []
    assert body["person_name"] == "Contributor"
    stored = db.session.get(Contribution, body["id"])
    assert str(stored.hours) == "2.50" and stored.evidence_url == "https://example.org/notes"


def test_declaring_in_an_open_round_assigns_it(client, velo):
    round_id = make_round("velo", TODAY.replace(day=1) - timedelta(days=40), TODAY)
    body = client.post("/api/v1/contributions", json=payload(), headers=velo["contributor"].headers).get_json()
    assert body["round"]["id"] == round_id and body["round"]["state"] == "open" and body["late"] is False


def set_late_periods(slug: str, periods: int) -> None:
    from ledger.commons.service import get_commons

    rules_in_force(get_commons(slug).id).late_periods = periods
    db.session.commit()


def test_a_late_declaration_goes_to_the_open_round_and_says_so(client, velo):
    set_late_periods("velo", 3)  # the rules accept work up to three months late
    old_day = TODAY - timedelta(days=60)
    make_round("velo", old_day - timedelta(days=5), old_day + timedelta(days=5), state="review")
    open_id = make_round("velo", old_day + timedelta(days=6), TODAY)
    body = client.post(
        "/api/v1/contributions", json=payload(date=old_day.isoformat()), headers=velo["contributor"].headers
    ).get_json()
    assert body["late"] is True and body["round_id"] == open_id


def test_a_closed_period_with_no_open_round_is_refused_on_the_date(client, velo):
    set_late_periods("velo", 3)
    old_day = TODAY - timedelta(days=60)
    make_round("velo", old_day - timedelta(days=5), old_day + timedelta(days=5), state="finalized")
    response = client.post("/api/v1/contributions", json=payload(date=old_day.isoformat()), headers=velo["contributor"].headers)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["date"]
    assert count_contributions() == 0


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("0001-01-01", "must be between January 1, 1900 and December 31, 2999"),  # outside every API date field
        ("1900-01-01", "The date cannot be before the commons started (2020-01-01)."),
    ],
)
def test_work_dated_before_the_commons_started_is_refused_naming_the_date(client, velo, day, message):
    """Issue 16 item 3: work dated 0001-01-01 was accepted and paid as late work, 24 h per invented day."""
    make_round("velo", TODAY.replace(day=1), TODAY)
    response = client.post("/api/v1/contributions", json=payload(date=day), headers=velo["contributor"].headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["date"] == [message]
    assert count_contributions() == 0


def test_late_work_is_accepted_within_the_rules_window_only(client, velo):
    """The default window is the previous period: last month's work is accepted, older work is not."""
    make_round("velo", TODAY.replace(day=1), TODAY)
    window_start = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
    accepted = client.post(
        "/api/v1/contributions", json=payload(date=window_start.isoformat()), headers=velo["contributor"].headers
    )
    assert accepted.status_code == 201, accepted.get_json()
    too_old = client.post(
        "/api/v1/contributions",
        json=payload(date=(window_start - timedelta(days=1)).isoformat()),
        headers=velo["contributor"].headers,
    )
    assert too_old.status_code == 422
    assert f"accept late work from {window_start.isoformat()}" in too_old.get_json()["error"]["fields"]["date"][0]
    assert count_contributions() == 1
    # An edit cannot move work out of the window either.
    edited = client.patch(
        f"/api/v1/contributions/{accepted.get_json()['id']}",
        json={"date": "1900-01-01"},
        headers=velo["contributor"].headers,
    )
    assert edited.status_code == 422 and "date" in edited.get_json()["error"]["fields"]
    assert db.session.get(Contribution, accepted.get_json()["id"]).date == window_start


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"hours": "0"}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"hours": "1.3"}, "hours"),
        ({"hours": "24.25"}, "hours"),
        ({"hours": "1.333"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"hours": True}, "hours"),
        ({"hours": "1e30"}, "hours"),
        # Three days ahead: still the future if the run crosses midnight after collection.
        ({"date": (TODAY + timedelta(days=3)).isoformat()}, "date"),
        ({"date": "2024-02-30"}, "date"),
        ({"description": "ab"}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "null byte \x00 inside"}, "description"),
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
        ({"evidence_url": "ftp://example.org/file"}, "evidence_url"),
        ({"evidence_url": "https://example.org/" + "a" * 500}, "evidence_url"),
        ({"evidence_url": "https://exa mple.org"}, "evidence_url"),
        ({"category": "unknown"}, "category"),
        ({"commons": "nowhere"}, "commons"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_each_bad_input_is_refused_naming_its_field_and_stores_nothing(client, velo, overrides, field):
    response = client.post("/api/v1/contributions", json=payload(**overrides), headers=velo["contributor"].headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    assert count_contributions() == 0


def test_all_problems_are_reported_at_once(client, velo):
    response = client.post(
        "/api/v1/contributions",
        headers=velo["contributor"].headers,
        json=payload(
            hours="0.3",
            category="nope",
            description="x",
            evidence_url="mailto:a@b.c",
            date=(TODAY + timedelta(days=3)).isoformat(),
        ),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"hours", "category", "description", "evidence_url", "date"}


def test_missing_fields_are_named(client, velo):
    response = client.post("/api/v1/contributions", json={"commons": "velo"}, headers=velo["contributor"].headers)
    assert response.status_code == 422
    assert {"date", "hours", "category", "description"} <= set(response.get_json()["error"]["fields"])


def test_a_day_holds_at_most_24_hours_across_all_commons(client, velo, make_commons):
    make_commons(velo["steward"], "jardin", members={"contributor": velo["contributor"]})
    headers = velo["contributor"].headers
    assert client.post("/api/v1/contributions", json=payload(hours="20"), headers=headers).status_code == 201
    response = client.post("/api/v1/contributions", json=payload(commons="jardin", hours="4.25"), headers=headers)
    assert response.status_code == 422 and "hours" in response.get_json()["error"]["fields"]
    assert client.post("/api/v1/contributions", json=payload(commons="jardin", hours="4"), headers=headers).status_code == 201
    assert count_contributions() == 2


def test_withdrawn_hours_free_the_day(client, velo):
    headers = velo["contributor"].headers
    first = client.post("/api/v1/contributions", json=payload(hours="20"), headers=headers).get_json()
    assert client.delete(f"/api/v1/contributions/{first['id']}", headers=headers).status_code == 200
    assert client.post("/api/v1/contributions", json=payload(hours="10"), headers=headers).status_code == 201


def test_only_members_of_the_commons_may_declare(client, velo, make_person):
    outsider = make_person("Outsider")
    response = client.post("/api/v1/contributions", json=payload(), headers=outsider.headers)
    assert response.status_code == 403 and "commons" in response.get_json()["error"]["fields"]
    assert count_contributions() == 0


def test_declaring_needs_a_token(client, velo):
    response = client.post("/api/v1/contributions", json=payload())
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "not_authenticated"


def test_a_retried_request_with_the_same_idempotency_key_returns_the_first_result(client, velo):
    headers = {**velo["contributor"].headers, "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/contributions", json=payload(), headers=headers)
    second = client.post("/api/v1/contributions", json=payload(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json() and second.headers["Idempotent-Replay"] == "true"
    assert count_contributions() == 1
    reused = client.post("/api/v1/contributions", json=payload(hours="3"), headers=headers)
    assert reused.status_code == 409 and count_contributions() == 1


def test_weekly_care_threshold_warns_but_does_not_block(client, velo):
    headers = velo["contributor"].headers
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    for offset in range(4):
        assert (
            client.post(
                "/api/v1/contributions",
                json=payload(date=(monday + timedelta(days=offset)).isoformat(), hours="12"),
                headers=headers,
            ).get_json()["warnings"]
            == []
        )
    body = client.post(
        "/api/v1/contributions", json=payload(date=(monday + timedelta(days=4)).isoformat(), hours="1"), headers=headers
    ).get_json()
    assert body["id"] and len(body["warnings"]) == 1 and "49.00" in body["warnings"][0]


def test_text_is_stored_as_given_and_returned_as_data(client, velo):
    script = "<script>alert('x')</script> fixed the brakes"
    body = client.post("/api/v1/contributions", json=payload(description=script), headers=velo["contributor"].headers).get_json()
    assert body["description"] == script


def test_list_shows_my_contributions_and_filters(client, velo):
    headers = velo["contributor"].headers
    client.post("/api/v1/contributions", json=payload(date=(TODAY - timedelta(days=3)).isoformat()), headers=headers)
    second = client.post("/api/v1/contributions", json=payload(category="maintenance"), headers=headers).get_json()
    client.post("/api/v1/contributions", json=payload(), headers=velo["member"].headers)
    client.delete(f"/api/v1/contributions/{second['id']}", headers=headers)
    mine = client.get("/api/v1/contributions", headers=headers).get_json()
    assert [c["category"] for c in mine] == ["maintenance", "care"]
    assert [c["status"] for c in mine] == ["withdrawn", "declared"]
    assert [c["id"] for c in client.get("/api/v1/contributions?status=withdrawn", headers=headers).get_json()] == [second["id"]]
    since = client.get(f"/api/v1/contributions?from={(TODAY - timedelta(days=2)).isoformat()}", headers=headers).get_json()
    assert [c["id"] for c in since] == [second["id"]]
    everyone = client.get("/api/v1/contributions?commons=velo", headers=velo["member"].headers).get_json()
    assert len(everyone) == 3
    one_person = client.get(f"/api/v1/contributions?commons=velo&person={velo['member'].id}", headers=headers).get_json()
    assert [c["person_id"] for c in one_person] == [velo["member"].id]
    assert client.get("/api/v1/contributions?status=bogus", headers=headers).status_code == 422


def test_a_commons_list_is_for_its_people_only(client, velo, make_person):
    outsider = make_person("Outsider")
    assert client.get("/api/v1/contributions?commons=velo", headers=outsider.headers).status_code == 403


def test_patch_applies_the_same_rules_and_only_for_the_author(client, velo):
    headers = velo["contributor"].headers
    created = client.post("/api/v1/contributions", json=payload(), headers=headers).get_json()
    url = f"/api/v1/contributions/{created['id']}"
    changed = client.patch(url, json={"hours": "3.75", "description": "Welcomed three newcomers"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["hours"] == "3.75"
    bad = client.patch(url, json={"hours": "3.1", "evidence_url": "data:text/html,hi"}, headers=headers)
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"hours", "evidence_url"}
    assert client.patch(url, json={}, headers=headers).status_code == 422
    assert client.patch(url, json={"commons": "other"}, headers=headers).status_code == 422
    assert client.patch(url, json={"hours": "1"}, headers=velo["member"].headers).status_code == 403
    db.session.remove()
    assert str(db.session.get(Contribution, created["id"]).hours) == "3.75"


def test_edit_and_withdraw_only_while_the_round_is_open(client, velo):
    headers = velo["contributor"].headers
    round_id = make_round("velo", TODAY - timedelta(days=20), TODAY)
    created = client.post("/api/v1/contributions", json=payload(), headers=headers).get_json()
    db.session.get(Round, round_id).state = "review"
    db.session.commit()
    url = f"/api/v1/contributions/{created['id']}"
    assert client.patch(url, json={"hours": "1"}, headers=headers).status_code == 409
    assert client.delete(url, headers=headers).status_code == 409
    db.session.remove()
    assert db.session.get(Contribution, created["id"]).status == "declared"


def test_delete_withdraws_keeps_the_row_and_the_url_then_answers_404(client, velo):
    headers = velo["contributor"].headers
    created = client.post("/api/v1/contributions", json=payload(), headers=headers).get_json()
    url = f"/api/v1/contributions/{created['id']}"
    assert client.delete(url, headers=velo["member"].headers).status_code == 403
    first = client.delete(url, headers=headers)
    assert first.status_code == 200 and first.get_json()["status"] == "withdrawn"
    # deleted: gone from its URL (the list with status=withdrawn keeps it)
    assert client.delete(url, headers=headers).status_code == 404
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"hours": "1"}, headers=headers).status_code == 404
    assert count_contributions() == 1
    listed = client.get("/api/v1/contributions?status=withdrawn", headers=headers).get_json()
    assert [c["id"] for c in listed] == [created["id"]]


def test_unknown_contribution_is_404(client, velo):
    response = client.get("/api/v1/contributions/999", headers=velo["contributor"].headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_categories_are_public_and_stewards_add_more(client, velo):
    listed = client.get("/api/v1/commons/velo/categories").get_json()
    codes = {c["code"]: c for c in listed}
    assert {"production", "maintenance", "care", "governance", "welcoming", "feedback", "coordination", "mutual_help"} <= set(
        codes
    )
    assert codes["care"]["invisible"] is True and codes["production"]["invisible"] is False and codes["care"]["weight"] == "1"
    body = {"code": "repair_cafe", "label": "Repair café", "invisible": True}
    assert client.post("/api/v1/commons/velo/categories", json=body, headers=velo["member"].headers).status_code == 403
    created = client.post("/api/v1/commons/velo/categories", json=body, headers=velo["steward"].headers)
    assert created.status_code == 201 and created.get_json()["code"] == "repair_cafe"
    assert client.post("/api/v1/commons/velo/categories", json=body, headers=velo["steward"].headers).status_code == 409
    bad = client.post("/api/v1/commons/velo/categories", json={"code": "Bad Code", "label": ""}, headers=velo["steward"].headers)
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"code", "label"}
    declared = client.post("/api/v1/contributions", json=payload(category="repair_cafe"), headers=velo["contributor"].headers)
    assert declared.status_code == 201


def test_openapi_documents_the_contribution_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/contributions",
        "/api/v1/contributions/{contribution_id}",
        "/api/v1/contributions/{contribution_id}/vouches",
        "/api/v1/contributions/{contribution_id}/objections",
        "/api/v1/objections/{objection_id}/votes",
        "/api/v1/objections/{objection_id}/withdraw",
        "/api/v1/objections/{objection_id}/resolve",
        "/api/v1/commons/{slug}/categories",
        "/api/v1/rounds/{round_id}/review",
    ):
        assert path in spec["paths"], path
    assert "delete" in spec["paths"]["/api/v1/contributions/{contribution_id}"]
