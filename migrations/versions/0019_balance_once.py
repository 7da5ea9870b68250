"""balance once: PostgreSQL checks a transaction's balance once, not once per posting

Revision ID: 0019_balance_once
Revises: 0018_review_revision
Create Date: 2026-12-04 22:40:00

The deferred constraint trigger on ledger_postings fires at commit for every posting, and each
firing summed the whole transaction again: a round's 10,000 transactions of five legs were
summed 50,000 times (0.27 s of its commit). The check now remembers, in a transaction-local
setting, the transaction it has just found balanced, and the next firing for the same
transaction returns at once. A statement-level trigger forgets it before every INSERT into
ledger_postings, so a posting added after a check (``SET CONSTRAINTS ... IMMEDIATE`` fired it
mid-transaction) is summed again: a skipped firing is always one with no posting inserted since
the same transaction was found balanced, and postings are never updated or deleted. SQLite has
no such trigger (ledger.accounts.chain.balance_errors checks every entry in code, on both
engines).
"""

from alembic import op

revision = "0019_balance_once"
down_revision = "0018_review_revision"
branch_labels = None
depends_on = None

# Frozen here, as in 0001: a migration never imports live code.
CHECK_ONCE = """
CREATE OR REPLACE FUNCTION ledger_check_balance() RETURNS trigger AS $$
DECLARE total bigint; n integer;
BEGIN
    IF current_setting('ledger.balanced', true) = NEW.transaction_id::text THEN
        RETURN NULL;  -- found balanced by the firing just before, no posting inserted since
    END IF;
    SELECT COALESCE(SUM(amount_cents), 0), COUNT(*) INTO total, n
      FROM ledger_postings WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %, % postings)', NEW.transaction_id, total, n;
    END IF;
    PERFORM set_config('ledger.balanced', NEW.transaction_id::text, true);
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""

FORGET = """
CREATE OR REPLACE FUNCTION ledger_forget_balanced() RETURNS trigger AS $$
BEGIN
    PERFORM set_config('ledger.balanced', '', true);
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""

FORGET_TRIGGER = (
    "CREATE TRIGGER ledger_postings_balance_forget BEFORE INSERT ON ledger_postings "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_forget_balanced()"
)

# 0001's function, for the downgrade.
CHECK_EACH = """
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
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FORGET)
    op.execute(FORGET_TRIGGER)
    op.execute(CHECK_ONCE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CHECK_EACH)
    op.execute("DROP TRIGGER ledger_postings_balance_forget ON ledger_postings")
    op.execute("DROP FUNCTION ledger_forget_balanced()")
