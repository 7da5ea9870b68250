"""Contributions and their peer review: vouches, objections and votes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.commons.models import Commons
from ledger.extensions import db, one_of
from ledger.people.models import Person
from ledger.timeutil import utcnow

if TYPE_CHECKING:
    from ledger.rounds.models import Round

# Categories every commons starts with: they make invisible work visible (SPEC section 2).
DEFAULT_CATEGORIES = (
    ("production", "Production", False),
    ("maintenance", "Maintenance", True),
    ("care", "Care", True),
    ("governance", "Governance", True),
    ("welcoming", "Welcoming newcomers", True),
    ("feedback", "Feedback on use", True),
    ("coordination", "Coordination", True),
    ("mutual_help", "Mutual help", True),
)


class ContributionStatus(StrEnum):
    """A contribution's status as stored; "counted" and "paid" are derived from the round
    (contributions.status.display_status)."""

    DECLARED = "declared"
    WITHDRAWN = "withdrawn"
    CARRIED_OVER = "carried_over"
    REJECTED = "rejected"


STATUSES = tuple(ContributionStatus)


class ObjectionState(StrEnum):
    """An objection is open until withdrawn by its author or decided (upheld stops the work)."""

    OPEN = "open"
    WITHDRAWN = "withdrawn"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


OBJECTION_STATES = tuple(ObjectionState)


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("commons_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    # Work that usually goes unseen (care, maintenance, welcoming …), highlighted on dashboards.
    invisible: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Contribution(db.Model):
    __tablename__ = "contributions"
    __table_args__ = (
        CheckConstraint("hours > 0 AND hours <= 24", name="hours"),
        CheckConstraint(one_of("status", ContributionStatus), name="status"),
        UniqueConstraint("person_id", "idempotency_key"),
        # The day's and the week's hours of a person are read at every declaration.
        Index("ix_contributions_person_id_date", "person_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True, active_history=True)
    # The round it was first declared in, when it was carried over to a later one.
    carried_from_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    date: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=ContributionStatus.DECLARED, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    commons: Mapped[Commons] = relationship()
    round: Mapped[Round | None] = relationship("Round", foreign_keys=[round_id])
    vouches: Mapped[list[Vouch]] = relationship(back_populates="contribution")
    objections: Mapped[list[Objection]] = relationship(back_populates="contribution")


class Vouch(db.Model):
    __tablename__ = "vouches"
    __table_args__ = (UniqueConstraint("contribution_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    contribution: Mapped[Contribution] = relationship(back_populates="vouches")


class Objection(db.Model):
    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint(one_of("state", ObjectionState), name="state"),
        # One open objection per person and contribution, whatever the timing of their requests.
        Index(
            "uq_objections_open_per_objector",
            "contribution_id",
            "objector_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), index=True)
    objector_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=ObjectionState.OPEN)
    answer: Mapped[str | None] = mapped_column(Text)
    amended_hours: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    contribution: Mapped[Contribution] = relationship(back_populates="objections")
    votes: Mapped[list[Vote]] = relationship(back_populates="objection")


class Vote(db.Model):
    """One person, one vote on an objection: keep the contribution (True) or not (False)."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("objection_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    keep: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    objection: Mapped[Objection] = relationship(back_populates="votes")
