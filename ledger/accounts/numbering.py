"""FEC entry numbers (``EcritureNum``), given once when a transaction is recorded and stored.

Each accounting entity keeps its own books: a commons (``commons:<id>``) and the solidarity fund
(``fund``). A transaction gets one number in each entity whose accounts it touches, in the
journal those postings belong to — ``BQ`` when they move the entity's bank account, ``OD``
otherwise — counting 1, 2, 3 … per entity and journal in the order of recording. The FEC reads
these numbers back, so recording a back-dated entry never renumbers the ones before it.

Numbers are given where transactions get their place in the ledger, in that order: by the writer
on SQLite (which holds the write lock), by the sequencer on PostgreSQL (which runs one at a time),
so two writers never draw the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ledger.bulk import insert_rows
from ledger.extensions import db

FUND_ENTITY = "fund"
BANK_KINDS = frozenset({"treasury", "fund:treasury"})


class FecEntryNumber(db.Model):
    __tablename__ = "fec_entry_numbers"
    __table_args__ = (UniqueConstraint("entity", "journal", "number"), UniqueConstraint("transaction_id", "entity"))

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    entity: Mapped[str] = mapped_column(String(24))
    journal: Mapped[str] = mapped_column(String(4))
    number: Mapped[int] = mapped_column(Integer)


def commons_entity(commons_id: int) -> str:
    return f"commons:{commons_id}"


def entity_of(kind: str, commons_id: int | None) -> str | None:
    """Whose books an account belongs to: its commons, the fund, or nobody's (never exported)."""
    if commons_id is not None:
        return commons_entity(commons_id)
    if kind.startswith("fund:"):
        return FUND_ENTITY
    return None


def journals_of(accounts) -> dict[str, str]:
    """For one transaction's accounts ((kind, commons id) of each posting): entity → journal."""
    journals: dict[str, str] = {}
    for kind, commons_id in accounts:
        entity = entity_of(kind, commons_id)
        if entity is not None:
            bank = kind in BANK_KINDS
            journals[entity] = "BQ" if bank or journals.get(entity) == "BQ" else "OD"
    return journals


def number_entries(transaction_ids: Sequence[int], accounts_of: Sequence, connection: Connection | None = None) -> None:
    """Store the FEC numbers of freshly sequenced transactions, in recording order (``accounts_of``:
    per transaction, the (kind, commons id) of each posting's account).

    Two statements whatever the batch's size: the last numbers of the journals concerned, then
    one insert. On ``connection``: the session's by default (the sequencer passes its own).
    """
    connection = connection or db.session.connection()
    wanted = [
        (tx_id, entity, journal)
        for tx_id, accounts in zip(transaction_ids, accounts_of)
        for entity, journal in journals_of(accounts).items()
    ]
    if not wanted:
        return
    entities = sorted({entity for _, entity, _ in wanted})
    last = {
        (entity, journal): number
        for entity, journal, number in connection.execute(
            select(FecEntryNumber.entity, FecEntryNumber.journal, func.max(FecEntryNumber.number))
            .where(FecEntryNumber.entity.in_(entities))
            .group_by(FecEntryNumber.entity, FecEntryNumber.journal)
        )
    }
    rows = []
    for tx_id, entity, journal in wanted:
        number = last.get((entity, journal), 0) + 1
        last[(entity, journal)] = number
        rows.append({"transaction_id": tx_id, "entity": entity, "journal": journal, "number": number})
    insert_rows(FecEntryNumber.__table__, rows, connection)
