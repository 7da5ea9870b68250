"""books: legal identities, stored FEC entry numbers, CAE members' analytic code and rate

Revision ID: 0005_books
Revises: 0001

Entries recorded before this revision get their FEC numbers here, in recording order, by the
same rule the application applies at recording (BQ when an entity's postings touch its bank
account, OD otherwise; one sequence per entity and journal).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_books"
down_revision = "0001"
branch_labels = None
depends_on = None

IDENTITY_COLUMNS = ("siren", "legal_name", "fiscal_year_start")


def _identity_columns() -> list[sa.Column]:
    return [
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("legal_name", sa.String(length=160), nullable=False, server_default=""),
        sa.Column("fiscal_year_start", sa.String(length=5), nullable=False, server_default="01-01"),
    ]


def upgrade() -> None:
    for table in ("commons", "caes"):
        with op.batch_alter_table(table) as batch:
            for column in _identity_columns():
                batch.add_column(column)
    with op.batch_alter_table("cae_memberships") as batch:
        batch.add_column(sa.Column("analytic_code", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("contribution_rate", sa.String(length=12), nullable=True))
    op.create_table(
        "fund_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        *_identity_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_identity")),
    )
    numbers = op.create_table(
        "fec_entry_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=24), nullable=False),
        sa.Column("journal", sa.String(length=4), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"], ["ledger_transactions.id"], name=op.f("fk_fec_entry_numbers_transaction_id_ledger_transactions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fec_entry_numbers")),
        sa.UniqueConstraint("entity", "journal", "number", name=op.f("uq_fec_entry_numbers_entity_journal_number")),
        sa.UniqueConstraint("transaction_id", "entity", name=op.f("uq_fec_entry_numbers_transaction_id_entity")),
    )
    with op.batch_alter_table("fec_entry_numbers") as batch:
        batch.create_index(batch.f("ix_fec_entry_numbers_transaction_id"), ["transaction_id"], unique=False)
    _number_existing_entries(numbers)


def _number_existing_entries(numbers: sa.Table) -> None:
    bind = op.get_bind()
    accounts = {row.id: (row.kind, row.commons_id) for row in bind.execute(sa.text("SELECT id, kind, commons_id FROM accounts"))}
    journals: dict[int, dict[str, str]] = {}
    for tx_id, account_id in bind.execute(
        sa.text(
            "SELECT t.id, p.account_id FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id "
            "ORDER BY t.seq, p.id"
        )
    ):
        kind, commons_id = accounts[account_id]
        entity = f"commons:{commons_id}" if commons_id is not None else ("fund" if kind.startswith("fund:") else None)
        if entity is None:
            continue
        by_entity = journals.setdefault(tx_id, {})
        bank = kind in ("treasury", "fund:treasury")
        by_entity[entity] = "BQ" if bank or by_entity.get(entity) == "BQ" else "OD"
    last: dict[tuple[str, str], int] = {}
    rows = []
    for tx_id, by_entity in journals.items():  # insertion order is the chain's order
        for entity, journal in by_entity.items():
            last[(entity, journal)] = number = last.get((entity, journal), 0) + 1
            rows.append({"transaction_id": tx_id, "entity": entity, "journal": journal, "number": number})
    if rows:
        op.bulk_insert(numbers, rows)


def downgrade() -> None:
    op.drop_table("fec_entry_numbers")
    op.drop_table("fund_identity")
    with op.batch_alter_table("cae_memberships") as batch:
        batch.drop_column("contribution_rate")
        batch.drop_column("analytic_code")
    for table in ("caes", "commons"):
        with op.batch_alter_table(table) as batch:
            for name in reversed(IDENTITY_COLUMNS):
                batch.drop_column(name)
