"""api tokens: drop last_used_at (never written: reading requests stay read-only)

Revision ID: 0007_enums
Revises: 0009_pages
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_enums"
down_revision = "0009_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
