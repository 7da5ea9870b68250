"""The demo's payouts step: a CAE with an accountant, members with encrypted references, routes."""

from __future__ import annotations

from sqlalchemy import select

from ledger.commons.models import Membership
from ledger.crypto import decrypt
from ledger.extensions import db
from ledger.payouts.models import Cae, CaeMembership, PayoutBatch
from ledger.rounds.models import Round


def test_demo_creates_the_cae_its_accountant_and_routes(app, runner):
    result = runner.invoke(["demo"])
    assert result.exit_code == 0, result.output
    assert "comptabilite@ecotone.demo.communs.example" in result.output
    cae = db.session.scalar(select(Cae))
    assert (cae.code, cae.name, cae.contribution_rate, cae.employer_rate) == ("ECOTONE", "Coopérative Ecotone", "0.10", "0.45")
    members = db.session.scalars(select(CaeMembership).order_by(CaeMembership.id)).all()
    assert len(members) == 12
    assert sorted({m.contract_type for m in members}) == ["CAPE", "CESA", "associe"]
    assert decrypt(members[0].employee_ref_encrypted) == "ECO-0001" and b"ECO-" not in bytes(members[0].employee_ref_encrypted)
    routes = {m.payout_route for m in db.session.scalars(select(Membership))}
    assert routes == {"cae", "invoice", "waive", "fund"}
    cae_people = {m.person_id for m in members}
    assert all(m.payout_cae_id == cae.id for m in db.session.scalars(select(Membership).where(Membership.payout_route == "cae")))
    assert {m.person_id for m in db.session.scalars(select(Membership).where(Membership.payout_route == "cae"))} == cae_people
    if db.session.scalar(select(Round.id).where(Round.finalized_at.is_not(None)).limit(1)):
        # with finalized rounds, the demo's first payroll is exported and one batch paid
        states = set(db.session.scalars(select(PayoutBatch.state).where(PayoutBatch.cae_id == cae.id)))
        assert "paid" in states
    assert runner.invoke(["verify"]).exit_code == 0
