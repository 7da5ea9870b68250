"""life: the day a round's reminder that declarations close soon was mailed

Revision ID: 0011_life
Revises: 0012_gov2
Create Date: 2026-12-02 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_life"
down_revision = "0012_gov2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite does it in place, where a batch would copy the rounds table.
    op.add_column("rounds", sa.Column("declaration_reminded_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("rounds", "declaration_reminded_on")
