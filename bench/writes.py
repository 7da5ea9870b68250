"""Ledger writes by 1, 2 and 4 processes, each writing to its own commons.

Each write is what a payment or an income is in the service: ``ledger.accounts.service.post``
then ``commit`` (which appends and signs a checkpoint). Baseline, same run: the same processes
each inserting one row into a table of their own and committing, with the same driver and
SQLAlchemy session — what the database allows when writers share nothing. The ratio at 4
writers shows whether ledger writes scale with writers (issue #17's target: >= 3x one writer).

The target is PostgreSQL's: SQLite has one writer at a time whatever the code does, its figures
show what that costs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from bench import generate
from bench.common import Figure, fresh_database, make_app, say

NAME = "writes"
PLAIN = Table(
    "bench_plain_writes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("writer", Integer),
    Column("n", Integer),
    Column("memo", String(20)),
)
WRITERS = (1, 2, 4)
WRITES = {"tiny": 40, "small": 300, "full": 1_500}  # per process


def prepare(url: str, workdir: Path, commons: int) -> list[int]:
    from ledger.extensions import db

    app = make_app(url, workdir)
    with app.app_context():
        with db.engine.begin() as connection:
            people = generate.people(connection, 4)
            ids = generate.commons(connection, commons, people[0])
            PLAIN.create(connection)
        db.engine.dispose()  # close the pooled connection now, not when the app is collected
    return ids


def writer(url: str, workdir: Path, kind: str, commons_id: int, writes: int, start_at: float) -> None:
    """One process: ``writes`` commits of one ledger entry (or one plain row), from ``start_at``."""
    from ledger.accounts import chart
    from ledger.accounts.service import Leg, post
    from ledger.commons.models import Commons
    from ledger.extensions import db

    app = make_app(url, workdir)
    with app.app_context():
        commons = db.session.get(Commons, commons_id)
        treasury, grant = chart.commons_treasury(commons), chart.commons_income(commons, "grant")
        db.session.commit()
        time.sleep(max(0.0, start_at - time.time()))
        for n in range(writes):
            if kind == "ledger":
                post(
                    "income",
                    [Leg(treasury, 100 + n), Leg(grant, -(100 + n))],
                    occurred_on=date(2026, 1, 1),
                    commons_id=commons_id,
                )
            else:
                db.session.execute(PLAIN.insert().values(writer=commons_id, n=n, memo="plain"))
            db.session.commit()


def measure(url: str, workdir: Path, kind: str, commons_ids: list[int], writes: int) -> float:
    """Writes per second by one process per commons in ``commons_ids``, all started together."""
    start_at = time.time() + 3.0  # every process has its app and connection before the clock starts
    args = [sys.executable, "-m", "bench.writes", url, str(workdir), kind]
    processes = [
        subprocess.Popen([*args, str(commons_id), str(writes), repr(start_at)], stderr=subprocess.PIPE, text=True)
        for commons_id in commons_ids
    ]
    for process in processes:
        _, errors = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"writer failed:\n{errors[-3000:]}")
    seconds = time.time() - start_at
    return len(commons_ids) * writes / seconds


def run(scale: generate.Scale, workdir: Path, engines: list[str]) -> list[Figure]:
    writes = next(n for name, n in WRITES.items() if generate.SCALES[name] == scale)
    figures = []
    for engine in engines:
        url = fresh_database(engine, "writes", workdir)
        commons_ids = prepare(url, workdir, max(WRITERS))
        single = None
        for count in WRITERS:
            ledger = measure(url, workdir, "ledger", commons_ids[:count], writes)
            plain = measure(url, workdir, "plain", commons_ids[:count], writes)
            single = single or ledger
            say(f"[writes/{engine}] {count} writers: ledger {ledger:,.0f}/s, plain {plain:,.0f}/s")
            held = engine == "postgresql" and count == max(WRITERS)
            figures.append(
                Figure(
                    f"ledger writes, {engine}, {count} process{'es' if count > 1 else ''}, own commons each",
                    ledger,
                    "writes/s",
                    baseline=plain,
                    baseline_label="plain insert + commit, same processes",
                    target=f"PostgreSQL: >= 3x one writer at {max(WRITERS)} writers" if count == max(WRITERS) else "",
                    met=ledger >= 3 * single if held else None,
                    notes=[f"{ledger / single:.2f}x one ledger writer"],
                )
            )
    return figures


if __name__ == "__main__":
    url_, workdir_, kind_, commons_, writes_, start_ = sys.argv[1:7]
    writer(url_, Path(workdir_), kind_, int(commons_), int(writes_), float(start_))
