"""Writing to the ledger: the only code path that creates transactions.

There is no function here that updates or deletes: a mistake is corrected with ``reverse``.
Callers flush, never commit: the request or command around them commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text

from ledger.accounts.chain import GENESIS, PostingData, TransactionData, balance_errors, link_hash
from ledger.accounts.chart import AccountSpec
from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.signing import current_key
from ledger.extensions import db
from ledger.timeutil import utcnow

# Any constant will do: it names the lock that serializes appends to the chain on PostgreSQL.
CHAIN_LOCK_KEY = 7_270_001


class UnbalancedTransaction(ValueError):
    """The postings do not form a valid double-entry transaction."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class DuplicateEntry(Exception):
    """A transaction with this business reference already exists."""


@dataclass(frozen=True)
class Leg:
    account: AccountSpec
    amount_cents: int
    memo: str = ""


def lock_chain() -> None:
    """Serialize writers of the chain. SQLite transactions already begin IMMEDIATE."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def resolve_account(spec: AccountSpec) -> Account:
    """The account for ``spec``, created on first use."""
    account = db.session.scalar(select(Account).where(Account.code == spec.code))
    if account is None:
        account = Account(
            code=spec.code, name=spec.name, type=spec.type, kind=spec.kind,
            commons_id=spec.commons_id, person_id=spec.person_id, cae_id=spec.cae_id,
        )
        db.session.add(account)
        db.session.flush()
    return account


def post(
    kind: str,
    legs: list[Leg],
    *,
    occurred_on: date,
    memo: str = "",
    commons_id: int | None = None,
    round_id: int | None = None,
    ref: str | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Append one balanced, hash-chained and signed transaction to the ledger.

    Raises UnbalancedTransaction when the legs do not sum to zero, and DuplicateEntry when
    ``ref`` was already used (which makes a repeated finalization or payment harmless).
    """
    data_legs = [PostingData(leg.account.code, leg.amount_cents, leg.memo) for leg in legs]
    if errors := balance_errors(data_legs):
        raise UnbalancedTransaction(errors)
    lock_chain()
    if ref is not None and db.session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.ref == ref)):
        raise DuplicateEntry(ref)
    last = db.session.execute(
        select(LedgerTransaction.seq, LedgerTransaction.hash).order_by(LedgerTransaction.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    recorded_at = utcnow().isoformat(timespec="microseconds")
    data = TransactionData(
        seq=seq, kind=kind, memo=memo, occurred_on=occurred_on.isoformat(), recorded_at=recorded_at,
        commons_id=commons_id, round_id=round_id, reverses_seq=reverses.seq if reverses else None,
        ref=ref, postings=tuple(data_legs),
    )
    digest = link_hash(data, prev_hash)
    key = current_key()
    tx = LedgerTransaction(
        seq=seq, kind=kind, memo=memo, occurred_on=occurred_on, recorded_at=recorded_at,
        commons_id=commons_id, round_id=round_id, reverses_id=reverses.id if reverses else None,
        ref=ref, prev_hash=prev_hash, hash=digest, signature=key.sign(digest.encode()), key_id=key.key_id,
    )
    db.session.add(tx)
    db.session.flush()
    for leg in legs:
        account = resolve_account(leg.account)
        db.session.add(Posting(transaction_id=tx.id, account_id=account.id, amount_cents=leg.amount_cents, memo=leg.memo))
    db.session.flush()
    return tx


def reverse(original: LedgerTransaction, *, occurred_on: date, memo: str, round_id: int | None = None) -> LedgerTransaction:
    """A new transaction with every posting of ``original`` negated, pointing back to it."""
    legs = []
    for posting in original.postings:
        account = posting.account
        spec = AccountSpec(account.code, account.name, account.type, account.kind, account.commons_id, account.person_id, account.cae_id)
        legs.append(Leg(spec, -posting.amount_cents, posting.memo))
    return post(
        f"reversal:{original.kind}", legs, occurred_on=occurred_on, memo=memo,
        commons_id=original.commons_id, round_id=round_id, reverses=original,
    )


def balance(code: str) -> int:
    """Current balance of an account in cents (debits positive); 0 for an unused account."""
    from sqlalchemy import func

    total = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount_cents), 0)).join(Account).where(Account.code == code)
    )
    return int(total or 0)
