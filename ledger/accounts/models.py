"""The double-entry ledger: typed accounts, transactions and their postings.

Rows here are written once and never updated or deleted (database triggers refuse it too).
A posting's amount is signed: debits are positive, credits negative, and the postings of a
transaction add up to zero.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.extensions import db

ACCOUNT_TYPES = ("asset", "liability", "income", "expense", "equity")


class TransactionKind(StrEnum):
    """What a ledger transaction records (its ``kind``, part of its hash). A correction's kind is
    ``reversal_of`` the kind it reverses."""

    INCOME = "income"
    FUND_DONATION = "fund:donation"
    ROUND_RETRIBUTION = "round:retribution"
    ROUND_TOPUP = "round:topup"
    ROUND_WAIVE = "round:waive"
    ROUND_TO_FUND = "round:to-fund"
    PAYOUT = "payout"


def reversal_of(kind: str) -> str:
    return f"reversal:{kind}"


# Every kind a transaction may have: the closed set the API documents and filters by.
TRANSACTION_KINDS = (*TransactionKind, *(reversal_of(kind) for kind in TransactionKind))


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
    # Position in the hash chain over the whole ledger: 1, 2, 3 … without gaps. Given once by the
    # sequencer (ledger.accounts.sequencer), with ``prev_hash`` and ``hash``: empty until then.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
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
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Format 3: the writer's hash of the content alone (ledger.accounts.chain.content_hash).
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Ledgers written before checkpoints signed every transaction; since then both are empty
    # and the transaction is covered by the signed checkpoint of its commit.
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(16))
    # How the hash was computed (ledger.accounts.chain): 2 also covers every posting's account
    # type and owner (person, commons, CAE), which decide where money goes; 3 hashes the content
    # at the write and the place in the ledger at sequencing.
    format: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

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


class Checkpoint(db.Model):
    """A signed statement of the ledger's state after a commit: tree size, Merkle root, chain head.

    ``note`` is the C2SP signed note (ledger.accounts.checkpoints); the row is hash-linked to the
    previous checkpoint like transactions are, and ``frontier`` lets the next commit extend the
    tree without reading every earlier transaction.
    """

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer, unique=True)
    root: Mapped[str] = mapped_column(String(64))  # hex
    chain_head: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    frontier: Mapped[str] = mapped_column(Text)  # hex hashes, space-separated, largest subtree first
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class SigningKeyRecord(db.Model):
    """Every public key that ever signed the ledger, so that old signatures stay checkable.

    A key that followed another by rotation carries the previous key's signature over its own
    public key (``announcement``); a key that appeared without one follows a lost key (or a
    rewrite, which only checkpoints saved outside the installation can tell apart).
    """

    __tablename__ = "ledger_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of the raw 32-byte Ed25519 key
    added_at: Mapped[str] = mapped_column(String(40))
    announced_by: Mapped[str | None] = mapped_column(String(16))
    announcement: Mapped[str | None] = mapped_column(String(100))
