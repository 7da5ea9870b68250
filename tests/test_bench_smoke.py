"""Every benchmark runs at a tiny scale and produces its figures, so that none can rot.

No timing is asserted here: the figures are for docs/performance.md, not for the suite.
"""

from __future__ import annotations

import json
import os

import pytest

from bench import run as bench_run
from tests.conftest import ENGINE, worker_id


@pytest.mark.parametrize("name", sorted(bench_run.BENCHMARKS))
def test_benchmark_runs_at_tiny_scale_and_prints_its_figures(name, tmp_path, capsys, monkeypatch, request):
    monkeypatch.setenv("LEDGER_BENCH_DB_TAG", f"smoke_{os.environ.get('LEDGER_TEST_DB_TAG', '')}{worker_id(request)}_")
    # On the suite's engine: SQLite in the SQLite run, PostgreSQL in the PostgreSQL run.
    engine = "postgresql" if ENGINE == "postgresql" else "sqlite"
    assert bench_run.main(["--scale", "tiny", "--only", name, "--engines", engine, "--workdir", str(tmp_path / "bench")]) == 0
    printed = capsys.readouterr().out
    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    figures = results["figures"]
    assert figures and results["command"].startswith("python -m bench.run --scale tiny")
    for figure in figures:
        assert figure["name"] in printed
        assert figure["value"] == figure["value"] and figure["value"] >= 0  # a number, not NaN
    assert any(figure["baseline"] is not None for figure in figures), "every benchmark compares with a baseline"
    assert any(figure["target"] for figure in figures), "every benchmark is held to a target"


def test_http_baseline_runs_sqlite_with_the_service_pragmas(tmp_path, monkeypatch):
    """The bare baseline must sync the disk as the service does (WAL, synchronous=NORMAL), or every
    published ratio compares against a slower floor than the service really has."""
    from sqlalchemy import text

    from bench.bare_app import create_app as create_bare_app
    from bench.bare_app import create_table

    url = f"sqlite:///{tmp_path / 'bare.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    create_table(url)
    app = create_bare_app()
    assert app.test_client().post("/rows", data="x").status_code == 201
    with app.extensions["bare_engine"].connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL, as the service
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_http_baseline_workers_boot_without_writing_and_the_table_is_made_once_beforehand(tmp_path, monkeypatch):
    """gunicorn halts when a worker fails to boot. The baseline's workers once each created its table
    at boot; booting together on a loaded machine, one failed ("table already exists") and the rest
    of the load was refused (seen in CI). Booting now writes nothing; ``create_table`` runs once first."""
    from sqlalchemy import inspect

    from bench.bare_app import create_app as create_bare_app
    from bench.bare_app import create_table

    url = f"sqlite:///{tmp_path / 'bare.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = create_bare_app().extensions["bare_engine"]
    assert not inspect(engine).has_table("bench_bare_rows")
    create_table(url)
    assert inspect(engine).has_table("bench_bare_rows")
    engine.dispose()
