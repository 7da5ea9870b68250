"""Checking the whole ledger: chain links, hashes, signatures and balance."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from itertools import groupby

from cryptography.exceptions import InvalidSignature
from sqlalchemy import select

from ledger.accounts.chain import GENESIS, PostingData, TransactionData, balance_errors, link_hash
from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.signing import SigningKey
from ledger.extensions import db


@dataclass
class VerifyReport:
    ok: bool = True
    checked: int = 0
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    def fail(self, tx_id: int, seq: int, reason: str) -> None:
        if self.ok:
            self.ok, self.first_bad_id, self.first_bad_seq, self.reason = False, tx_id, seq, reason

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "last_hash": self.last_hash,
            "first_bad": None if self.ok else {"id": self.first_bad_id, "seq": self.first_bad_seq, "reason": self.reason},
        }


def _rows(batch_size: int):
    """Every posting joined to its transaction, in chain order, fetched in batches."""
    id_by_seq = dict(db.session.execute(select(LedgerTransaction.id, LedgerTransaction.seq)).all())
    query = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.seq,
            LedgerTransaction.kind,
            LedgerTransaction.memo,
            LedgerTransaction.occurred_on,
            LedgerTransaction.recorded_at,
            LedgerTransaction.commons_id,
            LedgerTransaction.round_id,
            LedgerTransaction.reverses_id,
            LedgerTransaction.ref,
            LedgerTransaction.prev_hash,
            LedgerTransaction.hash,
            LedgerTransaction.signature,
            LedgerTransaction.key_id,
            Account.code,
            Posting.amount_cents,
            Posting.memo.label("posting_memo"),
        )
        .outerjoin(Posting, Posting.transaction_id == LedgerTransaction.id)
        .outerjoin(Account, Account.id == Posting.account_id)
        .order_by(LedgerTransaction.seq, Posting.id)
        .execution_options(yield_per=batch_size)
    )
    return id_by_seq, db.session.execute(query)


def verify_ledger(key: SigningKey, *, batch_size: int = 5000) -> VerifyReport:
    """Walk the chain from the first transaction and report the first one that does not hold.

    A transaction is bad when its postings do not balance, its hash does not match its content
    and predecessor, its predecessor link is wrong, a sequence number is missing, or its
    signature is not the installation key's.
    """
    report = VerifyReport()
    id_by_seq, rows = _rows(batch_size)
    try:
        report.last_hash = _walk(report, key, id_by_seq, rows)
    finally:
        rows.close()  # stopping at the first bad transaction leaves a server-side cursor open
    return report


def _walk(report: VerifyReport, key: SigningKey, id_by_seq: dict, rows) -> str:
    """Check rows in chain order, recording the first failure; returns the last good hash."""
    public = key.private.public_key()
    prev_hash = GENESIS
    expected_seq = 1
    for (tx_id, seq), group in groupby(rows, key=lambda row: (row.id, row.seq)):
        group = list(group)
        head = group[0]
        report.checked += 1
        postings = tuple(PostingData(row.code, row.amount_cents, row.posting_memo) for row in group if row.code is not None)
        reverses_seq = id_by_seq.get(head.reverses_id) if head.reverses_id else None
        data = TransactionData(
            seq=seq,
            kind=head.kind,
            memo=head.memo,
            occurred_on=head.occurred_on.isoformat(),
            recorded_at=head.recorded_at,
            commons_id=head.commons_id,
            round_id=head.round_id,
            reverses_seq=reverses_seq,
            ref=head.ref,
            postings=postings,
        )
        if seq != expected_seq:
            report.fail(tx_id, seq, f"sequence jumps from {expected_seq - 1} to {seq}: a transaction is missing")
        elif head.prev_hash != prev_hash:
            report.fail(tx_id, seq, "does not link to the previous transaction's hash")
        elif errors := balance_errors(postings):
            report.fail(tx_id, seq, "; ".join(errors))
        elif link_hash(data, prev_hash) != head.hash:
            report.fail(tx_id, seq, "content does not match its hash: it was altered after it was written")
        elif head.key_id != key.key_id or not _signed(public, head.hash, head.signature):
            report.fail(tx_id, seq, "signature is not valid for the installation's public key")
        if not report.ok:
            break
        prev_hash = head.hash
        expected_seq = seq + 1
    return prev_hash


def _signed(public, digest: str, signature_b64: str) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), digest.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
