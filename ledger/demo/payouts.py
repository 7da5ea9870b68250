"""The demo's CAE, its accountant, CAE memberships and payout routes; then its first payroll.

``setup`` runs after the contributions and before the rounds, so that finalized rounds route to
the CAE; ``settle`` runs after the rounds: it exports the earliest month's salary lines and marks
one batch paid, leaving the rest for the accountant to try.
"""

from __future__ import annotations

from sqlalchemy import select

from ledger.commons.models import Membership
from ledger.demo.base import DemoWorld
from ledger.extensions import db
from ledger.legal import set_identity
from ledger.payouts import batches as batch_service
from ledger.payouts import service
from ledger.payouts.exports import salary_lines
from ledger.payouts.models import PayoutBatch
from ledger.people.service import create_person, find_by_email
from ledger.rounds.models import Round

CAE_CODE = "ECOTONE"
ACCOUNTANT_EMAIL = "comptabilite@ecotone.demo.communs.example"
# (first name in the demo, contract type): about half of the demo people work with the CAE. Each
# member has an analytic code (their activity); Raphaël, an associé, has a lower contribution rate.
CAE_MEMBERS = [
    ("Léa", "CESA"),
    ("Aïcha", "CAPE"),
    ("Théo", "CESA"),
    ("Noah", "CESA"),
    ("Manon", "CESA"),
    ("Lucas", "CESA"),
    ("Enzo", "CESA"),
    ("Louise", "CESA"),
    ("Gabriel", "CESA"),
    ("Clara", "CESA"),
    ("Jules", "CESA"),
    ("Raphaël", "associe"),
]
# Routes other than `cae` and the default `invoice`: (first name, commons, route).
OTHER_ROUTES = [("Zoé", "tiers-lieu-tanneurs", "waive"), ("Sarah", "roue-libre", "fund")]


def setup(world: DemoWorld) -> None:
    """The CAE, its accountant login, its members (refs encrypted) and their `cae` routes."""
    from ledger.demo import PASSWORD

    cae = service.create_cae(CAE_CODE, "Coopérative Ecotone", "0.10", "0.45")
    set_identity(cae, siren="900000050", legal_name="Coopérative Ecotone SCOP", fiscal_year_start=None)
    accountant = create_person(ACCOUNTANT_EMAIL, "Sophie Vasseur", PASSWORD)
    service.grant_accountant(cae, accountant.email)
    world.logins.append(("CAE accountant (Ecotone)", accountant.email))
    for number, (first_name, contract) in enumerate(CAE_MEMBERS, start=1):
        person = world.person(first_name)
        rate = "0.08" if contract == "associe" else None
        service.add_cae_member(
            cae, person.email, f"ECO-{number:04d}", contract, analytic_code=f"ACT{number:03d}", contribution_rate=rate
        )
        for member in db.session.scalars(select(Membership).where(Membership.person_id == person.id)):
            service.set_route(member.commons, person.id, "cae", CAE_CODE, person)
    for first_name, slug, route in OTHER_ROUTES:
        person = world.person(first_name)
        service.set_route(world.commons[slug], person.id, route, None, person)
    db.session.flush()


def settle(world: DemoWorld) -> None:
    """Export the earliest payroll month with CAE batches and mark its first batch paid."""
    cae = service.get_cae(CAE_CODE)
    accountant = find_by_email(ACCOUNTANT_EMAIL)
    first = db.session.execute(
        select(PayoutBatch, Round.finalized_at)
        .join(Round, Round.id == PayoutBatch.round_id)
        .where(PayoutBatch.route == "cae", PayoutBatch.cae_id == cae.id, Round.finalized_at.is_not(None))
        .order_by(Round.finalized_at, PayoutBatch.id)
        .limit(1)
    ).first()
    if first is None:
        return  # no finalized round in this demo: nothing to pay yet
    batch, finalized_at = first
    salary_lines.export(cae, finalized_at.strftime("%Y-%m"), accountant)
    batch_service.mark_paid(batch, accountant, finalized_at.date(), f"VIR-DEMO-{batch.id:04d}")
