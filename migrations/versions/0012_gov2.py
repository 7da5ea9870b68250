"""governance 2: a proposal's outcome as a code and its figures instead of an English sentence; college changes

Revision ID: 0012_gov2
Revises: 0008_governance
"""

import re
from fractions import Fraction

import sqlalchemy as sa
from alembic import op

revision = "0012_gov2"
down_revision = "0008_governance"
branch_labels = None
depends_on = None

# Frozen here (a migration imports no live code): the outcome codes of ledger.governance.models.Outcome.
CODES = ("withdrawn", "steward", "consent_adopted", "consent_blocked", "quorum_not_met", "voted")
CHECK = "outcome_code IN ({})".format(", ".join(repr(c) for c in CODES))

proposals = sa.table(
    "rule_proposals",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("procedure", sa.String),
    sa.column("outcome", sa.Text),
    sa.column("outcome_code", sa.String),
    sa.column("outcome_params", sa.JSON),
)


def parsed(state: str, procedure: str, text: str) -> tuple[str, dict]:
    """The code and figures of an outcome sentence as revision 0008's service wrote it."""
    if state == "withdrawn":
        return "withdrawn", {}
    if procedure == "steward":
        return "steward", {"reason": text}
    if found := re.match(r"not adopted: (\d+) objection", text):
        return "consent_blocked", {"unanswered": int(found[1])}
    if found := re.match(r"adopted by consent: (\d+) objection", text):
        return "consent_adopted", {"objections": int(found[1])}
    if found := re.search(r"quorum not reached \((\d+) of (\d+) voted", text):
        return "quorum_not_met", {"cast": int(found[1]), "eligible": int(found[2])}
    if found := re.search(r": ([\d.]+) % yes \(weighted\), (\d+) of (\d+) voted", text):
        return "voted", {"yes": str(Fraction(found[1]) / 100), "cast": int(found[2]), "eligible": int(found[3])}
    # A sentence of no known shape: kept as a steward's words, so that nothing is lost.
    return "steward", {"reason": text}


def upgrade() -> None:
    with op.batch_alter_table("rule_proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_code", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("outcome_params", sa.JSON(), nullable=True))
        # Colleges change by proposal, like the rules.
        batch_op.add_column(sa.Column("college_changes", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(proposals.c.id, proposals.c.state, proposals.c.procedure, proposals.c.outcome).where(
            proposals.c.state != "open"
        )
    ).all()
    for id_, state, procedure, text in rows:
        code, params = parsed(state, procedure, text or "")
        connection.execute(proposals.update().where(proposals.c.id == id_).values(outcome_code=code, outcome_params=params))
    with op.batch_alter_table("rule_proposals", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.create_check_constraint(op.f("ck_rule_proposals_outcome_code"), CHECK)


def downgrade() -> None:
    with op.batch_alter_table("rule_proposals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_rule_proposals_outcome_code"), type_="check")
        batch_op.add_column(sa.Column("outcome", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(proposals.c.id, proposals.c.outcome_code, proposals.c.outcome_params).where(
            proposals.c.outcome_code.is_not(None)
        )
    ).all()
    for id_, code, params in rows:
        params = params or {}
        text = params.get("reason") if code == "steward" else " ".join([code, *(f"{k}={v}" for k, v in params.items())])
        connection.execute(proposals.update().where(proposals.c.id == id_).values(outcome=text))
    with op.batch_alter_table("rule_proposals", schema=None) as batch_op:
        batch_op.drop_column("outcome_code")
        batch_op.drop_column("outcome_params")
        batch_op.drop_column("college_changes")
