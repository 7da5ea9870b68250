"""Engine settings that differ between SQLite and PostgreSQL (the ledger's database guards are
created by migrations/versions/0001_initial_schema.py)."""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

from flask import Flask, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from ledger.extensions import db


def advisory_lock(*name: object) -> None:
    """Hold, until the transaction ends, the PostgreSQL advisory lock named by ``name``
    (``"hours", person_id, day``): concurrent transactions asking for the same name queue.

    For a rule that reads rows then writes one (a sum, an absence) and has no row of its own to
    lock. SQLite needs nothing: a writing transaction holds the database's write lock from BEGIN.
    Two names hashing alike only make one wait for the other, which is harmless.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": ":".join(map(str, name))})


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
        "manage_pages.fec_page",
        "fund.Fund",
        "fund_pages.manage",  # creates the default fund rules on first view, as the API does
    }
)


# Writing requests that read first and take the write lock only for their short write
# (``write_phase``): a declaration checks its token, body, commons and rules while other workers
# write. Not with an Idempotency-Key: the replay record must commit with what it replays.
READ_FIRST_WRITES = frozenset({("POST", "contributions.Contributions")})
WRITE_PHASE = "ledger.write_phase"  # in the request's environ: g outlives a request in tests


def _reads_first() -> bool:
    return (
        (request.method, request.endpoint) in READ_FIRST_WRITES
        and "Idempotency-Key" not in request.headers
        and request.environ.get(WRITE_PHASE) != "writing"
    )


def write_phase() -> None:
    """From here to ``end_write_phase`` the request writes: on SQLite, end the reading
    transaction (objects stay loaded) so that the next statement begins IMMEDIATE, holding the
    write lock only for what follows. Re-read there whatever the write depends on (the day's
    hours). Elsewhere, and for requests that began writing, nothing to do."""
    if not has_request_context() or db.session.get_bind().dialect.name != "sqlite" or not _reads_first():
        return
    _commit_keeping_objects()
    request.environ[WRITE_PHASE] = "writing"


def end_write_phase() -> None:
    """Commit the write ``write_phase`` began, at once: the write lock is released before the
    response is built (its objects stay loaded; later reads begin DEFERRED)."""
    if request.environ.get(WRITE_PHASE) != "writing":
        return
    _commit_keeping_objects()
    request.environ[WRITE_PHASE] = "done"


def _commit_keeping_objects() -> None:
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        db.session.commit()  # through the scoped session, like every other commit (and its fault tests)
    finally:
        session.expire_on_commit = expire


def takes_write_lock() -> bool:
    """Whether the transaction beginning now must hold SQLite's write lock from its start.

    Yes for every writing request and outside requests (CLI, scheduler, demo). A reading request
    begins DEFERRED, so that reads never queue behind writers nor block each other; it must not
    write, since in WAL mode a transaction that has read cannot safely take the write lock later
    (SQLITE_BUSY_SNAPSHOT as soon as another connection committed in between).
    """
    if not has_request_context():
        return True
    if request.environ.get(WRITE_PHASE) == "writing":
        return True
    if _reads_first() or request.environ.get(WRITE_PHASE) == "done":
        return False
    return request.method not in READING_METHODS or request.endpoint in WRITING_READS


# Every SQLite connection of the service runs these; bench/bare_app.py uses them too, so that the
# HTTP benchmark's baseline pays the same disk syncs as the service.
SQLITE_PRAGMAS = (
    # The busy timeout first: switching a new file to WAL takes a lock another process may hold.
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
)


def create_private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600, like the keys), before
    SQLite would create it with the umask's 0644; its WAL and shared-memory files take its mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    if parsed.query.get("uri") or parsed.database.startswith("file:"):
        return  # a SQLite URI ("file:…?mode=ro"): SQLite opens what it names, as it says
    path = Path(parsed.database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process created it meanwhile
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def apply_sqlite_pragmas(dbapi_connection) -> None:
    """Run ``SQLITE_PRAGMAS`` on a new driver connection."""
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def configure_engine(app: Flask) -> None:
    """SQLite: foreign keys on, WAL, and transactions that take the write lock up front when they
    may write (IMMEDIATE), so that writers queue instead of failing, while reads run side by side."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    create_private_sqlite_file(engine.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        apply_sqlite_pragmas(dbapi_connection)

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
    try:
        with db.engine.connect() as connection:
            # Its first statement, so a DEFERRED SQLite transaction takes the write lock safely
            # (nothing read before it): no need to queue /readyz behind writers up front.
            connection.info["ledger_deferred"] = False
            # A write that changes nothing, rolled back: a database that answers reads but refuses
            # writes (read-only file or mount, standby server, full disk) cannot take traffic.
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            connection.rollback()
    except Exception as exc:  # noqa: BLE001 - the same: any refusal means "not ready"
        return False, f"database refuses writes: {exc.__class__.__name__}"
    return True, "ok"
