"""Rounds through the API: creation, lifecycle, allocation, finalization into the ledger."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.service import balance
from ledger.contributions.models import Contribution, Objection
from ledger.extensions import db
from ledger.payouts.models import PayoutBatch, PayoutLine
from ledger.rounds.models import Round
from tests.rounds_support import World, advance, declare, fund_commons, make_cae, new_rules, open_round, set_route


@pytest.fixture
def world(app, make_person, make_commons):
    steward = make_person("Steward")
    people = {"ana": make_person("Ana"), "bob": make_person("Bob"), "cy": make_person("Cy")}
    make_commons(steward, "velo", members={"member": people["ana"], "member2": people["bob"], "contributor": people["cy"]})
    w = World("velo", steward, people)
    fund_commons(w, 500_000)
    return w


def tx_count(round_id=None) -> int:
    query = select(func.count(LedgerTransaction.id))
    if round_id is not None:
        query = query.where(LedgerTransaction.round_id == round_id)
    return db.session.scalar(query)


def test_round_creation_pins_rules_computes_dates_and_adopts_waiting_contributions(client, world):
    inside = declare(world, world.people["ana"], "3", date(2026, 1, 10))
    outside = declare(world, world.people["ana"], "2", date(2026, 2, 3))
    created = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)
    assert created["state"] == "open" and created["rule_version"] == 1 and created["commons"] == "velo"
    # defaults: declaration 5 days, review 7 days
    assert created["review_starts_on"] == "2026-02-06" and created["allocation_on"] == "2026-02-13"
    assert db.session.get(Contribution, inside).round_id == created["id"]
    assert db.session.get(Contribution, outside).round_id is None
    assert client.get(f"/api/v1/rounds/{created['id']}").get_json()["envelope_cents"] == 100_000


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"period_start": "2026-01-31", "period_end": "2026-01-01", "envelope_cents": 10}, "period_end"),
        ({"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope_cents": 500_001}, "envelope_cents"),
        ({"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope_cents": 10.5}, "envelope_cents"),
        ({"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope_cents": -1}, "envelope_cents"),
        ({"period_start": "not a date", "period_end": "2026-01-31", "envelope_cents": 10}, "period_start"),
        ({"period_end": "2026-01-31", "envelope_cents": 10}, "period_start"),
    ],
)
def test_bad_round_is_refused_naming_the_field_and_nothing_is_stored(client, world, payload, field):
    response = client.post("/api/v1/commons/velo/rounds", json=payload, headers=world.steward.headers)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count(Round.id))) == 0


def test_envelopes_of_unfinalized_rounds_are_promised_money_and_overlaps_are_refused(client, world):
    open_round(client, world, "2026-01-01", "2026-01-31", 300_000)
    too_much = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": "2026-02-01", "period_end": "2026-02-28", "envelope_cents": 200_001},
        headers=world.steward.headers,
    )
    assert too_much.status_code == 422 and "envelope_cents" in too_much.get_json()["error"]["fields"]
    overlap = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": "2026-01-15", "period_end": "2026-02-14", "envelope_cents": 1},
        headers=world.steward.headers,
    )
    assert overlap.status_code == 409 and "period_start" in overlap.get_json()["error"]["fields"]
    assert open_round(client, world, "2026-02-01", "2026-02-28", 200_000)["envelope_cents"] == 200_000


def test_only_a_steward_opens_or_advances_a_round(client, world):
    ana = world.people["ana"]
    response = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope_cents": 1},
        headers=ana.headers,
    )
    assert response.status_code == 403
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 1)["id"]
    assert client.post(f"/api/v1/rounds/{round_id}/advance", headers=ana.headers).status_code == 403
    assert client.post(f"/api/v1/rounds/{round_id}/advance").status_code == 401
    assert db.session.get(Round, round_id).state == "open"


def test_full_lifecycle_writes_balanced_entries_once_and_a_second_finalize_is_409(client, world, runner):
    ana, bob, cy = world.people["ana"], world.people["bob"], world.people["cy"]
    declare(world, ana, "10", date(2026, 1, 5))
    declare(world, bob, "4", date(2026, 1, 6), category="care")
    declare(world, cy, "2", date(2026, 1, 7))
    set_route(world, cy, "waive")
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    assert advance(client, world, round_id)["state"] == "review"
    assert advance(client, world, round_id)["state"] == "allocated"
    allocation = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=ana.headers).get_json()
    lines = {line["person_id"]: line for line in allocation["lines"]}
    # 15 €/h, levy 5 %: 10 h → 150 €, levy 7.50 €
    assert lines[ana.id]["claim_cents"] == 15_000 and lines[ana.id]["gross_cents"] == 15_000
    assert lines[ana.id]["levy_cents"] == 750 and lines[ana.id]["net_cents"] == 14_250
    assert lines[ana.id]["hours"] == "10.00" and "10 hours" in lines[ana.id]["explanation"]
    assert "@" not in str(allocation)
    assert tx_count(round_id) == 0  # a preview writes nothing
    finalized = advance(client, world, round_id)
    assert finalized["state"] == "finalized"
    written = tx_count(round_id)
    assert written == 4  # three retributions and cy's waive
    treasury_after = balance(chart.commons_treasury(world.commons).code)
    assert balance(chart.person_payable(ana.id, world.commons).code) == -14_250
    assert balance(chart.person_payable(cy.id, world.commons).code) == 0
    assert -balance(chart.fund_levies().code) == 750 + 300 + 150
    second = client.post(f"/api/v1/rounds/{round_id}/advance", headers=world.steward.headers)
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_finalized"
    assert tx_count(round_id) == written and balance(chart.commons_treasury(world.commons).code) == treasury_after
    batches = db.session.scalars(select(PayoutBatch).where(PayoutBatch.round_id == round_id)).all()
    assert [(b.route, len(b.lines)) for b in batches] == [("invoice", 2)]
    assert runner.invoke(["verify"]).exit_code == 0


def test_levy_top_up_waive_fund_and_cae_routes_write_the_entries_of_the_contract(client, world, make_person):
    ana, bob, cy = world.people["ana"], world.people["bob"], world.people["cy"]
    cae_id = make_cae("OXALIS", "0.10")
    set_route(world, ana, "cae", cae_id)
    set_route(world, cy, "fund")
    new_rules(client, world, hourly_value_cents=2000, levy_rate="0.10")
    from tests.rounds_support import make_fund_manager

    manager = make_person("Fund manager")
    make_fund_manager(manager)
    assert (
        client.post(
            "/api/v1/solidarity-fund/donations",
            json={"amount_cents": 10_000, "donor": "Fondation", "date": "2026-01-02"},
            headers=manager.headers,
        ).status_code
        == 201
    )
    declare(world, ana, "10", date(2026, 1, 5))  # claim 200 €
    declare(world, bob, "10", date(2026, 1, 6))  # claim 200 €
    declare(world, cy, "5", date(2026, 1, 7))  # claim 100 €
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 25_000)["id"]
    advance(client, world, round_id, times=3)
    lines = {
        l["person_id"]: l for l in client.get(f"/api/v1/rounds/{round_id}/allocation", headers=ana.headers).get_json()["lines"]
    }
    # envelope 250 € split 2:2:1 → 100, 100, 50; levy 10 %
    assert [lines[p]["gross_cents"] for p in (ana.id, bob.id, cy.id)] == [10_000, 10_000, 5_000]
    assert [lines[p]["net_cents"] for p in (ana.id, bob.id, cy.id)] == [9_000, 9_000, 4_500]
    # shortfalls 100 € each for ana and bob (cy gives to the fund: no top-up); half = 100 €, the fund
    # had 100 € donated (levies of this round come after): 50 € each
    assert [lines[p]["topup_cents"] for p in (ana.id, bob.id, cy.id)] == [5_000, 5_000, 0]
    assert lines[ana.id]["route"] == "cae" and lines[ana.id]["cae_contribution_cents"] == 1_400
    assert lines[ana.id]["salary_budget_cents"] == 12_600
    assert balance(chart.fund_payable(ana.id).code) == -5_000
    assert balance(chart.fund_treasury().code) == 10_000 + 2_500 + 4_500
    assert balance(chart.person_payable(cy.id, world.commons).code) == 0
    assert -balance(chart.fund_donations().code) == 10_000 + 4_500
    fund = client.get("/api/v1/solidarity-fund").get_json()
    assert fund["available_cents"] == 17_000 - 10_000 and fund["owed_cents"] == 10_000 and fund["topups_cents"] == 10_000
    refs = set(db.session.scalars(select(LedgerTransaction.ref).where(LedgerTransaction.round_id == round_id)))
    assert refs == {f"round:{round_id}:retribution:{p}" for p in (ana.id, bob.id, cy.id)} | {
        f"round:{round_id}:topup:{ana.id}",
        f"round:{round_id}:topup:{bob.id}",
        f"round:{round_id}:to-fund:{cy.id}",
    }
    cae_line = db.session.scalar(
        select(PayoutLine).join(PayoutBatch).where(PayoutBatch.round_id == round_id, PayoutBatch.route == "cae")
    )
    assert cae_line.amount_cents == 14_000 and cae_line.salary_budget_cents == 12_600


def test_a_crash_in_the_middle_of_finalization_leaves_nothing_written(client, world, monkeypatch):
    declare(world, world.people["ana"], "10", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    advance(client, world, round_id, times=2)
    before = tx_count()

    def boom(round_):
        raise RuntimeError("disk full")

    monkeypatch.setattr("ledger.rounds.lifecycle.create_batches", boom)
    response = client.post(f"/api/v1/rounds/{round_id}/advance", headers=world.steward.headers)
    assert response.status_code == 500
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "allocated" and tx_count() == before
    monkeypatch.undo()
    assert advance(client, world, round_id)["state"] == "finalized"


def test_objected_work_is_carried_over_to_the_next_round_and_listed(client, world):
    ana, bob = world.people["ana"], world.people["bob"]
    declare(world, ana, "3", date(2026, 1, 5))
    disputed = declare(world, bob, "5", date(2026, 1, 6))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    db.session.add(Objection(contribution_id=disputed, objector_id=ana.id, reason="not in the period", state="open"))
    db.session.commit()
    advance(client, world, round_id, times=2)
    allocation = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=ana.headers).get_json()
    assert [l["person_id"] for l in allocation["lines"]] == [ana.id]
    assert [c["id"] for c in allocation["carried_over"]] == [disputed]
    assert allocation["carried_over"][0]["round_id"] is None
    next_round = open_round(client, world, "2026-02-01", "2026-02-28", 10_000)["id"]
    moved = db.session.get(Contribution, disputed)
    db.session.refresh(moved)
    assert moved.round_id == next_round and moved.carried_from_round_id == round_id
    again = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=ana.headers).get_json()
    assert again["carried_over"][0]["round_id"] == next_round


def test_recompute_after_a_rule_fix_pins_the_new_version_and_what_if_writes_nothing(client, world):
    ana = world.people["ana"]
    declare(world, ana, "10", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    advance(client, world, round_id, times=2)
    simulated = client.post(
        f"/api/v1/rounds/{round_id}/what-if", json={"hourly_value_cents": 3000}, headers=world.steward.headers
    )
    assert simulated.status_code == 200, simulated.get_json()
    assert simulated.get_json()["simulated"] is True and simulated.get_json()["lines"][0]["gross_cents"] == 30_000
    stored = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=ana.headers).get_json()
    assert stored["lines"][0]["gross_cents"] == 15_000 and stored["rule_version"] == 1
    bad = client.post(f"/api/v1/rounds/{round_id}/what-if", json={"levy_rate": "1.5"}, headers=world.steward.headers)
    assert bad.status_code == 422 and "levy_rate" in bad.get_json()["error"]["fields"]
    new_rules(client, world, hourly_value_cents=2000)
    recomputed = client.post(f"/api/v1/rounds/{round_id}/recompute", headers=world.steward.headers).get_json()
    assert recomputed["rule_version"] == 2 and recomputed["lines"][0]["gross_cents"] == 20_000
    assert client.get(f"/api/v1/rounds/{round_id}").get_json()["rule_version"] == 2


def test_allocation_is_for_members_and_not_before_allocated(client, world, make_person):
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100)["id"]
    outsider = make_person("Outsider")
    response = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=world.people["ana"].headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_allocated"
    advance(client, world, round_id, times=2)
    assert client.get(f"/api/v1/rounds/{round_id}/allocation", headers=outsider.headers).status_code == 403
    assert client.get(f"/api/v1/rounds/{round_id}/allocation", headers=world.people["cy"].headers).status_code == 200


def test_ledger_verifies_after_a_sequence_of_rounds(client, world, runner):
    ana, bob = world.people["ana"], world.people["bob"]
    for month in (1, 2, 3):
        declare(world, ana, str(month * 3), date(2026, month, 5))
        declare(world, bob, "7.25", date(2026, month, 9), category="care")
        start = date(2026, month, 1)
        end = date(2026, month + 1, 1).replace(day=1)
        from datetime import timedelta

        round_id = open_round(client, world, start.isoformat(), (end - timedelta(days=1)).isoformat(), 9_000)["id"]
        advance(client, world, round_id, times=3)
    result = runner.invoke(["verify"])
    assert result.exit_code == 0, result.output
    kinds = db.session.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.round_id.is_not(None))).all()
    assert kinds.count("round:retribution") == 6
    # the levies of January fund top-ups in February and March, never beyond what the fund holds
    assert kinds.count("round:topup") >= 2
    assert balance(chart.fund_treasury().code) >= -sum(balance(chart.fund_payable(p.id).code) for p in (ana, bob))
