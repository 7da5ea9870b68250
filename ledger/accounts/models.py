"""The double-entry ledger: typed accounts, transactions and their postings.

Rows here are written once and never updated or deleted (database triggers refuse it too).
A posting's amount is signed: debits are positive, credits negative, and the postings of a
transaction add up to zero.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.extensions import db

ACCOUNT_TYPES = ("asset", "liability", "income", "expense", "equity")


class Account(db.Model):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("type IN ('asset', 'liability', 'income', 'expense', 'equity')", name="type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A stable, readable code such as "commons:velo:treasury"; see ledger.accounts.chart.
    code: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    # The role an account plays (treasury, income, payable …): the key of the FEC mapping.
    # Indexed: the dashboards sum the fund's postings by account kind.
    kind: Mapped[str] = mapped_column(String(40), index=True)
    commons_id: Mapped[int | None] = mapped_column(ForeignKey("commons.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    cae_id: Mapped[int | None] = mapped_column(ForeignKey("caes.id"), index=True)


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Position in the hash chain over the whole ledger: 1, 2, 3 … without gaps.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    # Kept as the exact ISO text that was hashed, so verification never depends on a driver's
    # datetime round-trip.
    recorded_at: Mapped[str] = mapped_column(String(40))
    commons_id: Mapped[int | None] = mapped_column(ForeignKey("commons.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    # A business key that makes a second write of the same thing impossible (for example
    # "round:12:finalize"): the database refuses the duplicate even under a race.
    ref: Mapped[str | None] = mapped_column(String(160), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(16))

    postings: Mapped[list[Posting]] = relationship(back_populates="transaction", order_by="Posting.id", cascade="save-update")


class Posting(db.Model):
    __tablename__ = "ledger_postings"
    __table_args__ = (CheckConstraint("amount_cents <> 0", name="nonzero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(200), default="")

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship()
