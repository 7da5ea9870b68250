"""Helpers for the governance tests: a commons of voters, proposals made and settled through the API."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ledger.extensions import db
from ledger.governance.models import RuleProposal
from ledger.rounds.lifecycle import tick


def set_procedure(client, slug: str, steward, **values) -> dict:
    """While a steward still decides alone, they name the procedure (as a first version would)."""
    response = client.post(
        f"/api/v1/commons/{slug}/rules", json={"reason": "we decide together from now on", **values}, headers=steward.headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def propose(client, slug: str, author, title: str = "Raise the hourly value", **rules) -> dict:
    response = client.post(
        f"/api/v1/commons/{slug}/proposals",
        json={
            "title": title,
            "rationale": "Costs went up; our time is worth more.",
            "rules": rules or {"hourly_value_cents": 1800},
        },
        headers=author.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def vote(client, proposal_id: int, actor, approve: bool):
    return client.post(f"/api/v1/proposals/{proposal_id}/votes", json={"approve": approve}, headers=actor.headers)


def after_deadline(proposal_id: int) -> date:
    db.session.remove()
    return db.session.get(RuleProposal, proposal_id).deadline + timedelta(days=1)


def settle_by_scheduler(proposal_id: int) -> dict:
    """What the scheduler does the day after the deadline."""
    summary = tick(after_deadline(proposal_id))
    db.session.commit()
    return summary


def proposal(client, proposal_id: int) -> dict:
    return client.get(f"/api/v1/proposals/{proposal_id}").get_json()


def state_of(proposal_id: int) -> str:
    db.session.remove()
    return db.session.scalar(select(RuleProposal.state).where(RuleProposal.id == proposal_id))
