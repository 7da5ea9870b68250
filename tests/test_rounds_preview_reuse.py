"""Finalization posts the stored preview when the fingerprint of its inputs is unchanged, and
computes the allocation again (posting the new figures) when any input moved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.service import Entry, Leg, balance, post_many
from ledger.extensions import db
from ledger.rounds import service
from ledger.rounds.models import AllocationLine, Round
from ledger.rounds.preview import fingerprint
from tests.rounds_support import advance, allocated_round, ana_and_bob, calls_of, fund_commons, new_rules, set_route


@pytest.fixture
def world(app, make_person, make_commons):
    return ana_and_bob(make_person, make_commons)


@pytest.fixture
def allocations(monkeypatch):
    """Every run of the allocation itself (what reusing the preview saves)."""
    return calls_of(monkeypatch, service, "allocate")


def kinds(round_id: int) -> list[str]:
    return sorted(db.session.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.round_id == round_id)))


def test_an_unchanged_round_is_finalized_from_its_preview_without_computing_again(client, world, allocations):
    round_id = allocated_round(client, world)
    assert len(allocations) == 1
    preview = {line.person_id: line.net_cents for line in db.session.scalars(select(AllocationLine))}
    assert db.session.get(Round, round_id).preview_fingerprint
    assert advance(client, world, round_id)["state"] == "finalized"
    assert len(allocations) == 1, "finalization reused the stored preview"
    ana = world.people["ana"]
    assert -balance(chart.person_payable(ana.id, world.commons).code) == preview[ana.id] == 14_250
    assert kinds(round_id) == ["round:retribution", "round:retribution"]


def test_a_changed_route_is_computed_again_and_its_figures_are_posted(client, world, allocations):
    round_id = allocated_round(client, world)
    set_route(world, world.people["bob"], "waive")
    assert advance(client, world, round_id)["state"] == "finalized"
    assert len(allocations) == 2
    assert kinds(round_id) == ["round:retribution", "round:retribution", "round:waive"]
    bob_line = db.session.scalar(select(AllocationLine).where(AllocationLine.person_id == world.people["bob"].id))
    assert bob_line.route == "waive"


def test_a_change_of_the_funds_balance_or_the_work_is_computed_again(client, world, allocations):
    round_id = allocated_round(client, world)
    fund_commons(world, 1_000)  # the commons' income, not the fund's: the allocation's input is the same
    db.session.expire_all()
    before = db.session.get(Round, round_id).preview_fingerprint
    inp, _ = service.gather(db.session.get(Round, round_id), db.session.get(Round, round_id).rule_version)
    assert fingerprint(db.session.get(Round, round_id).rule_version_id, inp) == before
    # The fund receives a donation: its available balance, an input of the top-ups, moved.
    post_many(
        [Entry("fund:donation", (Leg(chart.fund_treasury(), 5_000), Leg(chart.fund_donations(), -5_000)), date(2026, 2, 1))]
    )
    db.session.commit()
    inp, _ = service.gather(db.session.get(Round, round_id), db.session.get(Round, round_id).rule_version)
    assert fingerprint(db.session.get(Round, round_id).rule_version_id, inp) != before
    assert advance(client, world, round_id)["state"] == "finalized"
    assert len(allocations) == 2, "finalization computed the allocation again"


def test_new_rules_pinned_by_a_recompute_change_the_fingerprint(client, world, allocations):
    round_id = allocated_round(client, world)
    before = db.session.get(Round, round_id).preview_fingerprint
    new_rules(client, world, hourly_value_cents=2_000)
    recomputed = client.post(f"/api/v1/rounds/{round_id}/recompute", headers=world.steward.headers)
    assert recomputed.status_code == 200, recomputed.get_json()
    db.session.expire_all()
    assert db.session.get(Round, round_id).preview_fingerprint != before
    assert advance(client, world, round_id)["state"] == "finalized"
    assert len(allocations) == 2  # the recompute, and no third one at finalization
    assert -balance(chart.person_payable(world.people["ana"].id, world.commons).code) == 19_000  # 10 h at 20 €, 5 % levy


def test_every_field_of_the_allocation_input_moves_the_fingerprint():
    """A field added to the input later and left out of the fingerprint would let finalization
    post a stale preview: each field, changed alone, must change the fingerprint."""
    from dataclasses import fields, replace
    from decimal import Decimal

    from ledger.rounds.allocation.model import FundTerms, RoundInput, Route, Rules, Work

    rules = Rules("time", 2_000, None, Decimal("0.05"), {"care": Decimal("1.5")})
    fund = FundTerms(Decimal("0.5"), 10_000, 90_000, True, {7: 4_000})
    route = Route("cae", 3, "OX-7", Decimal("0.4"))
    base = RoundInput(100_000, rules, fund, (Work(7, "care", Decimal("2.5"), 11),), {7: route}, {7: 500}, ((8, 7, 3),))
    changed = {
        "envelope_cents": 100_001,
        "rules": replace(rules, hybrid_time_weight=Decimal("0.6")),
        "fund": replace(fund, available_cents=1),
        "work": (Work(7, "care", Decimal("2.5"), 12),),
        "routes": {7: replace(route, cae_code="OX-8")},
        "requests": {7: 501},
        "points": ((8, 7, 4),),
    }
    assert set(changed) == {f.name for f in fields(RoundInput)}
    variants = {name: replace(base, **{name: value}) for name, value in changed.items()}
    variants |= {
        f"fund.{f.name}": replace(base, fund=replace(fund, **{f.name: value}))
        for f, value in zip(fields(FundTerms), (Decimal("0.6"), 10_001, 90_001, False, {7: 4_001}), strict=True)
    }
    variants |= {
        f"route.{f.name}": replace(base, routes={7: replace(route, **{f.name: value})})
        for f, value in zip(fields(Route), ("invoice", 4, "OX-9", Decimal("0.41")), strict=True)
    }
    variants["rule version"] = base
    prints = {name: fingerprint(2 if name == "rule version" else 1, inp) for name, inp in variants.items()}
    assert fingerprint(1, base) not in prints.values()
    assert len(set(prints.values())) == len(prints)
