"""Rule versions, retribution rounds and their allocation lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.commons.models import Commons
from ledger.extensions import db, one_of
from ledger.timeutil import utcnow

CADENCES = ("monthly", "quarterly", "manual")
ALLOCATION_METHODS = ("time", "self", "peer", "hybrid")
OBJECTION_PROCEDURES = ("vote", "mediation")
DECISION_PROCEDURES = ("steward", "consent", "vote")


class RoundState(StrEnum):
    """A round's lifecycle, in order (docs/allocation.md)."""

    OPEN = "open"
    REVIEW = "review"
    ALLOCATED = "allocated"
    FINALIZED = "finalized"
    PAID = "paid"


ROUND_STATES = tuple(RoundState)

# How a state reads to people (pages and the domain's refusals). Distinct wording from the
# contribution statuses: in French a round and a contribution differ in gender.
ROUND_LABELS = {
    RoundState.OPEN: _l("open for declarations"),
    RoundState.REVIEW: _l("in review"),
    RoundState.ALLOCATED: _l("allocation computed"),
    RoundState.FINALIZED: _l("finalized"),
    RoundState.PAID: _l("paid out"),
}


class RuleVersion(db.Model):
    """One version of a commons' rules. Never edited: a change is a new version."""

    __tablename__ = "rule_versions"
    __table_args__ = (
        UniqueConstraint("commons_id", "version"),
        CheckConstraint("hourly_value_cents >= 0", name="hourly_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    cadence: Mapped[str] = mapped_column(String(16), default="monthly")
    declaration_days: Mapped[int] = mapped_column(Integer, default=5)
    review_days: Mapped[int] = mapped_column(Integer, default=7)
    allocation_method: Mapped[str] = mapped_column(String(16), default="time")
    hourly_value_cents: Mapped[int] = mapped_column(BigInteger, default=1500)
    cap_cents: Mapped[int | None] = mapped_column(BigInteger)
    # {"care": "1.5", ...}: weights as decimal strings, default 1 for a category not listed.
    category_weights: Mapped[dict] = mapped_column(JSON, default=dict)
    min_vouches: Mapped[int] = mapped_column(Integer, default=0)
    objection_procedure: Mapped[str] = mapped_column(String(16), default="vote")
    # Share of members who must vote for an objection vote to be decided, as a decimal string.
    quorum: Mapped[str] = mapped_column(String(12), default="0.5")
    levy_rate: Mapped[str] = mapped_column(String(12), default="0.05")
    # For the hybrid method: weight of the time share (the rest is the peer share).
    hybrid_time_weight: Mapped[str] = mapped_column(String(12), default="0.5")
    weekly_hours_threshold: Mapped[int] = mapped_column(Integer, default=48)
    # How the next change of these rules is decided (ledger.governance); a rule vote uses `quorum` too.
    decision_procedure: Mapped[str] = mapped_column(String(16), default="steward")
    # Share of the (college-weighted) votes cast that must say yes, strictly more than it, as a decimal string.
    majority: Mapped[str] = mapped_column(String(12), default="0.5")
    decision_days: Mapped[int] = mapped_column(Integer, default=14)
    # How many periods (of the cadence; a month for `manual`) before the current one work may
    # still be declared late: 1, the previous period.
    late_periods: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    commons: Mapped[Commons] = relationship()


class Round(db.Model):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("envelope_cents >= 0", name="envelope"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint(one_of("state", RoundState), name="state"),
        UniqueConstraint("commons_id", "period_start"),
        # On PostgreSQL, migration 0003 adds ex_rounds_period_overlap: no two periods of a commons
        # overlap (an exclusion constraint, which SQLite lacks; there create_round's check holds).
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    rule_version_id: Mapped[int] = mapped_column(ForeignKey("rule_versions.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    envelope_cents: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # Dates of the automatic transitions, computed from the pinned rule version.
    review_starts_on: Mapped[date] = mapped_column(Date)
    allocation_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Why a steward opened a round shorter than a week (only under the manual cadence).
    period_reason: Mapped[str | None] = mapped_column(Text)
    review_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    allocated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The day the reminder that declarations close soon was mailed (at most once per round).
    declaration_reminded_on: Mapped[date | None] = mapped_column(Date)
    # SHA-256 of the inputs the stored lines were computed from (ledger.rounds.preview):
    # finalization posts them as they are while it still matches.
    preview_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The digest of the preview's review part (counted work, points) and the revision of the
    # review counters read before it was gathered: while that revision holds, the digest stands
    # in for gathering the review again.
    preview_review_digest: Mapped[str | None] = mapped_column(String(64))
    preview_review_revision: Mapped[str | None] = mapped_column(String(40))

    commons: Mapped[Commons] = relationship()
    rule_version: Mapped[RuleVersion] = relationship()
    lines: Mapped[list[AllocationLine]] = relationship(back_populates="round", order_by="AllocationLine.person_id")


class AllocationLine(db.Model):
    """One person's share of a round: the preview while allocated, the record once finalized."""

    __tablename__ = "allocation_lines"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    weighted_hours: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    claim_cents: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger)
    levy_cents: Mapped[int] = mapped_column(BigInteger)
    topup_cents: Mapped[int] = mapped_column(BigInteger)
    net_cents: Mapped[int] = mapped_column(BigInteger)
    route: Mapped[str] = mapped_column(String(16))
    cae_id: Mapped[int | None] = mapped_column(ForeignKey("caes.id"))
    cae_contribution_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    salary_budget_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    explanation: Mapped[str] = mapped_column(Text)

    round: Mapped[Round] = relationship(back_populates="lines")


class SelfRequest(db.Model):
    """For the `self` method: the amount a person asks for in a round, visible to all."""

    __tablename__ = "self_requests"
    __table_args__ = (UniqueConstraint("round_id", "person_id"), CheckConstraint("amount_cents >= 0", name="amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class PeerPoints(db.Model):
    """For the `peer` method: points a member gives to another person's contribution."""

    __tablename__ = "peer_points"
    __table_args__ = (UniqueConstraint("round_id", "giver_id", "contribution_id"), CheckConstraint("points > 0", name="points"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"))
    points: Mapped[int] = mapped_column(Integer)


class SchedulerRun(db.Model):
    """A log of scheduler ticks: who ran, when, and what moved."""

    __tablename__ = "scheduler_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    holder: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")


class RoundEvent(db.Model):
    """One step of a round's history: who moved it, from what to what, and why if it was early.

    Members read this history on the round's page: a step taken before its window ended is only
    possible with a written reason, so that nobody shortens a window silently.
    """

    __tablename__ = "round_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    # None when the scheduler moved the round.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    early: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
