"""`ledger verify` on a generated ledger: transactions checked per second.

Baseline, same run: reading the very rows verify reads (the transactions in chain order and the
postings in id order, two streams of plain tuples fetched in batches) and checking nothing — the
floor any verification pays.
The generated ledger has one signed checkpoint per 5,000 transactions, as if each were a commit.
"""

from __future__ import annotations

from pathlib import Path

from bench import generate
from bench.common import Figure, fresh_database, make_app, say, stopwatch

NAME = "verify"


def run(scale: generate.Scale, workdir: Path, engines: list[str]) -> list[Figure]:
    from ledger.accounts.signing import current_key
    from ledger.accounts.verify import batched, stream_postings, stream_transactions, verify_ledger
    from ledger.extensions import db

    figures = []
    for engine in engines:
        app = make_app(fresh_database(engine, "verify", workdir), workdir)
        with app.app_context():
            say(f"[verify/{engine}] generating {scale.transactions:,} transactions")
            with db.engine.begin() as connection:
                people = generate.people(connection, 200)
                commons = generate.commons(connection, 10, people[0])
                generate.ledger(connection, scale.transactions, commons, people, current_key())
            generate.settle(db.engine)
            with stopwatch() as read:
                for rows in (stream_transactions(), stream_postings()):
                    for _ in batched(rows):
                        pass
                    rows.close()
            db.session.rollback()
            with stopwatch() as checked:
                report = verify_ledger()
            db.session.rollback()
            assert report.ok and report.checked == scale.transactions, report.as_dict()
            rate = report.checked / checked.seconds
            figures.append(
                Figure(
                    f"verify, {engine}: transactions per second",
                    rate,
                    "tx/s",
                    baseline=report.checked / read.seconds,
                    baseline_label="reading the same rows, no checks",
                    target=">= 30,000 tx/s",
                    met=rate >= 30_000,
                )
            )
            figures.append(
                Figure(
                    f"verify, {engine}: seconds for {report.checked:,} transactions",
                    checked.seconds,
                    "s",
                    baseline=read.seconds,
                    baseline_label="reading the same rows",
                )
            )
            db.engine.dispose()
    return figures
