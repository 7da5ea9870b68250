"""The database going away: requests answer 503 with the error envelope, store nothing, and the
service recovers by itself once the database is back (no restart).

SQLite: the database file is moved away (a directory takes its place, so it cannot be reopened).
PostgreSQL: the database stops accepting connections and its sessions are terminated, as when
the server restarts.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.timeutil import today


@contextmanager
def database_down(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    if url.get_backend_name() == "sqlite":
        db.engine.dispose()
        path = Path(url.database)
        moved = [(p, p.with_name(p.name + ".away")) for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        for source, target in moved:
            source.rename(target)
        path.mkdir()
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()
            path.rmdir()
            for source, target in moved:
                target.rename(source)
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": name},
        )
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        db.session.remove()


def test_database_going_away_answers_503_stores_nothing_and_recovers(app, client, make_person, make_commons):
    ana = make_person("Ana")
    make_commons(ana, "velo")
    payload = {
        "commons": "velo",
        "date": (today() - timedelta(days=1)).isoformat(),
        "hours": "2",
        "category": "care",
        "description": "repairs",
    }
    assert client.get("/api/v1/commons/velo", headers=ana.headers).status_code == 200
    # Connections were pooled while the database was up: the outage must reach them too.
    with database_down(app):
        for _ in range(3):
            read = client.get("/api/v1/commons/velo", headers=ana.headers)
            assert read.status_code == 503
            assert read.get_json()["error"]["code"] == "unavailable"
            write = client.post("/api/v1/contributions", json=payload, headers=ana.headers)
            assert write.status_code == 503 and write.get_json()["error"]["code"] == "unavailable"
        page = client.get("/login")
        assert page.status_code in (200, 503)  # a page that needs no database may still render
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["status"] == "unavailable"
    # Back: the next requests succeed, and nothing from the outage was stored.
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/commons/velo", headers=ana.headers).get_json()["slug"] == "velo"
    assert db.session.scalar(select(func.count(Contribution.id))) == 0
    created = client.post("/api/v1/contributions", json=payload, headers=ana.headers)
    assert created.status_code == 201, created.get_json()
    assert db.session.scalar(select(func.count(Contribution.id))) == 1
    db.session.rollback()
