"""CAEs, their members, and the payout lines and batches that turn rounds into pay."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.extensions import db, one_of
from ledger.people.models import Person
from ledger.timeutil import utcnow


class ContractType(StrEnum):
    """How a person works with their CAE."""

    CESA = "CESA"
    CAPE = "CAPE"
    ASSOCIE = "associe"


class BatchState(StrEnum):
    PENDING = "pending"
    EXPORTED = "exported"
    PAID = "paid"


CONTRACT_TYPES = tuple(ContractType)
BATCH_STATES = tuple(BatchState)


class Cae(db.Model):
    """A coopérative d'activités et d'emploi."""

    __tablename__ = "caes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    # Share of each amount the CAE keeps for its pooled services ("0.10").
    contribution_rate: Mapped[str] = mapped_column(String(12))
    # Estimated employer social charges, for displayed estimates only ("0.42").
    employer_rate: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Legal identity (ledger.legal): SIREN, legal name, first day of the fiscal year ("MM-DD").
    siren: Mapped[str | None] = mapped_column(String(9))
    legal_name: Mapped[str] = mapped_column(String(160), default="")
    fiscal_year_start: Mapped[str] = mapped_column(String(5), default="01-01")


class CaeMembership(db.Model):
    __tablename__ = "cae_memberships"
    __table_args__ = (
        UniqueConstraint("cae_id", "person_id"),
        CheckConstraint(one_of("contract_type", ContractType), name="contract_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cae_id: Mapped[int] = mapped_column(ForeignKey("caes.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # Encrypted at rest (ledger.crypto); decrypted only inside the CAE's own exports.
    employee_ref_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    contract_type: Mapped[str] = mapped_column(String(16))
    # Legal names for payroll, which may differ from the name shown in the service.
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    # The member's activity code ("enseigne") for the CAE's analytic accounts: on their salary
    # lines and as CompAuxNum on the FEC lines of rounds paid through this CAE.
    analytic_code: Mapped[str] = mapped_column(String(32), default="")
    # The CAE's contribution rate for this member ("0.08"); None: the CAE's own rate.
    contribution_rate: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    cae: Mapped[Cae] = relationship()
    person: Mapped[Person] = relationship()


class PayoutBatch(db.Model):
    """A round's payout lines for one route (and one CAE for the `cae` route)."""

    __tablename__ = "payout_batches"
    __table_args__ = (
        UniqueConstraint("round_id", "route", "cae_id"),
        CheckConstraint(one_of("state", BatchState), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    route: Mapped[str] = mapped_column(String(16))
    cae_id: Mapped[int | None] = mapped_column(ForeignKey("caes.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    paid_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    # The day the money left the bank and the bank's reference, as the payer states them.
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(140))

    lines: Mapped[list[PayoutLine]] = relationship(back_populates="batch", order_by="PayoutLine.person_id")


class PayoutLine(db.Model):
    __tablename__ = "payout_lines"
    __table_args__ = (UniqueConstraint("batch_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    allocation_line_id: Mapped[int] = mapped_column(ForeignKey("allocation_lines.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    cae_contribution_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    salary_budget_cents: Mapped[int] = mapped_column(BigInteger, default=0)

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines")


class ExportRecord(db.Model):
    """What was exported, when and by whom, with the digest of the exact bytes."""

    __tablename__ = "export_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    byte_count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
