"""What only a real PostgreSQL shows for rule votes: the same person voting twice at the same instant."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.governance.models import ProposalVote
from tests.governance_support import propose, set_procedure

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_app):
    """The suite's ``app``, replaced here by one on PostgreSQL (make_person and client follow it)."""
    return pg_app


def test_simultaneous_ballots_of_one_person_store_one_and_answer_409(app, client, make_person, make_commons):
    assert db.engine.dialect.name == "postgresql"
    steward, ana, bo = make_person("Steward"), make_person("Ana"), make_person("Bo")
    make_commons(steward, "velo", members={"member1": ana, "member2": bo})
    set_procedure(client, "velo", steward, decision_procedure="vote")
    proposal_ids = [propose(client, "velo", ana, title=f"Proposal {n}", hourly_value_cents=1600 + n)["id"] for n in range(5)]
    for proposal_id in proposal_ids:
        answers: list[tuple[int, str | None]] = []
        barrier = threading.Barrier(2)

        def cast(approve: bool, proposal_id=proposal_id, answers=answers, barrier=barrier):
            with app.app_context():
                http = app.test_client()
                barrier.wait()
                response = http.post(f"/api/v1/proposals/{proposal_id}/votes", json={"approve": approve}, headers=bo.headers)
                body = response.get_json()
                answers.append((response.status_code, body.get("error", {}).get("code")))

        threads = [threading.Thread(target=cast, args=(approve,)) for approve in (True, False)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(answers) == [(201, None), (409, "already_voted")]
    db.session.remove()
    assert db.session.scalar(select(func.count(ProposalVote.id))) == 5
    assert db.session.scalar(select(func.count(func.distinct(ProposalVote.proposal_id)))) == 5
