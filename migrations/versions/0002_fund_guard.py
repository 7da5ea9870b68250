"""fund guard: commons start date and fund admission, late-declaration window, short-round reason

Revision ID: 0002_fund_guard
Revises: 0007_enums
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_fund_guard"
down_revision = "0007_enums"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("fund_status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False))
        batch_op.add_column(sa.Column("fund_status_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("fund_status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("fund_status_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_commons_fund_status_by_id_people"), "people", ["fund_status_by_id"], ["id"])
        batch_op.create_check_constraint(op.f("ck_commons_fund_status"), "fund_status IN ('pending', 'admitted', 'suspended')")
    # A commons created before this revision started on the day its first rules took effect.
    # Commons that already drew on the fund stay pending until the fund manager admits them.
    op.execute(
        "UPDATE commons SET started_on = (SELECT MIN(effective_from) FROM rule_versions WHERE rule_versions.commons_id = commons.id)"
    )
    op.execute("UPDATE commons SET started_on = CAST(created_at AS DATE) WHERE started_on IS NULL")
    with op.batch_alter_table("commons", schema=None) as batch_op:
        batch_op.alter_column("started_on", existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_periods", sa.Integer(), server_default=sa.text("1"), nullable=False))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("period_reason")
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.drop_column("late_periods")
    with op.batch_alter_table("commons", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_commons_fund_status"), type_="check")
        batch_op.drop_constraint(op.f("fk_commons_fund_status_by_id_people"), type_="foreignkey")
        batch_op.drop_column("fund_status_by_id")
        batch_op.drop_column("fund_status_at")
        batch_op.drop_column("fund_status_reason")
        batch_op.drop_column("fund_status")
        batch_op.drop_column("started_on")
