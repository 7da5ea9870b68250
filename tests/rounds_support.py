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
    work: dict = field(default_factory=dict)  # name → id of a contribution the set-up declared

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


def ana_and_bob(make_person, make_commons) -> World:
    """Velo with 5,000 € of income, Ana's 10 h of production (2026-01-05) and Bob's 4 h of care
    (2026-01-06), waiting for the January round."""
    steward = make_person("Steward")
    people = {"ana": make_person("Ana"), "bob": make_person("Bob")}
    make_commons(steward, "velo", members={"member": people["ana"], "member2": people["bob"]})
    w = World("velo", steward, people)
    fund_commons(w, 500_000)
    w.work["ana"] = declare(w, people["ana"], "10", date(2026, 1, 5))
    w.work["bob"] = declare(w, people["bob"], "4", date(2026, 1, 6), category="care")
    return w


def allocated_round(client, world: World) -> int:
    """The January round, opened then advanced to allocated: its preview is stored."""
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    advance(client, world, round_id, times=2)
    return round_id


def calls_of(monkeypatch, module, name: str, record=lambda *args, **kwargs: args) -> list:
    """What ``record`` says of every call of ``module.name`` from now on (by default its
    positional arguments); the function still does its work."""
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(record(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls
