"""Helpers for the rounds, allocation and fund tests: a commons with money, people and work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ledger.commons.models import Commons, Membership
from ledger.commons.service import record_income
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.people.models import Person, PersonRole


@dataclass
class World:
    slug: str
    steward: object
    people: dict = field(default_factory=dict)

    @property
    def commons(self) -> Commons:
        return db.session.scalar(select(Commons).where(Commons.slug == self.slug))


def fund_commons(world: World, cents: int, on: date = date(2025, 12, 1)) -> None:
    steward = db.session.get(Person, world.steward.id)
    record_income(
        world.commons, amount_cents=cents, source="grant", funder="Métropole", received_on=on, earmark=None, recorded_by=steward
    )
    db.session.commit()


def declare(world: World, actor, hours: str, on: date, category: str = "production", round_id: int | None = None) -> int:
    contribution = Contribution(
        person_id=actor.id,
        commons_id=world.commons.id,
        round_id=round_id,
        date=on,
        hours=Decimal(hours),
        category=category,
        description="work",
        status="declared",
    )
    db.session.add(contribution)
    db.session.commit()
    return contribution.id


def set_route(world: World, actor, route: str, cae_id: int | None = None) -> None:
    member = db.session.scalar(
        select(Membership).where(Membership.commons_id == world.commons.id, Membership.person_id == actor.id)
    )
    member.payout_route, member.payout_cae_id = route, cae_id
    db.session.commit()


def make_cae(code: str = "OXALIS", rate: str = "0.10") -> int:
    from ledger.payouts.models import Cae

    cae = Cae(code=code, name=f"CAE {code}", contribution_rate=rate, employer_rate="0.42")
    db.session.add(cae)
    db.session.commit()
    return cae.id


def make_fund_manager(actor) -> None:
    db.session.add(PersonRole(person_id=actor.id, role="fund_manager"))
    db.session.commit()


def new_rules(client, world: World, **values) -> dict:
    response = client.post(
        f"/api/v1/commons/{world.slug}/rules", json={"reason": "test rules", **values}, headers=world.steward.headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_round(client, world: World, start: str, end: str, envelope: int) -> dict:
    response = client.post(
        f"/api/v1/commons/{world.slug}/rounds",
        json={"period_start": start, "period_end": end, "envelope_cents": envelope},
        headers=world.steward.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def advance(client, world: World, round_id: int, times: int = 1, reason: str | None = "the test moves on") -> dict:
    for _ in range(times):
        # Tests do not wait for the declaration and review windows: the steward says why.
        response = client.post(
            f"/api/v1/rounds/{round_id}/advance", json={"reason": reason} if reason else None, headers=world.steward.headers
        )
        assert response.status_code == 200, response.get_json()
    return response.get_json()
