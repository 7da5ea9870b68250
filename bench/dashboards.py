"""Transparency pages on a ledger of many postings: p95 latency per page, and for the
installation's page the first request after each of a series of ledger writes (its cache
cannot help there: the monthly totals must).

Baseline, same run: `/healthz` through the same application (the floor of a request).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

from bench import generate
from bench.common import Figure, fresh_database, make_app, say
from bench.loadgen import LoadResult

NAME = "dashboards"
REQUESTS = 20


def timed(client, path: str, n: int) -> LoadResult:
    result = LoadResult()
    for _ in range(n):
        began = time.perf_counter()
        response = client.get(path)
        result.latencies.append(time.perf_counter() - began)
        result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
    return result


def after_writes(app, client, path: str, n: int) -> LoadResult:
    """``n`` times: one ledger write (a donation to the fund, through post_many), then ``path`` timed."""
    from ledger.accounts import chart
    from ledger.accounts.service import Entry, Leg, post_many
    from ledger.extensions import db

    result = LoadResult()
    for i in range(n):
        with app.app_context():
            legs = (Leg(chart.fund_treasury(), 100 + i), Leg(chart.fund_donations(), -(100 + i)))
            post_many([Entry("fund:donation", legs, date.today(), memo="bench write")])
            db.session.commit()
        began = time.perf_counter()
        response = client.get(path)
        result.latencies.append(time.perf_counter() - began)
        result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
    return result


def run(scale: generate.Scale, workdir: Path, engines: list[str]) -> list[Figure]:
    from ledger.accounts.signing import current_key
    from ledger.extensions import db

    figures = []
    for engine in engines:
        app = make_app(fresh_database(engine, "dashboards", workdir), workdir)
        transactions = max(1, scale.dashboard_postings * 10 // 38)  # about 3.8 postings per generated transaction
        with app.app_context():
            say(f"[dashboards/{engine}] generating about {scale.dashboard_postings:,} postings")
            with db.engine.begin() as connection:
                people = generate.people(connection, max(100, scale.people // 10))
                commons = generate.commons(connection, max(3, scale.commons // 10), people[0])
                pairs = generate.memberships(connection, commons, people)
                end = date.today() - timedelta(days=1)
                generate.contributions(connection, scale.contributions // 10, pairs, start=end - timedelta(days=360), days=360)
                generate.ledger(connection, transactions, commons, people[:2_000], current_key())
                postings = connection.exec_driver_sql("SELECT COUNT(*) FROM ledger_postings").scalar()
            generate.settle(db.engine)
            slug = f"c{commons[0]}"
        client = app.test_client()
        baseline = timed(client, "/healthz", REQUESTS)
        for path in ("/transparency", f"/transparency/{slug}", "/transparency/ledger", "after a write"):
            if path == "after a write":
                path, result = "/transparency (first request after a write)", after_writes(app, client, "/transparency", REQUESTS)
            else:
                client.get(path)  # warm the caches once, as a running service would be
                result = timed(client, path, REQUESTS)
            if set(result.statuses) != {200}:
                say(f"[dashboards/{engine}] {path} answered {result.statuses}: skipped")
                continue
            p95 = result.percentile(95) * 1000
            figures.append(
                Figure(
                    f"dashboard {path.replace(slug, '<slug>')}, {engine}, {postings:,} postings: p95",
                    p95,
                    "ms",
                    baseline=baseline.percentile(95) * 1000,
                    baseline_label="/healthz p95",
                    target="< 150 ms" if path.startswith("/transparency ") or path == "/transparency" else "< 300 ms",
                    met=p95 < (150 if path.startswith("/transparency ") or path == "/transparency" else 300),
                )
            )
        with app.app_context():
            db.engine.dispose()
    return figures
