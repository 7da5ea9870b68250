"""Colleges, rule proposals with their comments and ballots, and the public decision register."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.extensions import db
from ledger.timeutil import utcnow


class Procedure(StrEnum):
    """How a commons decides a change of its rules (named by the rules in force)."""

    STEWARD = "steward"  # a steward decides alone (small groups; the former behaviour)
    CONSENT = "consent"  # adopted at the deadline unless a reasoned objection is left unanswered
    VOTE = "vote"  # one person one vote (weighted by college), quorum and majority, deadline


class ProposalState(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    """How a proposal was decided: a code and its figures are stored, the words are the reader's language's."""

    WITHDRAWN = "withdrawn"  # by its author
    STEWARD = "steward"  # a steward decided; params: reason (their own words)
    CONSENT_ADOPTED = "consent_adopted"  # params: objections (all answered)
    CONSENT_BLOCKED = "consent_blocked"  # params: unanswered
    QUORUM_NOT_MET = "quorum_not_met"  # params: cast, eligible
    VOTED = "voted"  # params: yes (weighted share, exact fraction "2/3"), cast, eligible


# How a state reads to people (pages and the domain's refusals).
STATE_LABELS = {
    ProposalState.OPEN: _l("open"),
    ProposalState.ADOPTED: _l("adopted"),
    ProposalState.REJECTED: _l("not adopted"),
    ProposalState.WITHDRAWN: _l("withdrawn"),
}


class CommentKind(StrEnum):
    PRO = "pro"
    CON = "con"
    QUESTION = "question"
    # Under consent: a reasoned objection, which blocks adoption until it is answered.
    OBJECTION = "objection"


class DecisionKind(StrEnum):
    RULE_ADOPTED = "rule_adopted"
    RULE_REJECTED = "rule_rejected"
    OBJECTION_SETTLED = "objection_settled"
    ROUND_FINALIZED = "round_finalized"


class FollowUp(StrEnum):
    NONE = "none"  # nothing to do after the decision
    TODO = "todo"  # « à faire »
    DONE = "done"  # « fait »
    ABANDONED = "abandoned"  # « abandonné, parce que… » (with a note)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class College(db.Model):
    """A group of members whose votes weigh together (SCIC: whatever its size, a college weighs its weight)."""

    __tablename__ = "colleges"
    __table_args__ = (UniqueConstraint("commons_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    # A positive decimal string ("40", "0.25"): only the ratios between colleges matter.
    weight: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CollegeMember(db.Model):
    """A member's college in a commons: one at most, which the unique constraint guarantees."""

    __tablename__ = "college_members"
    __table_args__ = (UniqueConstraint("commons_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))

    college: Mapped[College] = relationship()


class RuleProposal(db.Model):
    """A member's proposed new version of the rules, decided by the procedure in force when proposed."""

    __tablename__ = "rule_proposals"
    __table_args__ = (
        CheckConstraint(_in("state", ProposalState), name="state"),
        CheckConstraint(_in("procedure", Procedure), name="procedure"),
        CheckConstraint(_in("outcome_code", Outcome), name="outcome_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    title: Mapped[str] = mapped_column(String(200))
    rationale: Mapped[str] = mapped_column(Text)
    # The rule version in force when proposed, and only the settings that differ from it.
    base_version_id: Mapped[int] = mapped_column(ForeignKey("rule_versions.id"))
    changes: Mapped[dict] = mapped_column(JSON)
    # Colleges are the rules of the vote: {"colleges": {code: {"name", "weight"}}, "moves": {person id: code}}.
    college_changes: Mapped[dict | None] = mapped_column(JSON)
    effective_from: Mapped[date] = mapped_column(Date)
    # The procedure and its thresholds as the rules in force named them: later changes do not apply.
    procedure: Mapped[str] = mapped_column(String(16))
    quorum: Mapped[str] = mapped_column(String(12))
    majority: Mapped[str] = mapped_column(String(12))
    deadline: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(16), default=ProposalState.OPEN, index=True)
    # How it was decided (None while open); ledger.governance.outcomes puts it in words.
    outcome_code: Mapped[str | None] = mapped_column(String(24))
    outcome_params: Mapped[dict | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    rule_version_id: Mapped[int | None] = mapped_column(ForeignKey("rule_versions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    comments: Mapped[list[ProposalComment]] = relationship(back_populates="proposal", order_by="ProposalComment.id")
    votes: Mapped[list[ProposalVote]] = relationship(back_populates="proposal", order_by="ProposalVote.id")


class ProposalComment(db.Model):
    """A pro, a con, a question or (under consent) a reasoned objection, which can be answered."""

    __tablename__ = "proposal_comments"
    __table_args__ = (CheckConstraint(_in("kind", CommentKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("rule_proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    proposal: Mapped[RuleProposal] = relationship(back_populates="comments")


class ProposalVote(db.Model):
    """One person, one ballot on a proposal: the unique constraint refuses a second one, even in a race."""

    __tablename__ = "proposal_votes"
    __table_args__ = (UniqueConstraint("proposal_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("rule_proposals.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # The voter's college when voting (None in a commons without colleges).
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"))
    approve: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    proposal: Mapped[RuleProposal] = relationship(back_populates="votes")


class Decision(db.Model):
    """A public entry of the decision register: what was decided, when, how, by how many, and what follows."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_in("kind", DecisionKind), name="kind"),
        CheckConstraint(_in("follow_up", FollowUp), name="follow_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    # "proposal:3", "objection:12", "round:7": one entry per decided thing, even if recorded twice.
    ref: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(Text)
    procedure: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    eligible: Mapped[int | None] = mapped_column(Integer)
    cast: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(Text)
    # Why a round moved before its date, when it did.
    early_reason: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str] = mapped_column(String(16), default=FollowUp.NONE)
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
