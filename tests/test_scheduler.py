"""The scheduler: one per installation (a database lock), ticks that move each round once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.rounds.lifecycle import tick
from ledger.rounds.models import AllocationLine, Round, SchedulerRun
from ledger.rounds.scheduler import SchedulerLock, run_tick, start_background_scheduler
from tests.rounds_support import World, declare, fund_commons, open_round


@pytest.fixture
def world(app, make_person, make_commons):
    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    w = World("velo", steward, {"ana": ana})
    fund_commons(w, 200_000)
    return w


def test_only_one_scheduler_lock_at_a_time_on_sqlite_and_it_is_released(app):
    first, second = SchedulerLock(app), SchedulerLock(app)
    assert first.acquire() is True
    assert second.acquire() is False
    first.release()
    assert second.acquire() is True
    second.release()


def test_tick_moves_rounds_by_their_dates_once_and_stops_at_allocated(client, world):
    declare(world, world.people["ana"], "4", date(2026, 1, 10))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]  # review 02-06, allocation 02-13
    assert tick(date(2026, 2, 5))["advanced"] == []
    assert tick(date(2026, 2, 6))["advanced"] == [{"round": round_id, "from": "open", "to": "review"}]
    assert tick(date(2026, 2, 6))["advanced"] == []
    moved = tick(date(2026, 2, 13))
    assert moved["advanced"] == [{"round": round_id, "from": "review", "to": "allocated"}]
    db.session.commit()
    assert db.session.scalar(select(AllocationLine.gross_cents).where(AllocationLine.round_id == round_id)) == 6_000
    later = tick(date(2026, 12, 31))["advanced"]  # money leaves only when a steward finalizes
    assert all(a["round"] != round_id for a in later) and all(a["to"] != "finalized" for a in later)
    assert db.session.get(Round, round_id).state == "allocated"
    assert db.session.scalar(select(func.count(SchedulerRun.id))) >= 2


def test_a_round_created_after_the_fact_catches_up_in_one_tick_and_the_cli_prints_it(client, world, runner):
    round_id = open_round(client, world, "2025-11-01", "2025-11-30", 1_000)["id"]
    result = runner.invoke(["rounds", "tick", "--date", "2025-12-31"])
    assert result.exit_code == 0, result.output
    assert f"round {round_id}: open → review" in result.output and f"round {round_id}: review → allocated" in result.output
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "allocated"
    again = runner.invoke(["rounds", "tick", "--date", "2025-12-31"])
    assert f"round {round_id}:" not in again.output


def test_monthly_cadence_opens_the_next_round_with_the_previous_envelope_capped_by_the_treasury(client, world):
    open_round(client, world, "2026-01-01", "2026-01-31", 150_000)
    summary = tick(date(2026, 2, 10))
    db.session.commit()
    assert [(c["period_start"], c["period_end"]) for c in summary["created"]] == [("2026-02-01", "2026-02-28")]
    february = db.session.get(Round, summary["created"][0]["round"])
    # 2000 € in the treasury, 1500 € promised to January: 500 € can still be promised
    assert february.envelope_cents == 50_000 and february.created_by_id is None
    assert tick(date(2026, 2, 11))["created"] == []


def test_a_commons_without_any_round_waits_for_its_steward(world):
    assert tick(date(2026, 2, 10))["created"] == []


def test_background_scheduler_starts_only_where_the_lock_is_won(make_app):
    app = make_app(LEDGER_SCHEDULER_INTERVAL_SECONDS=3600)
    first = start_background_scheduler(app)
    try:
        assert first is not None and first.get_job("rounds-tick") is not None
        assert start_background_scheduler(app) is None
    finally:
        first.shutdown(wait=True)
        first.lock.release()


def test_run_tick_commits_what_it_moved(app, client, world):
    round_id = open_round(client, world, "2025-01-01", "2025-01-31", 1_000)["id"]
    summary = run_tick(app, holder="test")
    assert {(a["round"], a["to"]) for a in summary["advanced"]} == {(round_id, "review"), (round_id, "allocated")}
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "allocated"
    assert db.session.scalar(select(SchedulerRun.holder).order_by(SchedulerRun.id.desc()).limit(1)) == "test"
