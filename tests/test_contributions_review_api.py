"""Peer control a posteriori through the API: vouches, objections, answers, votes, mediation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution, Objection, Vote, Vouch
from ledger.contributions.review import review_totals
from ledger.extensions import db
from ledger.rounds.models import Round, RuleVersion
from ledger.timeutil import today
from tests.test_contributions_api import make_round

YESTERDAY = today() - timedelta(days=1)


@pytest.fixture
def world(client, make_person, make_commons):
    steward, m1, m2, contributor = make_person("Steward"), make_person("Ana"), make_person("Bo"), make_person("Cy")
    make_commons(steward, "velo", members={"member1": m1, "member2": m2, "contributor": contributor})
    created = client.post(
        "/api/v1/contributions",
        headers=contributor.headers,
        json={
            "commons": "velo",
            "date": YESTERDAY.isoformat(),
            "hours": "6",
            "category": "maintenance",
            "description": "Serviced the shared cargo bikes",
        },
    )
    assert created.status_code == 201
    return {"steward": steward, "m1": m1, "m2": m2, "contributor": contributor, "cid": created.get_json()["id"]}


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(model.id)))


def set_rules(**values) -> None:
    rules = db.session.scalar(select(RuleVersion))
    for name, value in values.items():
        setattr(rules, name, value)
    db.session.commit()


def test_members_vouch_once_and_never_for_themselves(client, world):
    url = f"/api/v1/contributions/{world['cid']}/vouches"
    first = client.post(url, headers=world["m1"].headers)
    assert first.status_code == 201 and first.get_json()["vouch_count"] == 1
    assert client.post(url, headers=world["m1"].headers).status_code == 409
    assert client.post(url, headers=world["contributor"].headers).status_code == 403
    assert client.post(url, headers=world["steward"].headers).get_json()["vouch_count"] == 2
    assert count(Vouch) == 2


def test_contributors_and_outsiders_cannot_review(client, world, make_person):
    other = make_person("Other contributor")
    client.post(
        "/api/v1/commons/velo/members", json={"email": other.email, "role": "contributor"}, headers=world["steward"].headers
    )
    outsider = make_person("Outsider")
    for actor in (other, outsider):
        assert client.post(f"/api/v1/contributions/{world['cid']}/vouches", headers=actor.headers).status_code == 403
        assert (
            client.post(
                f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Not seen"}, headers=actor.headers
            ).status_code
            == 403
        )
    assert count(Vouch) == 0 and count(Objection) == 0


def test_an_objection_needs_a_written_reason_and_not_on_ones_own_work(client, world):
    url = f"/api/v1/contributions/{world['cid']}/objections"
    for bad in ({}, {"reason": ""}, {"reason": "no"}, {"reason": "x" * 2001}):
        response = client.post(url, json=bad, headers=world["m1"].headers)
        assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"], bad
    assert client.post(url, json={"reason": "I did this myself"}, headers=world["contributor"].headers).status_code == 403
    assert count(Objection) == 0
    created = client.post(url, json={"reason": "The bikes were serviced by the shop"}, headers=world["m1"].headers)
    assert created.status_code == 201 and created.get_json()["state"] == "open"
    assert client.post(url, json={"reason": "Again"}, headers=world["m1"].headers).status_code == 409
    status = client.get(f"/api/v1/contributions/{world['cid']}", headers=world["contributor"].headers).get_json()["status"]
    assert status == "under_objection"


def test_the_contributor_answers_and_amends_the_hours(client, world):
    oid = client.post(
        f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Six hours seems a lot"}, headers=world["m1"].headers
    ).get_json()["id"]
    url = f"/api/v1/objections/{oid}/answer"
    assert client.post(url, json={"answer": "Fair"}, headers=world["m1"].headers).status_code == 403
    assert client.post(url, json={}, headers=world["contributor"].headers).status_code == 422
    bad = client.post(url, json={"amended_hours": "4.1"}, headers=world["contributor"].headers)
    assert bad.status_code == 422 and "amended_hours" in bad.get_json()["error"]["fields"]
    answered = client.post(
        url, json={"answer": "Right, it was four hours.", "amended_hours": "4"}, headers=world["contributor"].headers
    )
    assert answered.status_code == 200
    body = answered.get_json()
    assert body["answer"] == "Right, it was four hours." and body["amended_hours"] == "4.00" and body["state"] == "open"
    assert client.get(f"/api/v1/contributions/{world['cid']}", headers=world["m2"].headers).get_json()["hours"] == "4.00"


def test_an_answer_in_review_may_lower_the_hours_but_never_raise_them(client, world):
    """Issue 16 item 8: answering an objection with amended_hours raised 12 h to 20 h in review."""
    oid = client.post(
        f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Six hours seems a lot"}, headers=world["m1"].headers
    ).get_json()["id"]
    contribution = db.session.get(Contribution, world["cid"])
    contribution.round_id = make_round("velo", YESTERDAY - timedelta(days=3), YESTERDAY, state="review")
    db.session.commit()
    url = f"/api/v1/objections/{oid}/answer"
    raised = client.post(url, json={"answer": "It was more", "amended_hours": "20"}, headers=world["contributor"].headers)
    assert raised.status_code == 422
    assert "may only lower the hours" in raised.get_json()["error"]["fields"]["amended_hours"][0]
    db.session.remove()
    assert str(db.session.get(Contribution, world["cid"]).hours) == "6.00"
    assert db.session.get(Objection, oid).answer is None  # a refused request stores nothing
    lowered = client.post(url, json={"amended_hours": "4"}, headers=world["contributor"].headers)
    assert lowered.status_code == 200 and lowered.get_json()["amended_hours"] == "4.00"
    db.session.remove()
    assert str(db.session.get(Contribution, world["cid"]).hours) == "4.00"


def test_a_vote_decides_once_quorum_is_reached_and_reject_upholds(client, world, make_person):
    # Eligible: steward, Ana, Bo (3 people, the contributor excluded); quorum 0.5 → 2 votes.
    oid = client.post(
        f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Never happened"}, headers=world["m1"].headers
    ).get_json()["id"]
    url = f"/api/v1/objections/{oid}/votes"
    assert client.post(url, json={"vote": "keep"}, headers=world["contributor"].headers).status_code == 403
    assert client.post(url, json={"vote": "maybe"}, headers=world["m1"].headers).status_code == 422
    first = client.post(url, json={"vote": "keep"}, headers=world["m1"].headers).get_json()
    assert first["state"] == "open" and first["votes"] == {"keep": 1, "reject": 0, "eligible": 3} and first["my_vote"] == "keep"
    changed = client.post(url, json={"vote": "reject"}, headers=world["m1"].headers).get_json()
    assert changed["votes"] == {"keep": 0, "reject": 1, "eligible": 3} and changed["state"] == "open"
    decided = client.post(url, json={"vote": "reject"}, headers=world["m2"].headers).get_json()
    assert decided["state"] == "upheld" and decided["resolved_at"] and "2 to reject" in decided["resolution"]
    assert count(Vote) == 2
    assert client.post(url, json={"vote": "keep"}, headers=world["steward"].headers).status_code == 409
    contribution = client.get(f"/api/v1/contributions/{world['cid']}", headers=world["contributor"].headers).get_json()
    assert contribution["status"] == "rejected"


def test_a_tie_keeps_the_contribution(client, world):
    set_rules(quorum="0.6")  # 3 eligible: 2 votes reach the quorum (2 ≥ 1.8)
    oid = client.post(
        f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Doubtful"}, headers=world["m1"].headers
    ).get_json()["id"]
    url = f"/api/v1/objections/{oid}/votes"
    client.post(url, json={"vote": "reject"}, headers=world["m1"].headers)
    decided = client.post(url, json={"vote": "keep"}, headers=world["m2"].headers).get_json()
    assert decided["state"] == "dismissed"
    status = client.get(f"/api/v1/contributions/{world['cid']}", headers=world["contributor"].headers).get_json()["status"]
    assert status == "declared"


def test_the_objector_withdraws(client, world):
    oid = client.post(
        f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Doubtful"}, headers=world["m1"].headers
    ).get_json()["id"]
    assert client.post(f"/api/v1/objections/{oid}/withdraw", headers=world["m2"].headers).status_code == 403
    withdrawn = client.post(f"/api/v1/objections/{oid}/withdraw", headers=world["m1"].headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert client.post(f"/api/v1/objections/{oid}/withdraw", headers=world["m1"].headers).status_code == 409


def test_mediation_is_for_stewards_when_the_rules_say_so(client, world):
    oid = client.post(
        f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Doubtful"}, headers=world["m1"].headers
    ).get_json()["id"]
    url = f"/api/v1/objections/{oid}/resolve"
    body = {"decision": "dismiss", "resolution": "Seen at the workshop by two of us."}
    assert client.post(url, json=body, headers=world["steward"].headers).status_code == 409  # the rules say vote
    set_rules(objection_procedure="mediation")
    assert client.post(f"/api/v1/objections/{oid}/votes", json={"vote": "keep"}, headers=world["m2"].headers).status_code == 409
    assert client.post(url, json=body, headers=world["m1"].headers).status_code == 403
    bad = client.post(url, json={"decision": "dismiss", "resolution": ""}, headers=world["steward"].headers)
    assert bad.status_code == 422 and "resolution" in bad.get_json()["error"]["fields"]
    resolved = client.post(url, json=body, headers=world["steward"].headers).get_json()
    assert resolved["state"] == "dismissed" and resolved["resolution"] == body["resolution"]


def test_review_closes_with_the_round(client, world):
    round_id = make_round("velo", YESTERDAY - timedelta(days=10), YESTERDAY + timedelta(days=1), state="review")
    db.session.get(Contribution, world["cid"]).round_id = round_id
    db.session.commit()
    # In review: still possible.
    assert client.post(f"/api/v1/contributions/{world['cid']}/vouches", headers=world["m1"].headers).status_code == 201
    db.session.get(Round, round_id).state = "allocated"
    db.session.commit()
    assert client.post(f"/api/v1/contributions/{world['cid']}/vouches", headers=world["m2"].headers).status_code == 409
    assert (
        client.post(
            f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Too late?"}, headers=world["m2"].headers
        ).status_code
        == 409
    )
    assert (
        client.get(f"/api/v1/contributions/{world['cid']}", headers=world["contributor"].headers).get_json()["status"]
        == "counted"
    )


def test_what_is_under_review_in_a_round_and_a_commons(client, world, make_person):
    round_id = make_round("velo", YESTERDAY - timedelta(days=10), YESTERDAY + timedelta(days=1), state="review")
    db.session.get(Contribution, world["cid"]).round_id = round_id
    db.session.commit()
    client.post(f"/api/v1/contributions/{world['cid']}/objections", json={"reason": "Doubtful"}, headers=world["m1"].headers)
    by_round = client.get(f"/api/v1/rounds/{round_id}/review", headers=world["m2"].headers).get_json()
    assert [c["id"] for c in by_round["contributions"]] == [world["cid"]]
    assert [o["reason"] for o in by_round["open_objections"]] == ["Doubtful"]
    by_commons = client.get("/api/v1/commons/velo/review", headers=world["contributor"].headers).get_json()
    assert [c["id"] for c in by_commons["contributions"]] == [world["cid"]]
    assert client.get(f"/api/v1/commons/velo/review?round={round_id}", headers=world["m1"].headers).status_code == 200
    assert client.get(f"/api/v1/rounds/{round_id}/review", headers=make_person("Outsider").headers).status_code == 403
    assert client.get("/api/v1/rounds/999/review", headers=world["m1"].headers).status_code == 404


def test_review_outcome_follows_the_peer_decisions(client, world):
    round_id = make_round("velo", YESTERDAY - timedelta(days=10), YESTERDAY + timedelta(days=1))
    headers = world["contributor"].headers
    ids = [world["cid"]] + [
        client.post(
            "/api/v1/contributions",
            headers=headers,
            json={"commons": "velo", "date": YESTERDAY.isoformat(), "hours": "1", "category": "care", "description": f"Task {n}"},
        ).get_json()["id"]
        for n in range(2)
    ]
    for cid in ids:
        db.session.get(Contribution, cid).round_id = round_id
    db.session.commit()
    rejected = client.post(
        f"/api/v1/contributions/{ids[1]}/objections", json={"reason": "Duplicate"}, headers=world["m1"].headers
    ).get_json()["id"]
    client.post(f"/api/v1/objections/{rejected}/votes", json={"vote": "reject"}, headers=world["m1"].headers)
    client.post(f"/api/v1/objections/{rejected}/votes", json={"vote": "reject"}, headers=world["m2"].headers)
    client.post(f"/api/v1/contributions/{ids[2]}/objections", json={"reason": "Unclear"}, headers=world["m1"].headers)
    outcome = review_totals(round_id, 0)
    assert [(c.person_id, c.category, c.hours) for c in outcome.counted] == [
        (world["contributor"].id, "maintenance", Decimal("6.00"))
    ]
    assert outcome.rejected == [ids[1]] and outcome.carried_over == [ids[2]]
