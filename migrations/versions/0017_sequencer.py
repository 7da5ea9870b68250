"""sequencer: format-3 transactions get their place in the ledger after their commit

Revision ID: 0017_sequencer
Revises: 0016_speed
Create Date: 2026-12-03 14:15:00

A writer now inserts a transaction with its content hash and no ``seq``, ``prev_hash`` nor
``hash``; the sequencer gives it those three once (ledger.accounts.sequencer). On PostgreSQL the
append-only trigger lets exactly that one change through. On SQLite the writer holds the
database's write lock anyway and sequences in its own transaction: no row is ever updated, and
the columns only become nullable (a table copy: the triggers the copy drops are created again).
Existing transactions keep their seq, hashes and signatures: nothing is rehashed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_sequencer"
down_revision = "0016_speed"
branch_labels = None
depends_on = None

PLACE = {"seq": sa.Integer(), "prev_hash": sa.String(length=64), "hash": sa.String(length=64)}

SEQUENCE_ONCE = """
CREATE OR REPLACE FUNCTION ledger_sequence_once() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash' = to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$ LANGUAGE plpgsql
"""


def _sqlite_guards(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {verb} on {table} refused'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def _place_nullable(nullable: bool, batch_op=None) -> None:
    """The place's three columns made nullable or not (through ``batch_op`` on SQLite)."""
    for column, type_ in PLACE.items():
        if batch_op is None:
            op.alter_column("ledger_transactions", column, existing_type=type_, nullable=nullable)
        else:
            batch_op.alter_column(column, existing_type=type_, nullable=nullable)


def _append_only_trigger(function: str) -> None:
    """PostgreSQL: the transactions' append-only trigger, now calling ``function``."""
    op.execute("DROP TRIGGER ledger_transactions_append_only ON ledger_transactions")
    op.execute(
        "CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("ledger_transactions", sa.Column("content_hash", sa.String(length=64), nullable=True))
        _place_nullable(True)
        op.execute(SEQUENCE_ONCE)
        _append_only_trigger("ledger_sequence_once")
        return
    with op.batch_alter_table("ledger_transactions", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        _place_nullable(True, batch_op)
    for statement in _sqlite_guards("ledger_transactions"):
        op.execute(statement)


def downgrade() -> None:
    # Format-3 rows stay as they are (an older version's verify would not know them); every one
    # must have its place first: the NOT NULL below refuses a transaction still waiting for it.
    if op.get_bind().dialect.name == "postgresql":
        _append_only_trigger("ledger_refuse_change")
        op.execute("DROP FUNCTION ledger_sequence_once()")
        _place_nullable(False)
        op.drop_column("ledger_transactions", "content_hash")
        return
    with op.batch_alter_table("ledger_transactions", recreate="always") as batch_op:
        batch_op.drop_column("content_hash")
        _place_nullable(False, batch_op)
    for statement in _sqlite_guards("ledger_transactions"):
        op.execute(statement)
