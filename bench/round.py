"""Allocating and finalizing one round: time and peak memory, on each engine, at half and full size.

Each measurement runs in its own process (``python -m bench.round DATABASE_URL WORKDIR``) so that
its peak memory is its own. The baseline, same run, is the same round at half the data: time
should grow no faster than linearly (full / half at most 2.2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from bench import generate
from bench.common import Figure, fresh_database, make_app, peak_rss_mb, say, stopwatch

NAME = "round"
PERIOD = (date(2025, 3, 1), date(2025, 3, 31))


def prepare(url: str, workdir: Path, people: int, contributions: int) -> None:
    """One commons with ``people`` members, ``contributions`` in the period, and money to pay them."""
    from ledger.commons.models import Commons
    from ledger.commons.service import record_income
    from ledger.extensions import db
    from ledger.people.models import Person

    app = make_app(url, workdir)
    with app.app_context():
        with db.engine.begin() as connection:
            ids = generate.people(connection, people)
            commons = generate.commons(connection, 1, ids[0])
            pairs = generate.memberships(connection, commons, ids, second_every=0)
            generate.contributions(connection, contributions, pairs, start=PERIOD[0], days=28)
        generate.settle(db.engine)
        record_income(
            db.session.get(Commons, commons[0]),
            amount_cents=people * 100_000,
            source="grant",
            funder="Région",
            received_on=date(2025, 2, 1),
            earmark=None,
            recorded_by=db.session.get(Person, ids[0]),
        )
        db.session.commit()
        db.engine.dispose()


def measure(url: str, workdir: Path) -> dict:
    """In this process: open the round, allocate it, finalize it; seconds and peak memory."""
    from sqlalchemy import func, select

    from ledger.accounts.models import LedgerTransaction
    from ledger.commons.models import Commons
    from ledger.extensions import db
    from ledger.rounds.lifecycle import finalize, step
    from ledger.rounds.service import create_round

    app = make_app(url, workdir)
    with app.app_context():
        commons = db.session.scalar(select(Commons))
        before_mb = peak_rss_mb()
        with stopwatch() as opened:
            round_ = create_round(
                commons, period_start=PERIOD[0], period_end=PERIOD[1], envelope_cents=commons_envelope(commons), created_by=None
            )
            step(round_, "open")
            db.session.commit()
        with stopwatch() as allocated:
            step(round_, "review")
            db.session.commit()
        with stopwatch() as finalized:
            finalize(round_)
            db.session.commit()
        entries = db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_.id))
        return {
            "open_s": opened.seconds,
            "allocate_s": allocated.seconds,
            "finalize_s": finalized.seconds,
            "total_s": allocated.seconds + finalized.seconds,
            "peak_mb": peak_rss_mb(),
            "start_mb": before_mb,
            "lines": len(round_.lines),
            "entries": entries,
        }


def commons_envelope(commons) -> int:
    from ledger.rounds.service import free_treasury_cents

    return free_treasury_cents(commons) // 2


def run(scale: generate.Scale, workdir: Path, engines: list[str]) -> list[Figure]:
    figures = []
    for engine in engines:
        results = {}
        for label, factor in (("half", 2), ("full", 1)):
            people, contributions = scale.round_people // factor, scale.round_contributions // factor
            url = fresh_database(engine, f"round_{label}", workdir)
            say(f"[round/{engine}] {people:,} people, {contributions:,} contributions")
            prepare(url, workdir, people, contributions)
            done = subprocess.run(
                [sys.executable, "-m", "bench.round", url, str(workdir)], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise RuntimeError(f"round benchmark failed:\n{done.stderr[-3000:]}")
            results[label] = json.loads(done.stdout.strip().splitlines()[-1])
            say(f"[round/{engine}] {label}: {results[label]}")
        full, half = results["full"], results["half"]
        ratio = full["total_s"] / half["total_s"] if half["total_s"] else float("nan")
        size = f"{scale.round_people:,} people / {scale.round_contributions:,} contributions"
        figures += [
            Figure(
                f"round allocate + finalize, {engine}, {size}",
                full["total_s"],
                "s",
                baseline=half["total_s"],
                baseline_label="same at half the data",
                target="< 3 s",
                met=full["total_s"] < 3,
            ),
            Figure(
                f"  of which allocate (compute the preview), {engine}",
                full["allocate_s"],
                "s",
                baseline=half["allocate_s"],
                baseline_label="half the data",
            ),
            Figure(
                f"  of which finalize ({full['entries']:,} ledger entries), {engine}",
                full["finalize_s"],
                "s",
                baseline=half["finalize_s"],
                baseline_label="half the data",
            ),
            Figure(
                f"round peak memory, {engine}",
                full["peak_mb"],
                "MB",
                baseline=full["start_mb"],
                baseline_label="the process before the round",
                target="< 500 MB",
                met=full["peak_mb"] < 500,
            ),
            Figure(
                f"round time growth full / half, {engine}",
                ratio,
                "x",
                baseline=2.0,
                baseline_label="linear",
                target="<= 2.2",
                met=ratio <= 2.2,
            ),
        ]
    return figures


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], Path(sys.argv[2]))))
