"""The service's clock moves only in an application built for tests with LEDGER_TEST_CLOCK:
a production server (configured from the environment) always reads the real time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ledger import create_app
from ledger.config import load_config
from ledger.timeutil import CLOCK_EXTENSION, test_clock, today
from tests.rounds_support import World, fund_commons, open_round


def test_the_environment_cannot_turn_the_test_clock_on(monkeypatch, tmp_path, keys_dir, database_url):
    monkeypatch.setenv("LEDGER_TEST_CLOCK", "1")
    monkeypatch.setenv("LEDGER_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SECRET_KEY", "production-like")
    monkeypatch.setenv("LEDGER_LOG_JSON", "0")
    monkeypatch.setenv("LEDGER_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(keys_dir / "signing_key.pem"))
    assert "LEDGER_TEST_CLOCK" not in load_config()
    app = create_app()  # what `gunicorn 'ledger:create_app()'` and `ledger serve` build
    assert CLOCK_EXTENSION not in app.extensions
    with pytest.raises(RuntimeError, match="cannot be moved"):
        test_clock(app)
    with app.app_context():
        assert today() == date.today()


def test_the_test_clock_is_refused_outside_tests(make_app):
    with pytest.raises(RuntimeError, match="for tests only"):
        make_app(TESTING=False, LEDGER_TEST_CLOCK=True)


def test_no_route_or_command_moves_the_clock(make_app):
    from pathlib import Path

    from ledger.cli import cli

    app = make_app(LEDGER_TEST_CLOCK=True)
    assert [r.rule for r in app.url_map.iter_rules() if "clock" in r.rule or "clock" in r.endpoint] == []
    assert [name for name in cli.commands if "clock" in name] == []
    # Only the clock itself and the application factory (which installs it) name it.
    package = Path(__file__).resolve().parent.parent / "ledger"
    naming = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if any(word in path.read_text() for word in ("test_clock", "LEDGER_TEST_CLOCK", "CLOCK_EXTENSION", "TestClock"))
    )
    assert naming == ["__init__.py", "timeutil.py"]


def test_every_date_rule_reads_the_moved_clock(make_app, make_person, make_commons):
    app = make_app(LEDGER_TEST_CLOCK=True)
    client = app.test_client()
    with app.app_context():
        steward = make_person("Steward")
        make_commons(steward, "velo")
        world = World("velo", steward)
        fund_commons(world, 100_000)
        start = date.today() - timedelta(days=3)
        made = open_round(client, world, start.isoformat(), (start + timedelta(days=6)).isoformat(), 1_000)
        ends = date.fromisoformat(made["review_starts_on"])
        early = client.post(f"/api/v1/rounds/{made['id']}/advance", json={}, headers=steward.headers)
        assert early.status_code == 422 and "reason" in early.get_json()["error"]["fields"]
        test_clock(app).move_to(ends)
        assert today() == ends
        moved = client.post(f"/api/v1/rounds/{made['id']}/advance", json={}, headers=steward.headers)
        assert moved.status_code == 200 and moved.get_json()["state"] == "review"  # no reason needed now
        test_clock(app).reset()
        assert today() == date.today()
    assert today() == date.today()  # outside the application: the real time, always
