"""On SQLite, reading requests do not take the write lock: they run beside a writer instead of
queueing behind it, while writing requests still take it up front (ledger/database.py)."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from ledger.extensions import db
from ledger.people.models import Person
from ledger.timeutil import today

# SQLite's locking only: deselected in a PostgreSQL run (tests/conftest.py), never skipped.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture(autouse=True)
def on_sqlite(app):
    assert db.engine.dialect.name == "sqlite", "a sqlite_only test ran on another engine"


@contextmanager
def begins():
    """The BEGIN statements sent meanwhile."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args):
        if statement.upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def velo(make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo")
    db.session.remove()
    return steward


def declaration() -> dict:
    return {
        "commons": "velo",
        "date": (today() - timedelta(days=1)).isoformat(),
        "hours": "2",
        "category": "care",
        "description": "Fixed the brakes",
    }


def test_reading_requests_begin_deferred_and_writing_ones_immediate(client, velo):
    with begins() as seen:
        assert client.get("/api/v1/contributions", headers=velo.headers).status_code == 200
    assert seen == ["BEGIN DEFERRED"]
    with begins() as seen:  # a declaration reads first, then writes under a short lock
        assert client.post("/api/v1/contributions", json=declaration(), headers=velo.headers).status_code == 201
    assert seen == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]
    with begins() as seen:  # with a replay record to store beside it, the lock is taken up front
        keyed = client.post("/api/v1/contributions", json=declaration(), headers={**velo.headers, "Idempotency-Key": "k1"})
        assert keyed.status_code == 201
    assert seen == ["BEGIN IMMEDIATE"]
    with begins() as seen:  # other writes lock up front
        assert client.post("/api/v1/commons/velo/categories", json={}, headers=velo.headers).status_code == 422
    assert seen == ["BEGIN IMMEDIATE"]
    with begins() as seen:  # a reading endpoint known to write (the fund's default rules) locks up front
        assert client.get("/api/v1/solidarity-fund").status_code == 200
    assert seen == ["BEGIN IMMEDIATE"]


def test_a_read_answers_while_another_connection_holds_the_write_lock(app, client, velo):
    assert client.post("/api/v1/contributions", json=declaration(), headers=velo.headers).status_code == 201
    db.session.remove()
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        # With the lock taken up front, this read would wait for the writer (busy timeout: 30 s).
        listed = client.get("/api/v1/contributions", headers=velo.headers)
        assert listed.status_code == 200 and [c["description"] for c in listed.get_json()] == ["Fixed the brakes"]
    finally:
        writer.rollback()
        writer.close()


def test_a_reading_endpoint_that_writes_without_being_listed_is_named(app, client, make_person):
    someone = make_person("Someone")
    db.session.remove()

    def remember_locale():
        db.session.get(Person, someone.id).locale = "en"
        db.session.flush()
        return "ok"

    app.add_url_rule("/test/remember-locale", "remember_locale", remember_locale)
    with pytest.warns(RuntimeWarning, match="GET remember_locale writes in a DEFERRED SQLite transaction"):
        assert client.get("/test/remember-locale").status_code == 200
    db.session.remove()
    assert db.session.get(Person, someone.id).locale == "en"  # named, not refused: SQLite still guards it
