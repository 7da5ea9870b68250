"""login sessions that can be ended; idempotency replay records encrypted and purgeable

Revision ID: 0006_websec
Revises: 0005_books
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_websec"
down_revision = "0005_books"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default=sa.text("0"), nullable=False))
    # Replay records held answers in clear (employee references included); they live a day at
    # most, so the existing ones are dropped rather than encrypted here (no keys in migrations).
    op.execute("DELETE FROM idempotency_records")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_column("response_body")
        batch_op.add_column(sa.Column("response_encrypted", sa.LargeBinary(), nullable=False))
        batch_op.create_index(batch_op.f("ix_idempotency_records_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_created_at"))
        batch_op.drop_column("response_encrypted")
        batch_op.add_column(sa.Column("response_body", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
