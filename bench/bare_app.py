"""The baseline for the HTTP benchmark: a bare Flask endpoint inserting one row into the same
database, served by the same gunicorn settings. Nothing else: no authentication, validation,
idempotency, round lookup or JSON schema — the floor the real endpoint is compared to."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, event, insert

from ledger.database import apply_sqlite_pragmas

metadata = MetaData()
rows = Table(
    "bench_bare_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", String(2000)),
    Column("created_at", DateTime(timezone=True)),
)


def _engine(url: str):
    engine = create_engine(url, pool_size=5)
    if engine.dialect.name == "sqlite":
        # The service's own pragmas (WAL, synchronous=NORMAL): a baseline syncing the disk on every
        # commit would flatter the service's ratio.
        event.listen(engine, "connect", lambda dbapi_connection, _record: apply_sqlite_pragmas(dbapi_connection))
    return engine


def create_table(url: str) -> None:
    """The baseline's table, created once before gunicorn starts: workers booting side by side
    and each creating it raced ("table already exists"), and gunicorn halts on a worker failing
    to boot, dropping the requests already queued."""
    engine = _engine(url)
    metadata.create_all(engine, checkfirst=True)
    engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = _engine(os.environ["DATABASE_URL"])
    app.extensions["bare_engine"] = engine

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.post("/rows")
    def add_row():
        with engine.begin() as connection:
            new_id = connection.execute(
                insert(rows).values(payload=request.get_data(as_text=True), created_at=datetime.now(UTC)).returning(rows.c.id)
            ).scalar()
        return jsonify({"id": new_id}), 201

    return app
