"""The collective decides its rules: votes with quorum and colleges, consent, the steward procedure, the register."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.governance.models import Decision, ProposalVote, RuleProposal
from ledger.governance.tally import CollegeCount, count, weighted_yes_share
from ledger.rounds.models import Round, RuleVersion
from ledger.rounds.rules import rules_in_force
from ledger.timeutil import today
from tests.governance_support import proposal, propose, set_procedure, settle_by_scheduler, state_of, vote
from tests.rounds_support import World, fund_commons, open_round

# ---------------------------------------------------------------- the pure count


colleges_strategy = st.lists(
    st.tuples(
        st.fractions(min_value=Fraction(1, 100), max_value=100),
        st.integers(0, 30),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=6,
)


@given(colleges_strategy)
def test_weighted_college_result_is_the_exact_rational_of_each_ballots_weight(raw):
    """Direct computation: each ballot weighs w_c / (W × cast_c), W the weight of the colleges that voted."""
    colleges = [CollegeCount(f"c{i}", w, yes + no + 2, yes, no) for i, (w, yes, no) in enumerate(raw)]
    voting_weight = sum((w for w, yes, no in raw if yes + no), Fraction(0))
    # One entry per yes ballot: what that single ballot adds to the result.
    yes_ballots = [w / (voting_weight * (yes + no)) for w, yes, no in raw for _ in range(yes)]
    result = weighted_yes_share(colleges)
    if voting_weight == 0:
        assert result is None
    else:
        assert result == sum(yes_ballots, Fraction(0))
        assert isinstance(result, Fraction) and 0 <= result <= 1


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 60))
def test_without_colleges_it_is_one_person_one_vote_and_the_quorum_is_a_head_count(yes, no, absent):
    counted = count(
        [CollegeCount("all", Fraction(1), yes + no + absent, yes, no)], quorum=Fraction(1, 2), majority=Fraction(1, 2)
    )
    eligible = yes + no + absent
    assert counted.quorum_met == (eligible > 0 and yes + no > 0 and 2 * (yes + no) >= eligible)
    assert counted.adopted == (counted.quorum_met and yes > no)
    if yes + no:
        assert counted.yes_share == Fraction(yes, yes + no)


def test_a_small_college_weighs_its_weight_whatever_its_size():
    """SCIC: one employee's yes against a thousand members' no, with equal weights, is one half."""
    employees = CollegeCount("employees", Fraction(1), 1, 1, 0)
    members = CollegeCount("members", Fraction(1), 1000, 0, 1000)
    counted = count([employees, members], quorum=Fraction(0), majority=Fraction(1, 2))
    assert counted.yes_share == Fraction(1, 2) and counted.adopted is False  # a tie does not adopt
    assert [c.effective_weight for c in counted.colleges] == [Fraction(1, 2), Fraction(1, 2)]


# ---------------------------------------------------------------- through the API


@pytest.fixture
def voters(client, make_person, make_commons):
    steward, ana, bo, cy = make_person("Steward"), make_person("Ana"), make_person("Bo"), make_person("Cy")
    dee = make_person("Dee")
    make_commons(steward, "velo", members={"member1": ana, "member2": bo, "member3": cy, "contributor": dee})
    return {"steward": steward, "ana": ana, "bo": bo, "cy": cy, "dee": dee}


def versions() -> list[int]:
    db.session.remove()
    return list(db.session.scalars(select(RuleVersion.version).order_by(RuleVersion.version)))


def test_a_vote_below_quorum_does_not_adopt_and_the_rejection_keeps_its_votes(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5", majority="0.5")
    made = propose(client, "velo", voters["dee"])  # any member proposes, contributors included
    assert made["procedure"] == "vote" and made["state"] == "open"
    assert made["differences"] == [{"field": "hourly_value_cents", "in_force": 1500, "proposed": 1800}]
    assert vote(client, made["id"], voters["ana"], True).status_code == 201  # 1 of 4 eligible: below a half
    summary = settle_by_scheduler(made["id"])
    assert summary["proposals_settled"] == [made["id"]]
    assert state_of(made["id"]) == "rejected" and versions() == [1, 2]
    after = proposal(client, made["id"])
    assert after["result"]["cast"] == 1 and after["result"]["eligible"] == 4 and after["result"]["quorum_met"] is False
    assert (after["outcome_code"], after["outcome_params"]) == ("quorum_not_met", {"cast": 1, "eligible": 4})
    entry = client.get("/api/v1/commons/velo/decisions").get_json()[0]
    assert (entry["kind"], entry["procedure"], entry["cast"], entry["eligible"], entry["result"]) == (
        "rule_rejected",
        "vote",
        1,
        4,
        "rejected",
    )


def test_an_adopted_proposal_becomes_the_version_later_rounds_pin(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5", majority="0.5")
    made = propose(client, "velo", voters["ana"])
    for name, approve in (("bo", True), ("cy", True), ("steward", False)):
        assert vote(client, made["id"], voters[name], approve).status_code == 201
    assert state_of(made["id"]) == "open"  # decided at the deadline, not before
    settle_by_scheduler(made["id"])
    after = proposal(client, made["id"])
    assert after["state"] == "adopted" and after["rule_version"] == 3 and after["result"]["yes_share"] == "2/3"
    db.session.remove()
    adopted = db.session.scalar(select(RuleVersion).where(RuleVersion.version == 3))
    assert adopted.hourly_value_cents == 1800 and adopted.decision_procedure == "vote"
    assert adopted.effective_from == after_deadline_day(made)
    world = World("velo", voters["steward"])
    fund_commons(world, 100_000)
    start = (adopted.effective_from.replace(day=1) + timedelta(days=32)).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    opened = open_round(client, world, start.isoformat(), end.isoformat(), 10_000)
    assert opened["rule_version"] == 3
    entry = client.get("/api/v1/commons/velo/decisions").get_json()[0]
    assert (entry["kind"], entry["follow_up"], entry["cast"]) == ("rule_adopted", "todo", 3)


def after_deadline_day(made: dict):
    from datetime import date

    return date.fromisoformat(made["deadline"]) + timedelta(days=1)


def test_nobody_votes_twice(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote")
    made = propose(client, "velo", voters["ana"])
    assert vote(client, made["id"], voters["bo"], True).status_code == 201
    again = vote(client, made["id"], voters["bo"], False)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_voted"
    db.session.remove()
    assert db.session.scalar(select(func.count(ProposalVote.id))) == 1
    assert db.session.scalar(select(ProposalVote.approve)) is True
    contributor = vote(client, made["id"], voters["dee"], True)
    assert contributor.status_code == 403  # contributors propose and comment; members vote


def test_a_steward_cannot_bypass_a_vote(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote")
    direct = client.post(
        "/api/v1/commons/velo/rules", json={"reason": "I decide", "hourly_value_cents": 9000}, headers=voters["steward"].headers
    )
    assert direct.status_code == 403 and direct.get_json()["error"]["code"] == "decided_by_vote"
    made = propose(client, "velo", voters["steward"])
    decided = client.post(
        f"/api/v1/proposals/{made['id']}/decision", json={"adopt": True, "reason": "urgent"}, headers=voters["steward"].headers
    )
    assert decided.status_code == 403 and decided.get_json()["error"]["code"] == "decided_by_vote"
    assert versions() == [1, 2] and state_of(made["id"]) == "open"


def test_under_the_steward_procedure_a_steward_decides_and_members_cannot(client, voters):
    made = propose(client, "velo", voters["ana"], title="Care counts more", category_weights={"care": "1.5"})
    assert made["procedure"] == "steward"
    url = f"/api/v1/proposals/{made['id']}/decision"
    assert client.post(url, json={"adopt": True, "reason": "fine"}, headers=voters["bo"].headers).status_code == 403
    assert settle_by_scheduler(made["id"])["proposals_settled"] == []  # a steward proposal waits for a steward
    decided = client.post(url, json={"adopt": True, "reason": "agreed at the assembly"}, headers=voters["steward"].headers)
    assert decided.status_code == 200 and decided.get_json()["state"] == "adopted"
    db.session.remove()
    assert db.session.scalar(select(RuleVersion).where(RuleVersion.version == 2)).category_weights == {"care": "1.5"}


def test_changing_the_procedure_follows_the_procedure_in_force(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5")
    made = propose(client, "velo", voters["ana"], title="Decide by consent", decision_procedure="consent")
    assert made["procedure"] == "vote"
    for name in ("bo", "cy", "steward"):
        vote(client, made["id"], voters[name], True)
    settle_by_scheduler(made["id"])
    db.session.remove()
    latest = db.session.scalar(select(RuleVersion).order_by(RuleVersion.version.desc()).limit(1))
    assert latest.decision_procedure == "consent"
    # The new procedure governs from the day the adopted version takes effect, not before:
    # a proposal made today is still decided by the vote in force today.
    assert latest.effective_from > today()
    assert rules_in_force(latest.commons_id, latest.effective_from).decision_procedure == "consent"
    following = propose(client, "velo", voters["bo"])
    assert following["procedure"] == "vote"


def test_consent_is_adopted_at_the_deadline_only_without_an_unanswered_objection(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="consent")
    blocked = propose(client, "velo", voters["ana"])
    objection = client.post(
        f"/api/v1/proposals/{blocked['id']}/comments",
        json={"kind": "objection", "body": "The treasury cannot follow this raise."},
        headers=voters["bo"].headers,
    )
    assert objection.status_code == 201
    pro = client.post(
        f"/api/v1/proposals/{blocked['id']}/comments", json={"kind": "pro", "body": "Long overdue."}, headers=voters["cy"].headers
    )
    assert pro.status_code == 201
    assert vote(client, blocked["id"], voters["cy"], True).status_code == 409  # consent has no vote
    settle_by_scheduler(blocked["id"])
    assert state_of(blocked["id"]) == "rejected" and versions() == [1, 2]

    answered = propose(client, "velo", voters["ana"])
    objection = client.post(
        f"/api/v1/proposals/{answered['id']}/comments",
        json={"kind": "objection", "body": "The treasury cannot follow this raise."},
        headers=voters["bo"].headers,
    ).get_json()
    answer_url = f"/api/v1/proposals/{answered['id']}/comments/{objection['id']}/answer"
    assert client.post(answer_url, json={"answer": "We checked"}, headers=voters["cy"].headers).status_code == 403
    reply = client.post(answer_url, json={"answer": "The grant of March covers it."}, headers=voters["ana"].headers)
    assert reply.status_code == 200 and reply.get_json()["answer"] == "The grant of March covers it."
    settle_by_scheduler(answered["id"])
    assert state_of(answered["id"]) == "adopted" and versions() == [1, 2, 3]
    kinds = [e["kind"] for e in client.get("/api/v1/commons/velo/decisions").get_json()]
    assert kinds == ["rule_adopted", "rule_rejected"]


def test_colleges_weigh_rule_votes_and_the_result_is_shown_per_college(client, voters):
    steward = voters["steward"].headers  # colleges defined while a steward still decides alone
    for code, weight in (("workers", "1"), ("users", "1")):
        assert (
            client.post(
                "/api/v1/commons/velo/colleges", json={"code": code, "name": code.title(), "weight": weight}, headers=steward
            ).status_code
            == 201
        )
    bad = client.post("/api/v1/commons/velo/colleges", json={"code": "x", "name": "X", "weight": "-1"}, headers=steward)
    assert bad.status_code == 422 and "weight" in bad.get_json()["error"]["fields"]
    for name, college in (("ana", "workers"), ("bo", "users"), ("cy", "users"), ("steward", "users")):
        placed = client.put(
            "/api/v1/commons/velo/colleges/members", json={"email": voters[name].email, "college": college}, headers=steward
        )
        assert placed.status_code == 200
    listed = client.get("/api/v1/commons/velo/colleges").get_json()
    assert {c["code"]: c["members"] for c in listed} == {"users": 3, "workers": 1}
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5", majority="0.5")
    made = propose(client, "velo", voters["dee"])
    for name, approve in (("ana", True), ("bo", True), ("cy", False), ("steward", False)):
        assert vote(client, made["id"], voters[name], approve).status_code == 201
    result = proposal(client, made["id"])["result"]
    # workers: 1/1 yes; users: 1/3 yes; equal weights → (1 + 1/3) / 2 = 2/3, although only 2 of 4 said yes.
    assert result["yes_share"] == "2/3" and result["yes_percent"] == "66.7"
    assert {c["college"]: c["yes_share"] for c in result["colleges"]} == {"users": "1/3", "workers": "1"}
    settle_by_scheduler(made["id"])
    assert state_of(made["id"]) == "adopted"


def test_colleges_weigh_objection_votes_too(client, voters):
    steward = voters["steward"].headers
    for code, weight in (("workers", "3"), ("users", "1")):
        client.post("/api/v1/commons/velo/colleges", json={"code": code, "name": code, "weight": weight}, headers=steward)
    for name, college in (("ana", "workers"), ("bo", "users"), ("cy", "users"), ("steward", "users")):
        client.put(
            "/api/v1/commons/velo/colleges/members", json={"email": voters[name].email, "college": college}, headers=steward
        )
    created = client.post(
        "/api/v1/contributions",
        headers=voters["dee"].headers,
        json={
            "commons": "velo",
            "date": (today() - timedelta(days=1)).isoformat(),
            "hours": "6",
            "category": "care",
            "description": "Listened to the neighbours",
        },
    )
    assert created.status_code == 201, created.get_json()
    objection = client.post(
        f"/api/v1/contributions/{created.get_json()['id']}/objections",
        json={"reason": "Not work for the commons"},
        headers=voters["cy"].headers,
    )
    assert objection.status_code == 201, objection.get_json()
    url = f"/api/v1/objections/{objection.get_json()['id']}/votes"
    first = client.post(url, json={"vote": "reject"}, headers=voters["ana"].headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["state"] == "open"  # 1 of 4: below the quorum of a half
    # A tie by heads (1 reject, 1 keep) would keep it; by college, workers (weight 3) reject 1/1, users 0/1: 3/4.
    second = client.post(url, json={"vote": "keep"}, headers=voters["bo"].headers).get_json()
    assert second["state"] == "upheld"
    entry = client.get("/api/v1/commons/velo/decisions").get_json()[0]
    assert (entry["kind"], entry["result"], entry["procedure"], entry["cast"], entry["eligible"]) == (
        "objection_settled",
        "upheld",
        "vote",
        2,
        4,
    )


def test_a_proposal_that_changes_nothing_is_refused_and_stores_nothing(client, voters):
    response = client.post(
        "/api/v1/commons/velo/proposals",
        json={"title": "Same", "rationale": "Nothing", "rules": {"hourly_value_cents": 1500, "levy_rate": "0.050"}},
        headers=voters["ana"].headers,
    )
    assert response.status_code == 422 and response.get_json()["error"]["fields"] == {"_schema": ["changes nothing"]}
    bad = client.post(
        "/api/v1/commons/velo/proposals",
        json={"title": "Bad", "rationale": "Bad", "rules": {"decision_procedure": "lottery"}},
        headers=voters["ana"].headers,
    )
    assert bad.status_code == 422 and "rules.decision_procedure" in bad.get_json()["error"]["fields"]
    db.session.remove()
    assert db.session.scalar(select(func.count(RuleProposal.id))) == 0


def test_the_register_follow_up_needs_a_reason_to_abandon(client, voters):
    made = propose(client, "velo", voters["ana"])
    client.post(
        f"/api/v1/proposals/{made['id']}/decision", json={"adopt": True, "reason": "agreed"}, headers=voters["steward"].headers
    )
    entry = client.get("/api/v1/commons/velo/decisions").get_json()[0]
    url = f"/api/v1/commons/velo/decisions/{entry['id']}/follow-up"
    refused = client.post(url, json={"follow_up": "abandoned"}, headers=voters["steward"].headers)
    assert refused.status_code == 422 and "note" in refused.get_json()["error"]["fields"]
    assert client.post(url, json={"follow_up": "done"}, headers=voters["ana"].headers).status_code == 403
    done = client.post(url, json={"follow_up": "abandoned", "note": "the grant fell through"}, headers=voters["steward"].headers)
    assert done.get_json()["follow_up"] == "abandoned" and done.get_json()["follow_up_note"] == "the grant fell through"


def test_a_finalized_round_is_in_the_register_with_why_it_moved_early(client, voters):
    from tests.rounds_support import advance, declare

    world = World("velo", voters["steward"], {"ana": voters["ana"]})
    fund_commons(world, 100_000)
    last_month_end = today().replace(day=1) - timedelta(days=1)  # a whole month: rounds last a week at least
    declare(world, voters["ana"], "4", last_month_end.replace(day=2))
    round_id = open_round(client, world, last_month_end.replace(day=1).isoformat(), last_month_end.isoformat(), 10_000)["id"]
    advance(client, world, round_id, 1, reason="the assembly meets early")
    advance(client, world, round_id, 2, reason="the review is done")
    entries = client.get("/api/v1/commons/velo/decisions").get_json()
    assert [(e["kind"], e["result"]) for e in entries] == [("round_finalized", "finalized")]
    # Both windows were cut short: the register says why, as the round's history does.
    assert entries[0]["early_reason"] == "the assembly meets early; the review is done"
    page = client.get("/commons/velo/decisions?lang=en").get_data(as_text=True)
    assert "Early, because: the assembly meets early; the review is done" in page
    db.session.remove()
    assert db.session.scalar(select(Decision.ref)) == f"round:{round_id}"
    assert db.session.get(Round, round_id).state == "finalized"


def test_democratic_health_counts_without_naming_anyone(client, voters):
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5")
    made = propose(client, "velo", voters["ana"])
    vote(client, made["id"], voters["bo"], True)
    vote(client, made["id"], voters["cy"], False)
    figures = client.get("/api/v1/commons/velo/democratic-health").get_json()
    assert figures["members"] == 5 and figures["active_3_months"] == 2 and figures["active_share"] == "40.0"
    assert figures["votes"] == [{"proposal": made["id"], "eligible": 4, "cast": 2, "turnout": "50.0"}]
    text = str(figures)
    assert "Ana" not in text and "Bo" not in text and voters["bo"].email not in text


def test_the_openapi_document_covers_proposals_votes_colleges_and_the_register(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert {
        ("/api/v1/commons/{slug}/proposals", "get"),
        ("/api/v1/commons/{slug}/proposals", "post"),
        ("/api/v1/proposals/{proposal_id}", "get"),
        ("/api/v1/proposals/{proposal_id}/comments", "post"),
        ("/api/v1/proposals/{proposal_id}/comments/{comment_id}/answer", "post"),
        ("/api/v1/proposals/{proposal_id}/votes", "post"),
        ("/api/v1/proposals/{proposal_id}/decision", "post"),
        ("/api/v1/proposals/{proposal_id}/withdrawal", "post"),
        ("/api/v1/commons/{slug}/colleges", "get"),
        ("/api/v1/commons/{slug}/colleges", "post"),
        ("/api/v1/commons/{slug}/colleges/members", "put"),
        ("/api/v1/commons/{slug}/decisions", "get"),
        ("/api/v1/commons/{slug}/decisions/{decision_id}/follow-up", "post"),
        ("/api/v1/commons/{slug}/democratic-health", "get"),
    } <= operations
    rules = spec["components"]["schemas"]["RuleSettings"]["properties"]
    assert rules["decision_procedure"]["enum"] == ["steward", "consent", "vote"]


def test_only_the_author_withdraws_and_the_withdrawn_proposal_stays_listed(client, voters):
    made = propose(client, "velo", voters["ana"])
    url = f"/api/v1/proposals/{made['id']}/withdrawal"
    assert client.post(url, headers=voters["bo"].headers).status_code == 403
    assert client.post(url, headers=voters["ana"].headers).get_json()["state"] == "withdrawn"
    again = client.post(url, headers=voters["ana"].headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "proposal_withdrawn"
    listed = client.get("/api/v1/commons/velo/proposals").get_json()
    assert [(p["id"], p["state"]) for p in listed] == [(made["id"], "withdrawn")]


def test_with_colleges_a_member_outside_any_college_cannot_vote(client, voters):
    steward = voters["steward"].headers
    client.post("/api/v1/commons/velo/colleges", json={"code": "workers", "name": "Workers", "weight": "1"}, headers=steward)
    client.put(
        "/api/v1/commons/velo/colleges/members", json={"email": voters["ana"].email, "college": "workers"}, headers=steward
    )
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote")
    made = propose(client, "velo", voters["ana"])
    refused = vote(client, made["id"], voters["bo"], True)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "no_college"
    assert vote(client, made["id"], voters["ana"], True).status_code == 201
    assert proposal(client, made["id"])["result"]["eligible"] == 1


def test_an_outcome_is_stored_as_a_code_and_figures_and_read_in_the_readers_language(app, client, voters):
    from flask_babel import refresh

    from ledger.governance.outcomes import in_words

    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5", majority="0.5")
    made = propose(client, "velo", voters["ana"])
    for name, approve in (("ana", True), ("bo", True), ("cy", False)):
        assert vote(client, made["id"], voters[name], approve).status_code == 201
    settle_by_scheduler(made["id"])
    stored = db.session.get(RuleProposal, made["id"])
    assert (stored.state, stored.outcome_code, stored.outcome_params) == (
        "adopted",
        "voted",
        {"yes": "2/3", "cast": 3, "eligible": 4},
    )
    with app.test_request_context("/?lang=fr"):
        refresh()
        assert in_words(stored) == "Adoptée : 66,7\u00a0% de oui, pondéré par collège ; 3 votants sur 4."
    with app.test_request_context("/?lang=en"):
        refresh()
        assert in_words(stored) == "Adopted: 66.7% yes, weighted by college; 3 of 4 voted."
    read = proposal(client, made["id"])
    assert (read["outcome_code"], read["outcome_params"]) == ("voted", {"yes": "2/3", "cast": 3, "eligible": 4})


def test_the_migration_reads_the_former_english_outcomes_into_codes():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "migrations" / "versions" / "0012_gov2.py"
    spec = importlib.util.spec_from_file_location("gov2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.parsed("withdrawn", "vote", "withdrawn by its author") == ("withdrawn", {})
    assert module.parsed("adopted", "steward", "agreed at the assembly") == ("steward", {"reason": "agreed at the assembly"})
    assert module.parsed("rejected", "consent", "not adopted: 2 objection(s) left unanswered at the deadline") == (
        "consent_blocked",
        {"unanswered": 2},
    )
    assert module.parsed("adopted", "consent", "adopted by consent: 1 objection(s), all answered") == (
        "consent_adopted",
        {"objections": 1},
    )
    assert module.parsed("rejected", "vote", "not adopted: quorum not reached (1 of 4 voted, 25.0 %)") == (
        "quorum_not_met",
        {"cast": 1, "eligible": 4},
    )
    assert module.parsed("adopted", "vote", "adopted: 66.7 % yes (weighted), 3 of 4 voted") == (
        "voted",
        {"yes": "667/1000", "cast": 3, "eligible": 4},
    )


def colleges_now() -> dict:
    from ledger.governance.models import College, CollegeMember

    db.session.remove()
    weights = {c.code: c.weight for c in db.session.scalars(select(College))}
    placed = {
        m.person_id: code
        for m, code in db.session.execute(
            select(CollegeMember, College.code).join(College, College.id == CollegeMember.college_id)
        )
    }
    return {"weights": weights, "placed": placed}


def test_a_steward_cannot_bypass_a_vote_to_change_the_colleges_which_change_by_proposal(client, voters):
    steward = voters["steward"].headers
    for code in ("workers", "users"):
        client.post("/api/v1/commons/velo/colleges", json={"code": code, "name": code.title(), "weight": "1"}, headers=steward)
    for name, college in (("ana", "workers"), ("bo", "users"), ("steward", "users")):
        client.put(
            "/api/v1/commons/velo/colleges/members", json={"email": voters[name].email, "college": college}, headers=steward
        )
    set_procedure(client, "velo", voters["steward"], decision_procedure="vote", quorum="0.5", majority="0.5")
    before = colleges_now()

    reweigh = client.post(
        "/api/v1/commons/velo/colleges", json={"code": "users", "name": "Users", "weight": "9"}, headers=steward
    )
    assert reweigh.status_code == 403 and reweigh.get_json()["error"]["code"] == "decided_by_vote"
    created = client.post(
        "/api/v1/commons/velo/colleges", json={"code": "board", "name": "Board", "weight": "5"}, headers=steward
    )
    assert created.status_code == 403
    moved = client.put(
        "/api/v1/commons/velo/colleges/members", json={"email": voters["ana"].email, "college": "users"}, headers=steward
    )
    assert moved.status_code == 403 and moved.get_json()["error"]["code"] == "decided_by_vote"
    assert colleges_now() == before  # nothing written
    # A newcomer without a college is still placed by a steward: that is admitting them, not moving a vote.
    newcomer = client.put(
        "/api/v1/commons/velo/colleges/members", json={"email": voters["cy"].email, "college": "users"}, headers=steward
    )
    assert newcomer.status_code == 200

    made = client.post(
        "/api/v1/commons/velo/proposals",
        json={
            "title": "Workers weigh more",
            "rationale": "The workers carry the commons.",
            "colleges": [
                {"code": "workers", "name": "Workers", "weight": "3"},
                {"code": "users", "name": "Users", "weight": "1"},
            ],
            "moves": [{"email": voters["bo"].email, "college": "workers"}],
        },
        headers=voters["dee"].headers,
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    # "users" is unchanged (name and weight): only what differs is kept.
    assert body["changes"] == {} and body["college_changes"] == {
        "colleges": {"workers": {"name": "Workers", "weight": "3"}},
        "moves": {str(voters["bo"].id): "workers"},
    }
    for name in ("ana", "bo", "cy"):
        assert vote(client, body["id"], voters[name], True).status_code == 201
    assert colleges_now() == {**before, "placed": {**before["placed"], voters["cy"].id: "users"}}  # not before adoption
    settle_by_scheduler(body["id"])
    assert state_of(body["id"]) == "adopted" and versions() == [1, 2]  # no new rule version: only colleges changed
    after = colleges_now()
    assert after["weights"] == {"workers": "3", "users": "1"}
    assert after["placed"][voters["bo"].id] == "workers"
    entry = client.get("/api/v1/commons/velo/decisions").get_json()[0]
    assert (entry["kind"], entry["subject"], entry["procedure"]) == ("rule_adopted", "Workers weigh more", "vote")


def test_a_college_proposal_is_checked_and_one_that_changes_nothing_is_refused(client, voters):
    steward = voters["steward"].headers
    client.post("/api/v1/commons/velo/colleges", json={"code": "users", "name": "Users", "weight": "1"}, headers=steward)
    set_procedure(client, "velo", voters["steward"], decision_procedure="consent")

    def proposing(**body):
        return client.post(
            "/api/v1/commons/velo/proposals",
            json={"title": "Colleges", "rationale": "Because.", **body},
            headers=voters["ana"].headers,
        )

    same = proposing(colleges=[{"code": "users", "name": "Users", "weight": "1.0"}])
    assert same.status_code == 422 and same.get_json()["error"]["fields"] == {"_schema": ["changes nothing"]}
    bad = proposing(colleges=[{"code": "users", "name": "Users", "weight": "0"}])
    assert bad.status_code == 422 and "colleges.0.weight" in bad.get_json()["error"]["fields"]
    nowhere = proposing(moves=[{"email": voters["bo"].email, "college": "board"}])
    assert nowhere.status_code == 422 and "moves.0.college" in nowhere.get_json()["error"]["fields"]
    db.session.remove()
    assert db.session.scalar(select(func.count(RuleProposal.id))) == 0
