"""After login each person sees what waits for them: objections to answer, votes, reviews,
rounds to finalize, batches to export."""

from __future__ import annotations

from datetime import date

import pytest
from payouts_support import payroll_scenario

from ledger.extensions import db
from ledger.inbox.todo import todo_for
from ledger.people.models import Person
from tests.rounds_support import World, advance, declare, fund_commons, open_round


@pytest.fixture
def world(app, make_person, make_commons):
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", name="Vélo", members={"member": ana, "member2": bob})
    w = World("velo", steward, {"ana": ana, "bob": bob})
    fund_commons(w, 100_000)
    return w


def kinds(actor) -> list[tuple[str, int]]:
    return [(t.kind, t.subject_id) for t in todo_for(db.session.get(Person, actor.id))]


def test_the_list_follows_the_round_and_the_objection(client, world):
    ana, bob = world.people["ana"], world.people["bob"]
    contribution = declare(world, ana, "3", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    assert kinds(ana) == [] and kinds(world.steward) == []
    advance(client, world, round_id)  # review
    assert kinds(bob) == [("review", round_id)]
    objected = client.post(
        f"/api/v1/contributions/{contribution}/objections", json={"reason": "these hours were counted twice"}, headers=bob.headers
    )
    assert objected.status_code == 201, objected.get_json()
    assert kinds(ana) == [("answer_objection", contribution), ("review", round_id)]
    assert kinds(world.steward) == [("cast_vote", contribution), ("review", round_id)]
    assert kinds(bob) == [("cast_vote", contribution), ("review", round_id)]  # objecting is not voting
    objection_id = objected.get_json()["id"]
    answered = client.post(
        f"/api/v1/objections/{objection_id}/answer", json={"answer": "only once, see the log"}, headers=ana.headers
    )
    assert answered.status_code == 200, answered.get_json()
    assert kinds(ana) == [("review", round_id)]
    voted = client.post(f"/api/v1/objections/{objection_id}/votes", json={"vote": "keep"}, headers=world.steward.headers)
    assert voted.status_code == 201, voted.get_json()
    assert kinds(world.steward) == [("review", round_id)]
    assert voted.get_json()["state"] == "dismissed"  # 1 of 2 voters meets the quorum of one half
    assert kinds(bob) == [("review", round_id)]  # a decided objection asks nothing more
    advance(client, world, round_id)  # allocated
    assert kinds(world.steward) == [("finalize", round_id)]
    assert kinds(ana) == []

    with client.session_transaction() as session:
        session["person_id"] = world.steward.id
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Waiting for you" in page and f'href="/rounds/{round_id}/finalize"' in page and "Finalize the round of Vélo" in page
    with client.session_transaction() as session:
        session["person_id"] = ana.id
    assert "Nothing waits for you." in client.get("/?lang=en").get_data(as_text=True)


def test_an_accountant_sees_the_batches_to_export_until_they_are_exported(client, make_person, make_commons):
    scenario = payroll_scenario(client, make_person, make_commons)
    acc = scenario["people"]["acc"]
    found = {(t.kind, t.detail) for t in todo_for(db.session.get(Person, acc.id))}
    assert found == {("export_batch", "2025-03"), ("export_batch", "2025-04")}
    assert len(todo_for(db.session.get(Person, acc.id))) == 3
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=acc.headers)
    db.session.expire_all()
    assert [(t.kind, t.detail) for t in todo_for(db.session.get(Person, acc.id))] == [("export_batch", "2025-04")]


def test_a_rule_vote_waits_for_each_voter_until_they_vote_or_it_closes(client, world, make_person):
    from ledger.governance.models import RuleProposal
    from tests.governance_support import propose, set_procedure, vote

    ana, bob = world.people["ana"], world.people["bob"]
    dee = make_person("Dee")
    added = client.post(
        "/api/v1/commons/velo/members", json={"email": dee.email, "role": "contributor"}, headers=world.steward.headers
    )
    assert added.status_code == 201, added.get_json()
    set_procedure(client, "velo", world.steward, decision_procedure="vote", quorum="0.5", majority="0.5")
    made = propose(client, "velo", ana, title="Raise the hourly value")
    for voter in (ana, bob, world.steward):
        assert kinds(voter) == [("vote_proposal", made["id"])]
    assert kinds(dee) == []  # a contributor does not vote on the rules
    assert vote(client, made["id"], bob, True).status_code == 201
    assert kinds(bob) == [] and kinds(ana) == [("vote_proposal", made["id"])]
    with client.session_transaction() as session:
        session["person_id"] = ana.id
    page = client.get("/?lang=en").get_data(as_text=True)
    assert f'href="/proposals/{made["id"]}"' in page
    assert f"Vote on the proposal “Raise the hourly value” (Vélo), until {made['deadline']}" in page
    db.session.get(RuleProposal, made["id"]).deadline = date(2020, 1, 1)  # the vote closed
    db.session.commit()
    assert kinds(ana) == []
