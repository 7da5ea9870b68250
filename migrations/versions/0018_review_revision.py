"""review revision: a round's preview remembers what its review was gathered from

Revision ID: 0018_review_revision
Revises: 0017_sequencer
Create Date: 2026-12-04 19:30:00

Finalization skips gathering the review again (a GROUP BY over the round's contributions) when
the round's review counters have not moved since its preview (ledger.rounds.preview). Rounds
allocated before this revision have neither column and are gathered again, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_review_revision"
down_revision = "0017_sequencer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, as in 0016: no batch copy of a table.
    op.add_column("rounds", sa.Column("preview_review_digest", sa.String(length=64), nullable=True))
    op.add_column("rounds", sa.Column("preview_review_revision", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("rounds", "preview_review_revision")
    op.drop_column("rounds", "preview_review_digest")
