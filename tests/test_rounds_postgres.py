"""What only a real PostgreSQL shows: racing finalizations, racing schedulers, the advisory lock."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.service import balance
from ledger.accounts.verify import verify_ledger
from ledger.extensions import db
from ledger.rounds.models import AllocationLine, Round, SchedulerRun
from ledger.rounds.scheduler import SchedulerLock, run_tick
from ledger.timeutil import today
from tests.rounds_support import World, advance, declare, fund_commons, open_round
from tests.test_fund_drain import MONTH, fund  # noqa: F401  (fund: a fixture)

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_app):
    """The suite's ``app``, replaced here by one on PostgreSQL (make_person and client follow it)."""
    return pg_app


@pytest.fixture
def pg_world(pg_app, make_person, make_commons):
    assert db.engine.dialect.name == "postgresql"
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", members={"member": ana, "member2": bob})
    w = World("velo", steward, {"ana": ana, "bob": bob})
    fund_commons(w, 300_000)
    declare(w, ana, "10", date(2026, 1, 5))
    declare(w, bob, "6.5", date(2026, 1, 9), category="care")
    return w


def race(n: int, target) -> list:
    """Run ``target(i)`` in n threads released together; returns their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        results[i] = target(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_racing_finalizations_write_one_set_of_entries(pg_app, pg_world):
    client = pg_app.test_client()
    round_id = open_round(client, pg_world, "2026-01-01", "2026-01-31", 100_000)["id"]
    advance(client, pg_world, round_id, times=2)
    db.session.remove()

    def finalize(_):
        response = pg_app.test_client().post(f"/api/v1/rounds/{round_id}/advance", headers=pg_world.steward.headers)
        return response.status_code

    statuses = sorted(race(4, finalize))
    assert statuses == [200, 409, 409, 409]
    refs = db.session.scalars(select(LedgerTransaction.ref).where(LedgerTransaction.round_id == round_id)).all()
    assert sorted(refs) == sorted(f"round:{round_id}:retribution:{p.id}" for p in pg_world.people.values())
    assert db.session.get(Round, round_id).state == "finalized"
    assert verify_ledger().ok


def test_two_schedulers_started_at_once_only_one_holds_the_advisory_lock(pg_app):
    locks = [SchedulerLock(pg_app) for _ in range(3)]
    won = race(3, lambda i: locks[i].acquire())
    try:
        assert sorted(won) == [False, False, True]
    finally:
        for lock in locks:
            lock.release()
    again = SchedulerLock(pg_app)
    assert again.acquire() is True  # released with its holder
    again.release()


def test_racing_ticks_perform_each_transition_once(pg_app, pg_world):
    client = pg_app.test_client()
    ids = [open_round(client, pg_world, f"2025-{m:02d}-01", f"2025-{m:02d}-28", 1_000)["id"] for m in (1, 2, 3)]
    db.session.remove()
    summaries = race(3, lambda i: run_tick(pg_app, holder=f"scheduler-{i}"))
    moves = [(a["round"], a["to"]) for s in summaries for a in s["advanced"]]
    assert sorted(moves) == sorted((r, to) for r in ids for to in ("review", "allocated"))
    created = [c["period_start"] for s in summaries for c in s["created"]]
    assert len(created) == len(set(created)) <= 1
    assert {db.session.get(Round, r).state for r in ids} == {"allocated"}
    assert db.session.scalar(select(func.count(AllocationLine.id)).where(AllocationLine.round_id == ids[0])) == 0
    assert db.session.scalar(select(func.count(SchedulerRun.id))) >= 1


def test_two_commons_finalizing_at_once_never_pass_a_persons_monthly_cap_together(pg_app, fund, make_person, make_commons):
    """The fund's lock (``fund.service.lock_fund``): without the ledger's lock, finalizations of
    different commons run at once, and each must still see the other's top-ups."""
    ana = make_person("Ana")
    stewards = {slug: make_person(f"Steward {slug}") for slug in ("velo", "atelier")}
    round_ids = {}
    for slug, steward in stewards.items():
        make_commons(steward, slug, members={"contributor": ana}, started_on=MONTH[0].isoformat())
        client = pg_app.test_client()
        created = client.post(
            f"/api/v1/commons/{slug}/rounds",
            json={"period_start": MONTH[0].isoformat(), "period_end": MONTH[1].isoformat(), "envelope_cents": 0},
            headers=steward.headers,
        )
        round_ids[slug] = created.get_json()["id"]
        declared = client.post(
            "/api/v1/contributions",
            json={"commons": slug, "date": today().isoformat(), "hours": "10", "category": "care", "description": "Permanence"},
            headers=ana.headers,
        )
        assert created.status_code == 201 and declared.status_code == 201, declared.get_json()
        for _ in range(2):
            moved = client.post(f"/api/v1/rounds/{round_ids[slug]}/advance", json={"reason": "test"}, headers=steward.headers)
            assert moved.status_code == 200, moved.get_json()
    db.session.remove()
    slugs = list(stewards)

    def finalize(i):
        slug = slugs[i]
        response = pg_app.test_client().post(
            f"/api/v1/rounds/{round_ids[slug]}/advance", json={"reason": "test"}, headers=stewards[slug].headers
        )
        return response.status_code

    assert race(2, finalize) == [200, 200]
    # 10 h at €15 with a 0 envelope in each: €75 of top-up alone, but €80 a month at most in all.
    topups = db.session.scalars(select(AllocationLine.topup_cents).where(AllocationLine.round_id.in_(round_ids.values()))).all()
    assert sorted(topups) == [500, 7_500]
    assert balance(chart.fund_payable(ana.id).code) == -8_000
    assert verify_ledger().ok
