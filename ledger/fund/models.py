"""The installation's solidarity fund: its versioned rules and donations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.extensions import db
from ledger.timeutil import utcnow


class FundRuleVersion(db.Model):
    __tablename__ = "fund_rule_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Share of a person's shortfall (claim − gross) the fund may cover, as a decimal string.
    topup_ratio: Mapped[str] = mapped_column(String(12), default="0.5")
    # Most the fund pays one person in one round; None for no cap.
    per_person_cap_cents: Mapped[int | None] = mapped_column(BigInteger)


class FundDonation(db.Model):
    __tablename__ = "fund_donations"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    donor: Mapped[str] = mapped_column(String(160))
    received_on: Mapped[date] = mapped_column(Date)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class FundIdentity(db.Model):
    """The fund's legal identity for its own FEC: one row, created when first set."""

    __tablename__ = "fund_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    siren: Mapped[str | None] = mapped_column(String(9))
    legal_name: Mapped[str] = mapped_column(String(160), default="")
    fiscal_year_start: Mapped[str] = mapped_column(String(5), default="01-01")
