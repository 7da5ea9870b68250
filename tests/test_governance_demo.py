"""The demo shows a commons deciding by vote with colleges, one by consent, adopted and rejected proposals."""

from __future__ import annotations

from sqlalchemy import select

from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.governance import colleges, register, service


def test_the_demo_decides_by_vote_with_colleges_and_by_consent(runner):
    result = runner.invoke(["demo"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    carto = db.session.scalar(select(Commons).where(Commons.slug == "cartocommuns"))
    tanneurs = db.session.scalar(select(Commons).where(Commons.slug == "tiers-lieu-tanneurs"))
    assert [c.code for c in colleges.colleges_of(carto.id)] == ["developers", "users"]
    voted = {p.title: (p.procedure, p.state) for p in service.proposals_of(carto.id)}
    assert sorted(voted.values()) == [("vote", "adopted"), ("vote", "rejected")]
    care = next(p for p in service.proposals_of(carto.id) if p.state == "adopted")
    # developers 1 yes of 2, users 2 of 2, equal weights: 3/4.
    assert str(service.result(care).yes_share) == "3/4"
    consented = sorted((p.procedure, p.state) for p in service.proposals_of(tanneurs.id))
    assert consented == [("consent", "adopted"), ("consent", "rejected")]
    entries = register.register_of(tanneurs.id)
    kinds = {e.kind for e in entries}
    assert {"rule_adopted", "rule_rejected", "round_finalized"} <= kinds
    assert any(e.follow_up == "done" and e.follow_up_note for e in entries)
