"""Declaring contributions through the HTTP API under concurrent load.

The service runs under gunicorn with 2 workers on 127.0.0.1 (a free port); a load generator
with 16 keep-alive connections sends declarations, each connection as its own contributor.
Baseline, same run, same database, same gunicorn settings: ``bench.bare_app``, a bare Flask
endpoint that inserts one row. Reported: throughput ratio and p50/p95/p99 latency.

Each endpoint runs under sync workers and under gthread workers with a few threads each, in the
same run (``LEDGER_BENCH_WORKER_CLASS=sync`` or ``gthread`` for only one): a thread waiting on the
database or the network lets another one work, and keep-alive connections are kept. Both
endpoints always run with the same settings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bench import bare_app, generate
from bench.common import Figure, app_config, fresh_database, make_app, say
from bench.loadgen import LoadResult, free_port, json_request, run_load, wait_until_up

NAME = "http"
CONNECTIONS = 16
WORKERS = 2
WORKER_CLASSES = tuple(os.environ.get("LEDGER_BENCH_WORKER_CLASS", "sync,gthread").split(","))
THREADS = 4  # per gthread worker


def serve(target: str, url: str, workdir: Path, worker_class: str, log: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn with the benchmark's settings, bound to loopback, writing its log to ``log``;
    returns the process and its port."""
    port = free_port()
    config = app_config(url, workdir)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEDGER_INSTANCE_DIR": config["INSTANCE_DIR"],
        "LEDGER_SECRET_KEY": "bench",
        "LEDGER_SIGNING_KEY_FILE": config["LEDGER_SIGNING_KEY_FILE"],
        "LEDGER_DATA_KEY_FILE": config["LEDGER_DATA_KEY_FILE"],
        "LEDGER_LOG_LEVEL": "WARNING",
    }
    threads = ["--threads", str(THREADS)] if worker_class == "gthread" else []
    # gunicorn logs to stderr: its log and what a failing worker prints land in the one file.
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(WORKERS),
                "-k",
                worker_class,
                *threads,
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--no-control-socket",  # gunicorn's default path, in $HOME, is shared by every run
                # info: workers booting, exiting or killed are in the log quoted when requests drop.
                "--log-level",
                "info",
                target,
            ],
            env=env,
            cwd=os.getcwd(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,  # the child keeps its own copy once this one is closed
        )
    try:
        wait_until_up(port)
    except TimeoutError:
        process.kill()
        process.wait()
        raise RuntimeError(tail(log)) from None
    return process, port


def tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def contributors(url: str, workdir: Path) -> tuple[list[str], str]:
    """One commons and one contributor (with an API token) per connection; the tokens and the slug."""
    from ledger.extensions import db
    from ledger.people.models import Person
    from ledger.people.service import create_token

    app = make_app(url, workdir)
    with app.app_context():
        with db.engine.begin() as connection:
            ids = generate.people(connection, CONNECTIONS)
            commons = generate.commons(connection, 1, ids[0], tag="velo")
            generate.memberships(connection, commons, ids, second_every=0)
        tokens = [create_token(db.session.get(Person, pid), "bench") for pid in ids]
        db.session.commit()
        db.engine.dispose()
    return tokens, f"velo{commons[0]}"


def load(port: int, tokens: list[str] | None, slug: str, requests: int, first_day: int = 1, close: bool = False) -> LoadResult:
    """``close``: a new connection per request, announced (sync workers close each one anyway;
    reusing a socket the worker is closing would count as a dropped request)."""
    from ledger.timeutil import today

    extra = {"Connection": "close"} if close else {}

    def request(connection: int, n: int):
        # 0.25 h a request, on a different past day every 80 requests: never the 24 h a day limit.
        payload = {
            "commons": slug,
            "date": (today() - timedelta(days=first_day + n // 80)).isoformat(),
            "hours": "0.25",
            "category": "care" if n % 4 == 0 else "production",
            "description": f"benchmark declaration {connection}-{n}",
        }
        if tokens is None:
            return json_request("POST", "/rows", payload, extra)
        return json_request("POST", "/api/v1/contributions", payload, {"Authorization": f"Bearer {tokens[connection]}", **extra})

    return run_load(port, request, connections=CONNECTIONS, requests_per_connection=requests)


def measure(
    target: str, url: str, workdir: Path, tokens: list[str] | None, slug: str, requests: int, worker_class: str
) -> LoadResult:
    log = workdir / f"gunicorn-{target.split(':')[0]}-{worker_class}.log"
    log.unlink(missing_ok=True)
    process, port = serve(target, url, workdir, worker_class, log)
    close = worker_class == "sync"
    try:
        load(port, tokens, slug, max(2, requests // 20), first_day=100, close=close)  # warm-up: caches, the workers' imports
        result = load(port, tokens, slug, requests, close=close)
    finally:
        exited = process.poll()
        stop(process)
    if result.errors:
        # A master halting refuses the rest of the load at once, often before it has exited.
        state = f"exited ({exited})" if exited is not None else "still running"
        result.first_error = f"{result.first_error}; gunicorn {state} at the end of the load, its log {log}:\n{tail(log)}"
    return result


def run(scale: generate.Scale, workdir: Path, engines: list[str]) -> list[Figure]:
    requests = {"tiny": 10, "small": 60, "full": 250}[scale_name(scale)]
    figures = []
    for engine in engines:
        for worker_class in WORKER_CLASSES:
            figures += run_one(engine, worker_class, requests, workdir)
    return figures


def run_one(engine: str, worker_class: str, requests: int, workdir: Path) -> list[Figure]:
    url = fresh_database(engine, "http", workdir)
    bare_app.create_table(url)
    tokens, slug = contributors(url, workdir)
    setting = f"-w {WORKERS} -k {worker_class}" + (f" --threads {THREADS}" if worker_class == "gthread" else "")
    say(f"[http/{engine}] {CONNECTIONS} connections x {requests} declarations, gunicorn {setting}")
    bare = measure("bench.bare_app:create_app()", url, workdir, None, slug, requests, worker_class)
    real = measure("ledger:create_app()", url, workdir, tokens, slug, requests, worker_class)
    for name, result in (("bare", bare), ("ledger", real)):
        if set(result.statuses) != {201} or result.errors:
            raise RuntimeError(
                f"{name} endpoint answered {result.statuses} with {result.errors} errors (first: {result.first_error or 'none'})"
            )
    ratio = real.throughput / bare.throughput
    where = f"{engine}, {worker_class}"
    figures = [
        Figure(
            f"POST /api/v1/contributions, {where}: throughput",
            real.throughput,
            "req/s",
            baseline=bare.throughput,
            baseline_label="bare Flask insert",
            target=">= 60% of baseline",
            met=ratio >= 0.6,
        ),
        Figure(
            f"  throughput ratio to the bare endpoint, {where}",
            ratio * 100,
            "%",
            baseline=100,
            baseline_label="bare",
            target=">= 60 %",
            met=ratio >= 0.6,
        ),
    ]
    for p in (50, 95, 99):
        value = real.percentile(p) * 1000
        figures.append(
            Figure(
                f"  latency p{p}, {where}",
                value,
                "ms",
                baseline=bare.percentile(p) * 1000,
                baseline_label=f"bare p{p}",
                target="< 50 ms" if p == 99 else "",
                met=(value < 50) if p == 99 else None,
            )
        )
    return figures


def scale_name(scale: generate.Scale) -> str:
    return next(name for name, known in generate.SCALES.items() if known == scale)
