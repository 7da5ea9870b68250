"""Monthly totals of the ledger, kept beside it for the dashboards.

One row per (month, commons of the transaction, account kind, transaction kind) holds the sum of
the postings and their count. ``post_many`` adds each batch's totals with one upsert in the same
database transaction as the postings, so the totals are exactly the ledger's at every commit: a
dashboard reads a few thousand rows instead of joining every posting to its transaction.

``commons_id`` is 0 for transactions of no commons (a unique key must not hold NULL, which both
engines treat as distinct). ``rebuild_rows`` computes the same rows from the raw ledger: the
migration's backfill, the benchmark's generator and the tests use it to check the totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.bulk import chunks
from ledger.extensions import db

NO_COMMONS = 0
KEY = ("month", "commons_id", "account_kind", "tx_kind")


class MonthlyTotal(db.Model):
    __tablename__ = "ledger_monthly"
    __table_args__ = (UniqueConstraint(*KEY),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-03", of the transaction's occurred_on
    commons_id: Mapped[int] = mapped_column(Integer)  # the transaction's commons, NO_COMMONS for none
    account_kind: Mapped[str] = mapped_column(String(40), index=True)
    tx_kind: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    postings: Mapped[int] = mapped_column(Integer)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


Totals = dict[tuple[str, int, str, str], list[int]]


def totals_of(postings: Iterable[tuple[date, int | None, str, str, int]]) -> Totals:
    """(occurred_on, commons_id, account kind, transaction kind, amount) → summed per key: [cents, count]."""
    totals: Totals = defaultdict(lambda: [0, 0])
    months: dict[date, str] = {}  # a round's 50,000 legs share a day or a few
    for occurred_on, commons_id, account_kind, tx_kind, cents in postings:
        month = months.get(occurred_on) or months.setdefault(occurred_on, month_of(occurred_on))
        total = totals[(month, commons_id or NO_COMMONS, account_kind, tx_kind)]
        total[0] += cents
        total[1] += 1
    return totals


def add(totals: Totals, connection: Connection | None = None) -> None:
    """Add ``totals`` to the stored rows (through the session's connection unless given): one
    upsert per chunk, keys in order, so that two writers of overlapping months lock the same
    rows in the same order and cannot deadlock."""
    if not totals:
        return
    connection = connection or db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    rows = [
        {"month": m, "commons_id": c, "account_kind": a, "tx_kind": t, "amount_cents": cents, "postings": count}
        for (m, c, a, t), (cents, count) in sorted(totals.items())
    ]
    for part in chunks(rows, 1_000):
        statement = dialect.insert(MonthlyTotal.__table__).values(list(part))
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=list(KEY),
                set_={
                    "amount_cents": MonthlyTotal.__table__.c.amount_cents + statement.excluded.amount_cents,
                    "postings": MonthlyTotal.__table__.c.postings + statement.excluded.postings,
                },
            )
        )


def rebuild_rows() -> list[tuple[str, int, str, str, int, int]]:
    """The rows the table should hold, computed from every posting (ordered by key)."""
    raw = db.session.execute(
        select(
            LedgerTransaction.occurred_on,
            LedgerTransaction.commons_id,
            Account.kind,
            LedgerTransaction.kind,
            func.sum(Posting.amount_cents),
            func.count(Posting.id),
        )
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .group_by(LedgerTransaction.occurred_on, LedgerTransaction.commons_id, Account.kind, LedgerTransaction.kind)
    )
    totals: Totals = defaultdict(lambda: [0, 0])
    for occurred_on, commons_id, account_kind, tx_kind, cents, count in raw:
        total = totals[(month_of(occurred_on), commons_id or NO_COMMONS, account_kind, tx_kind)]
        total[0] += int(cents)
        total[1] += int(count)
    return [(*key, cents, count) for key, (cents, count) in sorted(totals.items())]


def stored_rows() -> list[tuple[str, int, str, str, int, int]]:
    """The rows the table holds, in the order of ``rebuild_rows``."""
    t = MonthlyTotal
    query = select(t.month, t.commons_id, t.account_kind, t.tx_kind, t.amount_cents, t.postings)
    return sorted(tuple(row) for row in db.session.execute(query))


def rebuild() -> None:
    """Replace the table's rows with totals computed from the raw ledger (after a bulk load)."""
    db.session.execute(delete(MonthlyTotal))
    add({(m, c, a, t): [cents, count] for m, c, a, t, cents, count in rebuild_rows()})
