"""Engine settings that differ between SQLite and PostgreSQL, and the ledger's database guards."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event, text

from ledger.extensions import db

# Database-level guards for the ledger. On PostgreSQL a deferred constraint trigger refuses, at
# commit, any transaction whose postings do not sum to zero; on both engines UPDATE and DELETE of
# ledger rows are refused, so that even a bug (or a hurried operator) cannot rewrite history.
POSTGRES_GUARDS = [
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_check_balance() RETURNS trigger AS $$
    DECLARE total bigint; n integer;
    BEGIN
        SELECT COALESCE(SUM(amount_cents), 0), COUNT(*) INTO total, n
          FROM ledger_postings WHERE transaction_id = NEW.transaction_id;
        IF total <> 0 OR n < 2 THEN
            RAISE EXCEPTION 'ledger transaction % does not balance (sum %, % postings)', NEW.transaction_id, total, n;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
    "CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
    "CREATE CONSTRAINT TRIGGER ledger_postings_balance AFTER INSERT ON ledger_postings "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balance()",
]

SQLITE_GUARDS = [
    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {op} on {table} refused'); END"
    for table in ("ledger_postings", "ledger_transactions")
    for op in ("UPDATE", "DELETE")
]


def guards_for(dialect: str) -> list[str]:
    return POSTGRES_GUARDS if dialect == "postgresql" else SQLITE_GUARDS


def configure_engine(app: Flask) -> None:
    """SQLite: foreign keys on, WAL, and IMMEDIATE transactions so writers queue instead of failing."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Every transaction takes the write lock up front: the ledger's chain head is read then
        # written, and a deferred SQLite transaction could not upgrade its lock safely.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def database_ready() -> tuple[bool, str]:
    """Whether the database answers and is migrated to the latest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from ledger.migrate import alembic_config

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_heads()
    except Exception as exc:  # any driver error means "not ready", with its reason
        return False, f"database unreachable: {exc.__class__.__name__}"
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if set(current) != set(heads):
        return False, f"database at {','.join(current) or 'no revision'}, expected {','.join(heads)}: run 'ledger init'"
    return True, "ok"
