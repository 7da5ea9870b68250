"""Test helpers for payouts: CAEs through the API, and finalized rounds written as finalization does.

``finalized_round`` writes what the rounds' finalization produces (allocation lines, the
retribution and top-up ledger entries with their refs, ``state = finalized``) and then calls
``create_batches`` exactly as finalization does, so payouts can be tested on known figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.accounts import chart
from ledger.accounts.money import apply_rate
from ledger.accounts.service import Leg, post
from ledger.commons.service import get_commons
from ledger.extensions import db
from ledger.payouts.batches import create_batches
from ledger.payouts.models import Cae
from ledger.rounds.models import AllocationLine, Round
from ledger.rounds.rules import rules_in_force


@dataclass
class Line:
    person_id: int
    hours: str
    gross_cents: int
    levy_cents: int
    route: str = "invoice"
    cae: str | None = None
    topup_cents: int = 0


def create_cae(client, admin, code="ECOTONE", name="Coopérative Ecotone", contribution_rate="0.10", employer_rate="0.45"):
    response = client.post(
        "/api/v1/caes",
        json={"code": code, "name": name, "contribution_rate": contribution_rate, "employer_rate": employer_rate},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_cae_member(client, actor, code, member, employee_ref, contract_type="CESA", **names):
    response = client.post(
        f"/api/v1/caes/{code}/members",
        json={"email": member.email, "employee_ref": employee_ref, "contract_type": contract_type, **names},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def grant_accountant(client, admin, code, accountant):
    response = client.post(f"/api/v1/caes/{code}/accountants", json={"email": accountant.email}, headers=admin.headers)
    assert response.status_code == 201, response.get_json()


def finalized_round(slug: str, lines: list[Line], *, period_start: date, period_end: date, finalized_at: datetime) -> Round:
    """A round of ``slug`` finalized at ``finalized_at`` with these lines, its ledger entries and batches."""
    commons = get_commons(slug)
    rules = rules_in_force(commons.id)
    round_ = Round(
        commons_id=commons.id,
        rule_version_id=rules.id,
        period_start=period_start,
        period_end=period_end,
        envelope_cents=sum(line.gross_cents for line in lines),
        state="finalized",
        review_starts_on=period_end,
        allocation_on=period_end,
        finalized_at=finalized_at,
    )
    db.session.add(round_)
    db.session.flush()
    for line in lines:
        net = line.gross_cents - line.levy_cents
        cae = db.session.query(Cae).filter_by(code=line.cae).one() if line.cae else None
        contribution = apply_rate(net + line.topup_cents, Decimal(cae.contribution_rate)) if cae else 0
        db.session.add(
            AllocationLine(
                round_id=round_.id,
                person_id=line.person_id,
                hours=Decimal(line.hours),
                weighted_hours=Decimal(line.hours),
                claim_cents=line.gross_cents + line.topup_cents,
                gross_cents=line.gross_cents,
                levy_cents=line.levy_cents,
                topup_cents=line.topup_cents,
                net_cents=net,
                route=line.route,
                cae_id=cae.id if cae else None,
                cae_contribution_cents=contribution,
                salary_budget_cents=(net + line.topup_cents - contribution) if cae else 0,
                explanation="[]",  # no steps: the stored form of an explanation
            )
        )
        if line.route not in ("cae", "invoice"):
            continue  # waive and fund are settled by finalization itself
        legs = [
            Leg(chart.commons_retributions(commons), line.gross_cents),
            Leg(chart.person_payable(line.person_id, commons), -net),
        ]
        if line.levy_cents:
            legs += [
                Leg(chart.commons_treasury(commons), -line.levy_cents),
                Leg(chart.fund_treasury(), line.levy_cents),
                Leg(chart.fund_levies(), -line.levy_cents),
            ]
        post(
            "retribution",
            legs,
            occurred_on=finalized_at.date(),
            memo=f"Retribution, round {round_.id}",
            commons_id=commons.id,
            round_id=round_.id,
            ref=f"round:{round_.id}:retribution:{line.person_id}",
        )
        if line.topup_cents:
            post(
                "topup",
                [Leg(chart.fund_topups(), line.topup_cents), Leg(chart.fund_payable(line.person_id), -line.topup_cents)],
                occurred_on=finalized_at.date(),
                memo=f"Top-up, round {round_.id}",
                commons_id=commons.id,
                round_id=round_.id,
                ref=f"round:{round_.id}:topup:{line.person_id}",
            )
    db.session.flush()
    create_batches(round_)
    db.session.commit()
    return round_


def fund_treasury(client, steward, slug, cents=5_000_000, on="2025-01-02"):
    """Income so that the commons can pay what it owes."""
    response = client.post(
        f"/api/v1/commons/{slug}/income",
        json={"amount_cents": cents, "source": "grant", "funder": "Région", "date": on},
        headers=steward.headers,
    )
    assert response.status_code == 201, response.get_json()


def payroll_scenario(client, make_person, make_commons) -> dict:
    """Two commons routing two people to ECOTONE in March 2025, plus lines that must stay out of its file.

    velo, round finalized 5 March: Alice (CESA) 20 h, 300,00 gross, 15,00 levy; Bob (CAPE) 8.25 h,
    123,45 gross, 6,17 levy, 5,00 top-up; Dave 10 h invoiced 150,00 gross, 7,50 levy.
    jardin, round finalized 20 March: Alice 6.5 h, 100,00 gross, 5,00 levy.
    jardin, round finalized 1 April: Alice 2 h, 30,00 gross, 1,50 levy (next month's payroll).
    """
    people = {
        "admin": make_person("Admin", admin=True),
        "steward": make_person("Steward Velo"),
        "steward2": make_person("Steward Jardin"),
        "alice": make_person("Alice Martin"),
        "bob": make_person("Bob Durand"),
        "dave": make_person("Dave Invoicer"),
        "acc": make_person("Accountant Ecotone"),
    }
    create_cae(client, people["admin"])
    grant_accountant(client, people["admin"], "ECOTONE", people["acc"])
    add_cae_member(
        client, people["acc"], "ECOTONE", people["alice"], "E-002", "CESA", last_name="Martin-Legrand", analytic_code="ACT-ALICE"
    )
    add_cae_member(client, people["acc"], "ECOTONE", people["bob"], "E-001", "CAPE")
    make_commons(
        people["steward"],
        "velo",
        members={"contributor": people["alice"], "contributor2": people["bob"], "contributor3": people["dave"]},
    )
    make_commons(people["steward2"], "jardin", members={"contributor": people["alice"]})
    fund_treasury(client, people["steward"], "velo")
    fund_treasury(client, people["steward2"], "jardin")
    alice, bob, dave = people["alice"].id, people["bob"].id, people["dave"].id
    rounds = {
        "velo": finalized_round(
            "velo",
            [
                Line(alice, "20.00", 30000, 1500, "cae", "ECOTONE"),
                Line(bob, "8.25", 12345, 617, "cae", "ECOTONE", topup_cents=500),
                Line(dave, "10.00", 15000, 750, "invoice"),
            ],
            period_start=date(2025, 2, 1),
            period_end=date(2025, 2, 28),
            finalized_at=datetime(2025, 3, 5, 10, 0, tzinfo=UTC),
        ),
        "jardin": finalized_round(
            "jardin",
            [Line(alice, "6.50", 10000, 500, "cae", "ECOTONE")],
            period_start=date(2025, 2, 1),
            period_end=date(2025, 2, 28),
            finalized_at=datetime(2025, 3, 20, 23, 59, tzinfo=UTC),
        ),
        "april": finalized_round(
            "jardin",
            [Line(alice, "2.00", 3000, 150, "cae", "ECOTONE")],
            period_start=date(2025, 3, 1),
            period_end=date(2025, 3, 31),
            finalized_at=datetime(2025, 4, 1, 0, 0, tzinfo=UTC),
        ),
    }
    return {"people": people, "rounds": rounds}


def batch_of(round_, route: str):
    from ledger.payouts.models import PayoutBatch

    return db.session.query(PayoutBatch).filter_by(round_id=round_.id, route=route).one()
