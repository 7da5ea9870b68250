"""Commons, their members and their recorded income."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.extensions import db, one_of
from ledger.people.models import Person
from ledger.timeutil import utcnow

ROLES = ("contributor", "member", "steward")
INCOME_SOURCES = ("grant", "sale", "donation", "membership_fee", "public_contract", "subscription")


class PayoutRoute(StrEnum):
    """Where a member's retributions from a commons go (docs/allocation.md)."""

    CAE = "cae"
    INVOICE = "invoice"
    WAIVE = "waive"
    FUND = "fund"


PAYOUT_ROUTES = tuple(PayoutRoute)
# A commons' standing with the solidarity fund: only an admitted commons' rounds get top-ups.
FUND_STATUSES = ("pending", "admitted", "suspended")


class Commons(db.Model):
    __tablename__ = "commons"
    __table_args__ = (CheckConstraint("fund_status IN ('pending', 'admitted', 'suspended')", name="fund_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The first day its work, rounds and income may be dated (set by the administrator who creates it).
    started_on: Mapped[date] = mapped_column(Date)
    fund_status: Mapped[str] = mapped_column(String(16), default="pending", server_default=text("'pending'"))
    fund_status_reason: Mapped[str | None] = mapped_column(Text)
    fund_status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fund_status_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # Legal identity for the FEC (ledger.legal): SIREN, legal name, first day of the fiscal year.
    siren: Mapped[str | None] = mapped_column(String(9))
    legal_name: Mapped[str] = mapped_column(String(160), default="")
    fiscal_year_start: Mapped[str] = mapped_column(String(5), default="01-01")

    memberships: Mapped[list[Membership]] = relationship(back_populates="commons")


class Membership(db.Model):
    """A person's place in a commons: their role and where their retributions go."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("commons_id", "person_id"),
        CheckConstraint("role IN ('contributor', 'member', 'steward')", name="role"),
        CheckConstraint(one_of("payout_route", PayoutRoute), name="payout_route"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    payout_route: Mapped[str] = mapped_column(String(16), default="invoice")
    payout_cae_id: Mapped[int | None] = mapped_column(ForeignKey("caes.id"))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    commons: Mapped[Commons] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship()

    @property
    def can_review(self) -> bool:
        """Members and stewards vouch, object and vote; contributors only declare."""
        return self.role in ("member", "steward")


class Income(db.Model):
    """Money received by a commons; each row has its balanced ledger transaction."""

    __tablename__ = "income"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="positive"),
        CheckConstraint(
            "source IN ('grant', 'sale', 'donation', 'membership_fee', 'public_contract', 'subscription')",
            name="source",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commons_id: Mapped[int] = mapped_column(ForeignKey("commons.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))
    funder: Mapped[str] = mapped_column(String(160))
    received_on: Mapped[date] = mapped_column(Date)
    earmark: Mapped[str | None] = mapped_column(String(160))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    commons: Mapped[Commons] = relationship()
