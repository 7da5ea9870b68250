"""Finalization killed at random points leaves either the whole round or nothing.

A forked process finalizes an allocated round and is SIGKILLed after a random delay, 20 times
(a new round each time the previous one got through). After every kill the round is either
`allocated` with no ledger entry and no payout batch, or `finalized` with every entry and its
batch, and `ledger verify` passes. Runs on the suite's engine (SQLite, or PostgreSQL in the
PostgreSQL run).
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from ledger import create_app
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.verify import verify_ledger
from ledger.commons.models import Membership
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.payouts.models import PayoutBatch, PayoutLine
from ledger.people.service import create_person
from ledger.rounds.models import Round
from tests.rounds_support import World, advance, fund_commons, open_round

KILLS = 20
PEOPLE = 60


@pytest.fixture
def commons_of_many(app, client, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo")
    world = World("velo", steward)
    commons_id = world.commons.id
    ids = [create_person(f"kill{i}@example.org", f"Person {i}", None).id for i in range(PEOPLE)]
    db.session.execute(
        insert(Membership),
        [{"commons_id": commons_id, "person_id": pid, "role": "member", "payout_route": "invoice"} for pid in ids],
    )
    db.session.commit()
    fund_commons(world, 100_000_000)
    return world, ids


def allocated_round(client, world: World, people: list[int], month: int) -> int:
    """A monthly round of 2024 with one contribution per person, advanced to `allocated`."""
    start = date(2024 + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    end = date(start.year, start.month, 28)
    db.session.execute(
        insert(Contribution),
        [
            {
                "person_id": pid,
                "commons_id": world.commons.id,
                "date": start.replace(day=10),
                "hours": Decimal("2.5"),
                "category": "production",
                "description": "work",
                "status": "declared",
            }
            for pid in people
        ],
    )
    db.session.commit()
    created = open_round(client, world, start.isoformat(), end.isoformat(), 10_000_000)
    advance(client, world, created["id"], times=2)
    return created["id"]


def round_state(round_id: int) -> tuple[str, int, int]:
    """(state, ledger transactions of the round, payout lines of the round), read afresh."""
    db.session.rollback()
    state = db.session.scalar(select(Round.state).where(Round.id == round_id))
    transactions = db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_id))
    lines = db.session.scalar(select(func.count(PayoutLine.id)).join(PayoutBatch).where(PayoutBatch.round_id == round_id))
    db.session.rollback()  # let go of SQLite's lock before the next child starts
    return state, transactions, lines


def finalize_in_child(app, round_id: int, write) -> None:
    """In the forked process: a new application (own connections), then the steward's last step."""
    from ledger.rounds.lifecycle import advance as advance_round
    from ledger.rounds.service import get_round

    config = {
        key: app.config[key]
        for key in (
            "SQLALCHEMY_DATABASE_URI",
            "LEDGER_SIGNING_KEY_FILE",
            "LEDGER_DATA_KEY_FILE",
            "INSTANCE_DIR",
            "SECRET_KEY",
            "TESTING",
            "LEDGER_LOG_JSON",
            "LEDGER_LOG_LEVEL",
        )
    }
    child_app = create_app(config)
    with child_app.app_context():
        round_ = get_round(round_id)
        write(b"ready\n")
        began = time.perf_counter()
        advance_round(round_)
        db.session.commit()
        write(f"done {time.perf_counter() - began:.3f}\n".encode())


def run_child(app, round_id: int, kill_after: float | None) -> tuple[str, float | None]:
    """Finalize ``round_id`` in a forked process; SIGKILL it ``kill_after`` seconds after it is ready.

    A fork, not a new interpreter: the child needs no imports, so the 20 kills stay quick.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        status = 1
        try:
            os.close(read_end)
            finalize_in_child(app, round_id, lambda data: os.write(write_end, data))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        assert pipe.readline().strip() == "ready", "the child failed before finalizing"
        if kill_after is None:
            done = pipe.readline().split()
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0 and done[0] == "done"
            return "completed", float(done[1])
        time.sleep(kill_after)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    return ("killed" if os.waitstatus_to_exitcode(status) == -signal.SIGKILL else "completed"), None


def test_finalization_killed_at_random_points_leaves_all_or_nothing(app, client, commons_of_many):
    world, people = commons_of_many
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    month = 1
    # One uninterrupted finalization measures how long the window to kill in is.
    first = allocated_round(client, world, people, month)
    outcome, duration = run_child(app, first, None)
    assert round_state(first) == ("finalized", PEOPLE, PEOPLE)
    round_id, month = None, month + 1
    outcomes = []
    for _ in range(KILLS):
        if round_id is None:
            round_id = allocated_round(client, world, people, month)
            month += 1
        outcome, _ = run_child(app, round_id, rng.uniform(0, duration))
        state = round_state(round_id)
        assert state in (("allocated", 0, 0), ("finalized", PEOPLE, PEOPLE)), f"seed {seed}: half a round {state}"
        outcomes.append((outcome, state[0]))
        report = verify_ledger()
        db.session.rollback()
        assert report.ok, f"seed {seed}: {report.reason}"
        if state[0] == "finalized":
            round_id = None
    # The kills must really have landed mid-way, not only before or after the work.
    assert ("killed", "allocated") in outcomes, f"seed {seed}: {outcomes}"
    # A round left allocated by a kill can still be finalized in full.
    if round_id is not None:
        run_child(app, round_id, None)
        assert round_state(round_id) == ("finalized", PEOPLE, PEOPLE)
