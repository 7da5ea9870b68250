"""governance: decision procedure in the rules, colleges, rule proposals, the decision register

Revision ID: 0008_governance
Revises: 0002_fund_guard
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_governance"
down_revision = "0002_fund_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        # Existing commons keep today's behaviour: a steward decides.
        batch_op.add_column(sa.Column("decision_procedure", sa.String(length=16), nullable=False, server_default="steward"))
        batch_op.add_column(sa.Column("majority", sa.String(length=12), nullable=False, server_default="0.5"))
        batch_op.add_column(sa.Column("decision_days", sa.Integer(), nullable=False, server_default="14"))
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.alter_column("decision_procedure", server_default=None)
        batch_op.alter_column("majority", server_default=None)
        batch_op.alter_column("decision_days", server_default=None)

    op.create_table(
        "colleges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commons_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("weight", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["commons_id"], ["commons.id"], name=op.f("fk_colleges_commons_id_commons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_colleges")),
        sa.UniqueConstraint("commons_id", "code", name=op.f("uq_colleges_commons_id_code")),
    )
    op.create_index(op.f("ix_colleges_commons_id"), "colleges", ["commons_id"], unique=False)

    op.create_table(
        "college_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commons_id", sa.Integer(), nullable=False),
        sa.Column("college_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["college_id"], ["colleges.id"], name=op.f("fk_college_members_college_id_colleges")),
        sa.ForeignKeyConstraint(["commons_id"], ["commons.id"], name=op.f("fk_college_members_commons_id_commons")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_college_members_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_college_members")),
        sa.UniqueConstraint("commons_id", "person_id", name=op.f("uq_college_members_commons_id_person_id")),
    )
    op.create_index(op.f("ix_college_members_college_id"), "college_members", ["college_id"], unique=False)
    op.create_index(op.f("ix_college_members_commons_id"), "college_members", ["commons_id"], unique=False)

    op.create_table(
        "rule_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commons_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("procedure", sa.String(length=16), nullable=False),
        sa.Column("quorum", sa.String(length=12), nullable=False),
        sa.Column("majority", sa.String(length=12), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("rule_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("procedure IN ('steward', 'consent', 'vote')", name=op.f("ck_rule_proposals_procedure")),
        sa.CheckConstraint("state IN ('open', 'adopted', 'rejected', 'withdrawn')", name=op.f("ck_rule_proposals_state")),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_rule_proposals_author_id_people")),
        sa.ForeignKeyConstraint(
            ["base_version_id"], ["rule_versions.id"], name=op.f("fk_rule_proposals_base_version_id_rule_versions")
        ),
        sa.ForeignKeyConstraint(["commons_id"], ["commons.id"], name=op.f("fk_rule_proposals_commons_id_commons")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["people.id"], name=op.f("fk_rule_proposals_decided_by_id_people")),
        sa.ForeignKeyConstraint(
            ["rule_version_id"], ["rule_versions.id"], name=op.f("fk_rule_proposals_rule_version_id_rule_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_proposals")),
    )
    op.create_index(op.f("ix_rule_proposals_commons_id"), "rule_proposals", ["commons_id"], unique=False)
    op.create_index(op.f("ix_rule_proposals_deadline"), "rule_proposals", ["deadline"], unique=False)
    op.create_index(op.f("ix_rule_proposals_state"), "rule_proposals", ["state"], unique=False)

    op.create_table(
        "proposal_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('pro', 'con', 'question', 'objection')", name=op.f("ck_proposal_comments_kind")),
        sa.ForeignKeyConstraint(["answered_by_id"], ["people.id"], name=op.f("fk_proposal_comments_answered_by_id_people")),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_proposal_comments_author_id_people")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["rule_proposals.id"], name=op.f("fk_proposal_comments_proposal_id_rule_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_comments")),
    )
    op.create_index(op.f("ix_proposal_comments_proposal_id"), "proposal_comments", ["proposal_id"], unique=False)

    op.create_table(
        "proposal_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("college_id", sa.Integer(), nullable=True),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["college_id"], ["colleges.id"], name=op.f("fk_proposal_votes_college_id_colleges")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_proposal_votes_person_id_people")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["rule_proposals.id"], name=op.f("fk_proposal_votes_proposal_id_rule_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_votes")),
        sa.UniqueConstraint("proposal_id", "person_id", name=op.f("uq_proposal_votes_proposal_id_person_id")),
    )
    op.create_index(op.f("ix_proposal_votes_proposal_id"), "proposal_votes", ["proposal_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commons_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("procedure", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=True),
        sa.Column("cast", sa.Integer(), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("early_reason", sa.Text(), nullable=True),
        sa.Column("follow_up", sa.String(length=16), nullable=False),
        sa.Column("follow_up_note", sa.Text(), nullable=True),
        sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("follow_up IN ('none', 'todo', 'done', 'abandoned')", name=op.f("ck_decisions_follow_up")),
        sa.CheckConstraint(
            "kind IN ('rule_adopted', 'rule_rejected', 'objection_settled', 'round_finalized')", name=op.f("ck_decisions_kind")
        ),
        sa.ForeignKeyConstraint(["commons_id"], ["commons.id"], name=op.f("fk_decisions_commons_id_commons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("ref", name=op.f("uq_decisions_ref")),
    )
    op.create_index(op.f("ix_decisions_commons_id"), "decisions", ["commons_id"], unique=False)


def downgrade() -> None:
    for table in ("decisions", "proposal_votes", "proposal_comments", "rule_proposals", "college_members", "colleges"):
        op.drop_table(table)
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.drop_column("decision_days")
        batch_op.drop_column("majority")
        batch_op.drop_column("decision_procedure")
