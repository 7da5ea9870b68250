"""Demo rounds: two past months taken to finalization in each commons, and the current month open.

The earlier month's envelope covers every claim (with one disputed contribution carried over);
the later month's is short, so the solidarity fund tops up. Seeded randomness only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ledger.commons.models import Membership
from ledger.contributions.models import Contribution, ContributionStatus, Objection
from ledger.demo.base import DemoWorld
from ledger.extensions import db
from ledger.fund.service import donate, new_fund_rules
from ledger.people.models import ROLE_FUND_MANAGER, PersonRole
from ledger.rounds import lifecycle, service
from ledger.timeutil import today, utcnow

CATEGORIES = ("production", "maintenance", "care", "governance", "welcoming", "coordination", "mutual_help", "feedback")
FUND_MANAGER = "Jade"


def month_bounds(first: date) -> tuple[date, date]:
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def load(world: DemoWorld) -> None:
    rnd = random.Random(2024)
    manager = world.person(FUND_MANAGER)
    db.session.add(PersonRole(person_id=manager.id, role=ROLE_FUND_MANAGER))
    db.session.flush()
    world.logins.append(("solidarity fund manager", manager.email))
    this_month = today().replace(day=1)
    two_ago = (this_month - timedelta(days=40)).replace(day=1)
    last = (this_month - timedelta(days=1)).replace(day=1)
    new_fund_rules(
        manager,
        reason="Couvrir la moitié de chaque manque, au plus 80 € par personne et par mois, tous communs confondus.",
        topup_ratio=Decimal("0.5"),
        per_person_cap_cents=8_000,
        effective_from=two_ago,
    )
    donate(
        amount_cents=150_000, donor="Fondation pour la contribution", received_on=two_ago + timedelta(days=2), recorded_by=manager
    )
    for commons in world.commons.values():
        members = db.session.scalars(select(Membership).where(Membership.commons_id == commons.id).order_by(Membership.id)).all()
        steward = next(m.person for m in members if m.role == "steward")
        first = _past_round(commons, steward, members, two_ago, rnd, cover=Decimal(1), dispute=True)
        _past_round(commons, steward, members, last, rnd, cover=Decimal("0.6"), dispute=False)
        start, end = month_bounds(this_month)
        service.create_round(
            commons,
            period_start=start,
            period_end=end,
            created_by=steward,
            envelope_cents=max(0, min(first.envelope_cents, service.free_treasury_cents(commons))),
        )
    db.session.flush()


def _declare_if_missing(commons, members, start: date, end: date, rnd: random.Random) -> None:
    """Contributions for the month, unless the contributions step already declared some."""
    if db.session.scalar(
        select(func.count(Contribution.id)).where(
            Contribution.commons_id == commons.id, Contribution.date >= start, Contribution.date <= end
        )
    ):
        return
    for member in members:
        for _ in range(rnd.randint(1, 4)):
            day = start + timedelta(days=rnd.randint(0, (end - start).days))
            db.session.add(
                Contribution(
                    person_id=member.person_id,
                    commons_id=commons.id,
                    date=min(day, today()),
                    hours=Decimal(rnd.randint(2, 24)) / 4,
                    category=rnd.choice(CATEGORIES),
                    description="Permanence et suivi",
                    status=ContributionStatus.DECLARED,
                    created_at=utcnow(),
                )
            )
    db.session.flush()


def _past_round(commons, steward, members, first: date, rnd: random.Random, *, cover: Decimal, dispute: bool):
    """A past month's round taken through review, allocation and finalization.

    Its envelope is ``cover`` times the claims (capped by the treasury), so below 1 the fund tops up.
    """
    start, end = month_bounds(first)
    _declare_if_missing(commons, members, start, end, rnd)
    round_ = service.create_round(commons, period_start=start, period_end=end, envelope_cents=0, created_by=steward)
    objection = None
    if dispute:
        disputed = db.session.scalar(
            select(Contribution).where(Contribution.round_id == round_.id).order_by(Contribution.id.desc()).limit(1)
        )
        objector = next((m for m in members if m.person_id != disputed.person_id and m.can_review), None) if disputed else None
        if objector is not None:
            objection = Objection(
                contribution_id=disputed.id,
                objector_id=objector.person_id,
                state="open",
                reason="Ces heures semblent compter deux fois la même permanence.",
            )
            db.session.add(objection)
    db.session.flush()
    allocation, _ = service.what_if(round_, {})
    round_.envelope_cents = min(int(allocation.claims_cents * cover), service.free_treasury_cents(commons, excluding=round_.id))
    db.session.flush()
    lifecycle.step(round_, "open")
    lifecycle.step(round_, "review")
    lifecycle.finalize(round_)
    if objection is not None:  # settled later: the carried-over work counts in the next round
        objection.state, objection.resolution, objection.resolved_at = (
            "dismissed",
            "Vérifié : deux permanences distinctes.",
            utcnow(),
        )
    db.session.flush()
    return round_
