"""What every benchmark needs: a fresh database on either engine, an application on it, a clock,
peak memory, and one way to print a figure next to its baseline."""

from __future__ import annotations

import os
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:55433/postgres"


def postgres_base_url() -> str | None:
    """LEDGER_BENCH_POSTGRES_URL, else the test suite's server, else the dev server's — if it answers."""
    url = os.environ.get("LEDGER_BENCH_POSTGRES_URL") or os.environ.get("LEDGER_TEST_POSTGRES_URL") or DEFAULT_PG
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL figures are skipped, and say so
        return None
    return url


def fresh_database(engine_name: str, name: str, workdir: Path) -> str:
    """An empty, migrated database dedicated to one benchmark; returns its URL."""
    from ledger.migrate import upgrade

    if engine_name == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        base = postgres_base_url()
        if base is None:
            raise RuntimeError("no PostgreSQL server (set LEDGER_BENCH_POSTGRES_URL)")
        # LEDGER_BENCH_DB_TAG keeps concurrent runs (the suite's smoke test, a full run) apart.
        database = f"ledger_bench_{os.environ.get('LEDGER_BENCH_DB_TAG', '')}{name}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        url = make_url(base).set(database=database).render_as_string(hide_password=False)
    upgrade(url)
    return url


def app_config(url: str, workdir: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": str(workdir / "instance"),
        "SECRET_KEY": "bench",
        "LEDGER_SIGNING_KEY_FILE": str(workdir / "signing_key.pem"),
        "LEDGER_DATA_KEY_FILE": str(workdir / "data_keys"),
        "LEDGER_LOG_JSON": False,
        "LEDGER_LOG_LEVEL": "WARNING",
    }


def make_app(url: str, workdir: Path):
    from ledger import create_app

    return create_app(app_config(url, workdir))


@contextmanager
def stopwatch():
    """``with stopwatch() as t: ...`` then ``t.seconds``."""
    timer = Timer()
    began = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - began


@dataclass
class Timer:
    seconds: float = 0.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    VmHWM from /proc where there is one: getrusage's ru_maxrss survives exec, so a child started
    by a big parent would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Figure:
    """One measured figure, its baseline from the same run, and the target it is held to."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        base = f"  | baseline {self.baseline:,.3f} {self.unit} ({self.baseline_label})" if self.baseline is not None else ""
        verdict = "" if self.met is None else ("  | target met" if self.met else "  | TARGET MISSED")
        target = f"  | target {self.target}" if self.target else ""
        return f"{self.name:<52} {self.value:>12,.3f} {self.unit}{base}{target}{verdict}"


def say(message: str) -> None:
    """Progress and explanations go to stderr; figures to stdout."""
    print(message, file=sys.stderr, flush=True)
