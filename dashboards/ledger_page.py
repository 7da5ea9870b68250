"""The public ledger page: a filtered page of transactions, each checked on the spot.

Checking the whole chain walks every transaction, too slow for every page view of a large
installation; so each row shown is checked by itself — its hash recomputed from its content and
its predecessor's hash, its link to that predecessor, and either its own signature (ledgers
written before checkpoints) or its place under the latest signed checkpoint — and the page links
to ``GET /api/v1/ledger/verify`` for the whole chain and the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ledger.accounts.chain import GENESIS, balance_errors, content_hash, identity_hash, link_hash, sequence_link
from ledger.accounts.models import Checkpoint, LedgerTransaction, Posting
from ledger.accounts.monthly import MonthlyTotal
from ledger.accounts.receipts import transaction_data
from ledger.accounts.signing import verify_signature
from ledger.commons.models import Commons
from ledger.extensions import db

PER_PAGE = 50


@dataclass
class Filters:
    commons: Commons | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def conditions(self) -> list:
        conditions = []
        if self.commons is not None:
            conditions.append(LedgerTransaction.commons_id == self.commons.id)
        if self.kind:
            conditions.append(LedgerTransaction.kind == self.kind)
        if self.date_from:
            conditions.append(LedgerTransaction.occurred_on >= self.date_from)
        if self.date_to:
            conditions.append(LedgerTransaction.occurred_on <= self.date_to)
        return conditions


def parse_filters(args, messages: dict[str, str]) -> Filters:
    """Filters from the query string; a bad value is reported on its field (``messages`` holds
    the translated texts) and ignored."""
    filters = Filters()
    slug = (args.get("commons") or "").strip()
    if slug:
        filters.commons = db.session.scalar(select(Commons).where(Commons.slug == slug))
        if filters.commons is None:
            filters.errors["commons"] = messages["commons"]
    kind = (args.get("kind") or "").strip()
    if kind:
        if kind in kinds():
            filters.kind = kind
        else:
            filters.errors["kind"] = messages["kind"]
    for name in ("date_from", "date_to"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                setattr(filters, name, date.fromisoformat(text))
            except ValueError:
                filters.errors[name] = messages["date"]
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        filters.errors["date_to"] = messages["order"]
        filters.date_to = None
    page = (args.get("page") or "1").strip()
    if page.isdigit() and 1 <= int(page) <= 10_000_000:
        filters.page = int(page)
    else:
        filters.errors["page"] = messages["page"]
    return filters


def kinds() -> list[str]:
    """The transaction kinds the ledger holds, for the filter. Read from the monthly totals (a
    row per month, commons, account kind and transaction kind) rather than as DISTINCT over every
    transaction, 20 ms at a million: every transaction has postings, so every kind is there."""
    return list(db.session.scalars(select(MonthlyTotal.tx_kind).distinct().order_by(MonthlyTotal.tx_kind)))


@dataclass
class Row:
    tx: LedgerTransaction
    commons: str | None
    amount_cents: int
    status: str  # "verified", "altered", "unlinked", "unsigned", "unbalanced"


def page_of(filters: Filters, public_pem: str, key_id: str) -> tuple[int, list[Row]]:
    """(total matching, the rows of the requested page, newest first, each with its check)."""
    conditions = filters.conditions()
    # The chain numbers its transactions 1, 2, 3… without gaps, so the last number is the count
    # of an unfiltered page: one index lookup instead of counting a million rows.
    counted = func.count(LedgerTransaction.id) if conditions else func.max(LedgerTransaction.seq)
    # The page shows the log: a transaction joins it when the sequencer has given it its place.
    placed = LedgerTransaction.seq.is_not(None)
    total = db.session.scalar(select(counted).where(*conditions, placed)) or 0
    txs = db.session.scalars(
        select(LedgerTransaction)
        .where(*conditions, placed)
        .options(selectinload(LedgerTransaction.postings).selectinload(Posting.account))
        .order_by(LedgerTransaction.seq.desc())
        .offset((filters.page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    if not txs:
        return total, []
    # The hashes of each predecessor and the sequence numbers of reversed transactions.
    wanted = {tx.seq - 1 for tx in txs}
    prev = dict(
        db.session.execute(select(LedgerTransaction.seq, LedgerTransaction.hash).where(LedgerTransaction.seq.in_(wanted))).all()
    )
    reversed_ids = {tx.reverses_id for tx in txs if tx.reverses_id}
    reversed_of = {
        tx_id: (seq, identity_hash(content, digest))
        for tx_id, seq, content, digest in (
            db.session.execute(
                select(LedgerTransaction.id, LedgerTransaction.seq, LedgerTransaction.content_hash, LedgerTransaction.hash).where(
                    LedgerTransaction.id.in_(reversed_ids)
                )
            ).all()
            if reversed_ids
            else []
        )
    }
    names = dict(
        db.session.execute(
            select(Commons.id, Commons.name).where(Commons.id.in_({tx.commons_id for tx in txs if tx.commons_id}))
        ).all()
    )
    covered = db.session.scalar(select(func.max(Checkpoint.size))) or 0
    rows = []
    for tx in txs:
        amount = sum(p.amount_cents for p in tx.postings if p.amount_cents > 0)
        rows.append(
            Row(
                tx,
                names.get(tx.commons_id),
                amount,
                check(
                    tx,
                    prev.get(tx.seq - 1, GENESIS if tx.seq == 1 else None),
                    reversed_of.get(tx.reverses_id, (None, None)),
                    public_pem,
                    key_id,
                    covered,
                ),
            )
        )
    return total, rows


def check(
    tx: LedgerTransaction,
    prev_hash: str | None,
    reversed_: tuple[int | None, str | None],
    public_pem: str,
    key_id: str,
    covered_size: int,
) -> str:
    """The status of one transaction checked by itself (see the module docstring); ``reversed_``:
    the seq and identity hash of the transaction it reverses."""
    data = transaction_data(tx, *reversed_)
    if balance_errors(data.postings):
        return "unbalanced"
    if prev_hash is None or tx.prev_hash != prev_hash:
        return "unlinked"
    if tx.format == 3:
        if content_hash(data) != tx.content_hash or sequence_link(tx.seq, tx.prev_hash, tx.content_hash) != tx.hash:
            return "altered"
    elif link_hash(data, tx.prev_hash) != tx.hash:
        return "altered"
    if tx.signature:
        if tx.key_id != key_id or not verify_signature(public_pem, tx.hash.encode(), tx.signature):
            return "unsigned"
    elif tx.seq > covered_size:
        return "unsigned"
    return "verified"
