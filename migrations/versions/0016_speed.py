"""speed: the ledger's monthly totals for the dashboards, revision counters, the hours index,
the fingerprint of a round's preview

Revision ID: 0016_speed
Revises: 0011_life
Create Date: 2026-12-02 04:40:00

The monthly totals are backfilled from the postings already recorded, computed by the database
(the application's own code is not imported: it may have moved on since this revision).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_speed"
down_revision = "0011_life"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_monthly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("commons_id", sa.Integer(), nullable=False),
        sa.Column("account_kind", sa.String(length=40), nullable=False),
        sa.Column("tx_kind", sa.String(length=40), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("postings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_monthly")),
        sa.UniqueConstraint(
            "month", "commons_id", "account_kind", "tx_kind", name=op.f("uq_ledger_monthly_month_commons_id_account_kind_tx_kind")
        ),
    )
    with op.batch_alter_table("ledger_monthly", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_monthly_account_kind"), ["account_kind"], unique=False)
    op.create_table(
        "revision_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_revision_counters")),
    )
    # Plain ALTERs, never a batch copy: these tables carry triggers a copy would drop on SQLite.
    op.create_index("ix_contributions_person_id_date", "contributions", ["person_id", "date"], unique=False)
    op.add_column("rounds", sa.Column("preview_fingerprint", sa.String(length=64), nullable=True))

    month = (
        "to_char(t.occurred_on, 'YYYY-MM')" if op.get_bind().dialect.name == "postgresql" else "strftime('%Y-%m', t.occurred_on)"
    )
    op.execute(
        "INSERT INTO ledger_monthly (month, commons_id, account_kind, tx_kind, amount_cents, postings) "
        f"SELECT {month}, COALESCE(t.commons_id, 0), a.kind, t.kind, SUM(p.amount_cents), COUNT(p.id) "
        "FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id "
        "JOIN accounts a ON a.id = p.account_id "
        f"GROUP BY {month}, COALESCE(t.commons_id, 0), a.kind, t.kind"
    )


def downgrade() -> None:
    op.drop_column("rounds", "preview_fingerprint")
    op.drop_index("ix_contributions_person_id_date", table_name="contributions")
    op.drop_table("revision_counters")
    with op.batch_alter_table("ledger_monthly", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_monthly_account_kind"))
    op.drop_table("ledger_monthly")
