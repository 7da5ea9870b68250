"""race guards: one open objection per person and contribution; on PostgreSQL, round periods of a
commons never overlap (exclusion constraint on a daterange, with btree_gist)

Revision ID: 0003_race_guards
Revises: 0006_websec
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_race_guards"
down_revision = "0006_websec"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    # Duplicates left by earlier races: the first open objection of a person on a contribution
    # stays open, the later ones are closed as withdrawn, saying why (nothing is deleted).
    op.execute(
        """
        UPDATE objections
           SET state = 'withdrawn',
               resolution = 'Closed by an upgrade: a duplicate of an earlier open objection by the same person.',
               resolved_at = CURRENT_TIMESTAMP
         WHERE state = 'open'
           AND id NOT IN (SELECT MIN(id) FROM objections WHERE state = 'open' GROUP BY contribution_id, objector_id)
        """
    )
    op.create_index(
        "uq_objections_open_per_objector",
        "objections",
        ["contribution_id", "objector_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    if op.get_bind().dialect.name == "postgresql":
        # btree_gist lets a GiST index compare commons_id with "=" beside the ranges' "&&". It is
        # a trusted extension (PostgreSQL 13+): the database's owner may create it. Overlapping
        # rounds already stored make this fail, naming them: a steward must settle them first.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE rounds ADD CONSTRAINT ex_rounds_period_overlap EXCLUDE USING gist "
            "(commons_id WITH =, daterange(period_start, period_end, '[]') WITH &&)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rounds DROP CONSTRAINT ex_rounds_period_overlap")
    op.drop_index("uq_objections_open_per_objector", table_name="objections")
