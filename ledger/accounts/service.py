"""Writing to the ledger: the only code path that creates transactions.

There is no function here that updates or deletes: a mistake is corrected with ``reverse``.
Callers flush, never commit: the request or command around them commits once.

``post_many`` appends a batch of entries with a fixed number of statements whatever its size (a
round's finalization writes thousands); ``post`` is the same path for a single entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from ledger.accounts import checkpoints, monthly, sequencer
from ledger.accounts.chain import (
    GENESIS,
    PostingData,
    TransactionData,
    balance_errors,
    content_hash,
    identity_hash,
    sequence_link,
)
from ledger.accounts.chart import AccountSpec
from ledger.accounts.models import Account, LedgerTransaction, Posting, reversal_of
from ledger.accounts.numbering import number_entries
from ledger.bulk import among, insert_rows
from ledger.extensions import db
from ledger.timeutil import utcnow

# Up to this many entries, PostgreSQL inserts them with one INSERT … RETURNING rather than COPY.
SMALL_BATCH = 50


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


@dataclass(frozen=True)
class Entry:
    """One transaction to append: what ``post`` takes, as a value (for ``post_many``)."""

    kind: str
    legs: Sequence[Leg]
    occurred_on: date
    memo: str = ""
    commons_id: int | None = None
    round_id: int | None = None
    ref: str | None = None
    reverses_id: int | None = None
    # What the reversed transaction's hash is (``chain.identity_hash``): part of this one's content.
    reverses_hash: str | None = None


def resolve_accounts(specs: dict[str, AccountSpec]) -> dict[str, Row]:
    """The stored account of every spec (keyed by code), creating the missing ones in one insert.

    Each row gives the id, the kind (for the monthly totals) and the fields a format-2 hash covers
    (type and owners), as stored.
    """
    codes = list(specs)
    found: dict[str, Row] = {}
    columns = (Account.code, Account.id, Account.type, Account.kind, Account.person_id, Account.commons_id, Account.cae_id)

    def read(codes):
        for condition in among(Account.code, codes):
            found.update((row.code, row) for row in db.session.execute(select(*columns).where(condition)))

    read(codes)
    missing = [specs[code] for code in codes if code not in found]
    if missing:
        insert_rows(
            Account.__table__,
            [
                {
                    "code": s.code,
                    "name": s.name,
                    "type": s.type,
                    "kind": s.kind,
                    "commons_id": s.commons_id,
                    "person_id": s.person_id,
                    "cae_id": s.cae_id,
                }
                for s in missing
            ],
        )
        read([s.code for s in missing])
    return found


def post_many(entries: Sequence[Entry]) -> list[int]:
    """Append balanced transactions, in order; returns their ids.

    Each is written in format 3: its content hash now, its place in the ledger (``seq``, the
    link to its predecessor, the link hash) given by the sequencer, which also signs the
    checkpoint covering it (``ledger.accounts.sequencer``). On SQLite, whose writer holds the
    database's write lock from BEGIN, that happens in this very transaction; on PostgreSQL just
    after its commit, so that no writer waits on another's commit: two commons write at once.

    All or nothing: raises UnbalancedTransaction when any entry's legs do not sum to zero, and
    DuplicateEntry when a ``ref`` was already used or appears twice in the batch, before anything
    is written. A handful of statements whatever the number of entries (one more per
    ``ledger.bulk.IN_CHUNK`` refs or new accounts on SQLite).
    """
    if not entries:
        return []
    legs_of = [[PostingData(leg.account.code, leg.amount_cents, leg.memo) for leg in entry.legs] for entry in entries]
    errors = []
    for entry, legs in zip(entries, legs_of):
        found = balance_errors(legs)
        errors += [f"{entry.ref or entry.kind}: {e}" for e in found] if len(entries) > 1 else found
    if errors:
        raise UnbalancedTransaction(errors)
    refs = [entry.ref for entry in entries if entry.ref is not None]
    if len(set(refs)) != len(refs):
        raise DuplicateEntry(next(ref for i, ref in enumerate(refs) if ref in refs[:i]))
    db.session.flush()  # pending ORM rows (the accounts' commons, a reversed transaction) first
    for condition in among(LedgerTransaction.ref, refs):
        if taken := db.session.scalar(select(LedgerTransaction.ref).where(condition).limit(1)):
            raise DuplicateEntry(taken)
    accounts = resolve_accounts({leg.account.code: leg.account for entry in entries for leg in entry.legs})
    recorded_at = utcnow().isoformat(timespec="microseconds")
    # The hash covers each account as stored (its owners decide where the money goes).
    owners = {code: (row.type, row.person_id, row.commons_id, row.cae_id) for code, row in accounts.items()}
    rows = []
    for entry, legs in zip(entries, legs_of):
        legs = [PostingData(leg.account_code, leg.amount_cents, leg.memo, *owners[leg.account_code]) for leg in legs]
        data = TransactionData(
            seq=None,
            kind=entry.kind,
            memo=entry.memo,
            occurred_on=entry.occurred_on.isoformat(),
            recorded_at=recorded_at,
            commons_id=entry.commons_id,
            round_id=entry.round_id,
            reverses_seq=None,
            ref=entry.ref,
            postings=tuple(legs),
            format=3,
            reverses_hash=entry.reverses_hash,
        )
        rows.append(
            {
                "seq": None,
                "kind": entry.kind,
                "memo": entry.memo,
                "occurred_on": entry.occurred_on,
                "recorded_at": recorded_at,
                "commons_id": entry.commons_id,
                "round_id": entry.round_id,
                "reverses_id": entry.reverses_id,
                "ref": entry.ref,
                "prev_hash": None,
                "hash": None,
                "content_hash": content_hash(data),
                "signature": "",
                "key_id": "",
                "format": 3,
            }
        )
    placed = not sequencer.deferred() or sequencer.place_here(len(rows))
    ids = _insert(rows, placed, refs)
    if placed:  # else numbered by the sequencer, in the order it gives
        number_entries(ids, [[(leg.account.kind, leg.account.commons_id) for leg in entry.legs] for entry in entries])
    # In recording order: `verify` reads a transaction's postings in id order.
    insert_rows(
        Posting.__table__,
        [
            {
                "transaction_id": tx_id,
                "account_id": accounts[leg.account.code].id,
                "amount_cents": leg.amount_cents,
                "memo": leg.memo,
            }
            for tx_id, entry in zip(ids, entries)
            for leg in entry.legs
        ],
    )
    monthly.add(
        monthly.totals_of(
            (entry.occurred_on, entry.commons_id, accounts[leg.account.code].kind, entry.kind, leg.amount_cents)
            for entry in entries
            for leg in entry.legs
        )
    )
    checkpoints.mark_due(placed)
    return ids


def _insert(rows: list[dict], placed: bool, refs: list[str]) -> list[int]:
    """Insert the transactions, with their place (``placed``) or without; their ids, in order.

    On PostgreSQL a ``ref`` (of ``refs``, those the rows carry) another writer is recording at
    this moment is refused by its unique index: the insert runs in a savepoint so that the refusal
    is DuplicateEntry, as when the other one was committed. (On SQLite the write lock already
    orders the two.)
    """
    if not refs or not sequencer.deferred():
        return _insert_sequenced(rows) if placed else _insert_unsequenced(rows)
    try:
        with db.session.begin_nested():
            return _insert_sequenced(rows) if placed else _insert_unsequenced(rows)
    except IntegrityError as error:
        if "uq_ledger_transactions_ref" not in str(error.orig):
            raise
        raise DuplicateEntry(next((ref for ref in refs if ref in str(error.orig)), refs[0])) from error


def _insert_sequenced(rows: list[dict]) -> list[int]:
    """The rows get their place at once, as the sequencer would: the writer holds SQLite's write
    lock, or on PostgreSQL the sequencer's own (``sequencer.place_here``)."""
    last = db.session.execute(
        select(LedgerTransaction.seq, LedgerTransaction.hash)
        .where(LedgerTransaction.seq.is_not(None))
        .order_by(LedgerTransaction.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    first_seq = seq + 1
    for row in rows:
        seq += 1
        row.update(seq=seq, prev_hash=prev_hash, hash=sequence_link(seq, prev_hash, row["content_hash"]))
        prev_hash = row["hash"]
    insert_rows(LedgerTransaction.__table__, rows)
    # Ids by seq rather than RETURNING: SQLite would then insert row by row to keep the order.
    return list(
        db.session.scalars(select(LedgerTransaction.id).where(LedgerTransaction.seq >= first_seq).order_by(LedgerTransaction.seq))
    )


def _insert_unsequenced(rows: list[dict]) -> list[int]:
    """PostgreSQL: rows inserted without a place, no lock taken; their ids, in order.

    A few rows: one INSERT … RETURNING. A batch: the ids drawn first, then COPY, which is faster
    than any INSERT for thousands of rows.
    """
    if len(rows) <= SMALL_BATCH:
        statement = insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True)
        return list(db.session.scalars(statement, rows))
    ids = list(
        db.session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('ledger_transactions', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)},
        )
    )
    for tx_id, row in zip(ids, rows):
        row["id"] = tx_id
    insert_rows(LedgerTransaction.__table__, rows)
    return ids


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
    """Append one balanced, hash-chained transaction to the ledger (signed by its commit's checkpoint).

    Raises UnbalancedTransaction when the legs do not sum to zero, and DuplicateEntry when
    ``ref`` was already used (which makes a repeated finalization or payment harmless).
    """
    entry = Entry(
        kind,
        tuple(legs),
        occurred_on,
        memo,
        commons_id,
        round_id,
        ref,
        reverses_id=reverses.id if reverses else None,
        reverses_hash=identity_hash(reverses.content_hash, reverses.hash) if reverses else None,
    )
    [tx_id] = post_many([entry])
    return db.session.get(LedgerTransaction, tx_id)


def reverse(original: LedgerTransaction, *, occurred_on: date, memo: str, round_id: int | None = None) -> LedgerTransaction:
    """A new transaction with every posting of ``original`` negated, pointing back to it."""
    legs = []
    for posting in original.postings:
        account = posting.account
        spec = AccountSpec(
            account.code, account.name, account.type, account.kind, account.commons_id, account.person_id, account.cae_id
        )
        legs.append(Leg(spec, -posting.amount_cents, posting.memo))
    return post(
        reversal_of(original.kind),
        legs,
        occurred_on=occurred_on,
        memo=memo,
        commons_id=original.commons_id,
        round_id=round_id,
        reverses=original,
    )


def balance(code: str) -> int:
    """Current balance of an account in cents (debits positive); 0 for an unused account."""
    total = db.session.scalar(select(func.coalesce(func.sum(Posting.amount_cents), 0)).join(Account).where(Account.code == code))
    return int(total or 0)
