"""Engine settings that differ between SQLite and PostgreSQL (the ledger's database guards are
created by migrations/versions/0001_initial_schema.py)."""

from __future__ import annotations

import warnings

from flask import Flask, has_request_context, request
from sqlalchemy import event, text

from ledger.extensions import db

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reading requests that nonetheless write (an export keeps its record, the fund's default rules
# are stored on first read, the chosen language is remembered): they lock up front like writers.
WRITING_READS = frozenset(
    {
        "auth.switch_language",
        "exports.SalaryLines",
        "exports.Fec",
        "exports.FecDescription",
        "exports.Sage",
        "payout_pages.cae_salary_lines",
        "fund.Fund",
    }
)


def takes_write_lock() -> bool:
    """Whether the transaction beginning now must hold SQLite's write lock from its start.

    Yes for every writing request and outside requests (CLI, scheduler, demo). A reading request
    begins DEFERRED, so that reads never queue behind writers nor block each other; it must not
    write, since in WAL mode a transaction that has read cannot safely take the write lock later
    (SQLITE_BUSY_SNAPSHOT as soon as another connection committed in between).
    """
    if not has_request_context():
        return True
    return request.method not in READING_METHODS or request.endpoint in WRITING_READS


# Every SQLite connection of the service runs these; bench/bare_app.py uses them too, so that the
# HTTP benchmark's baseline pays the same disk syncs as the service.
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA synchronous=NORMAL",
)


def configure_engine(app: Flask) -> None:
    """SQLite: foreign keys on, WAL, and transactions that take the write lock up front when they
    may write (IMMEDIATE), so that writers queue instead of failing, while reads run side by side."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A writing transaction takes the write lock up front: the ledger's chain head, a person's
        # hours of the day, an idempotency key are read then written, and a deferred SQLite
        # transaction could not upgrade its lock safely.
        immediate = takes_write_lock()
        connection.info["ledger_deferred"] = not immediate
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN DEFERRED")

    @event.listens_for(engine, "before_cursor_execute")
    def on_execute(connection, _cursor, _statement, _parameters, context, _executemany):
        # SQLite still refuses a stale write (nothing is lost), but the request fails when another
        # one committed meanwhile: say which reading endpoint writes, so that it joins WRITING_READS.
        if (
            connection.info.get("ledger_deferred")
            and context is not None
            and (context.isinsert or context.isupdate or context.isdelete)
        ):
            connection.info["ledger_deferred"] = False  # once per transaction
            where = f"{request.method} {request.endpoint}" if has_request_context() else "a reading request"
            warnings.warn(
                f"{where} writes in a DEFERRED SQLite transaction; list it in ledger.database.WRITING_READS",
                RuntimeWarning,
                stacklevel=2,
            )


def database_ready() -> tuple[bool, str]:
    """Whether the database answers and is migrated to the latest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from ledger.migrate import alembic_config

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_heads()
    except Exception as exc:  # noqa: BLE001 - any driver error means "not ready", with its reason
        return False, f"database unreachable: {exc.__class__.__name__}"
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if set(current) != set(heads):
        return False, f"database at {','.join(current) or 'no revision'}, expected {','.join(heads)}: run 'ledger init'"
    return True, "ok"
