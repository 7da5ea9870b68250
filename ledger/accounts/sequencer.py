"""The sequencer: gives committed transactions their place in the ledger and signs one checkpoint.

Certificate Transparency logs and Trillian work this way. Writers append format-3 transactions
(their content hash, no ``seq``) without any lock on the whole ledger, so writers of different
commons never wait on each other's commit. The sequencer, one at a time, takes the committed
transactions that have no place yet, oldest id first, gives them the next ``seq``s, links each
to its predecessor (``chain.sequence_link``), numbers their FEC entries in that order, extends the
Merkle tree and signs one checkpoint, all in one short transaction of its own.

A writer of a batch (a round's finalization) places it itself when no sequencer is running
(``place_here``): it takes the sequencer's lock without waiting, and its rows are inserted with
their place, numbered and covered by a checkpoint in its own transaction, as on SQLite — rather
than updated row by row by a second transaction that reads their postings again. Other writers
never wait for it; only their sequencing does, until its commit.

It runs right after every commit that wrote to the ledger (``integrate_after_commit``), waiting
for a sequencer already running, so that when a commit returns its transactions have their place
(the same promise as a write on SQLite, where the writer sequences inside its own transaction,
holding the write lock). The scheduler runs it too (``integrate``, every few seconds), for a
transaction whose writer died between its commit and its sequencing. ``ledger verify`` fails on a
transaction committed longer than ``MAX_DELAY`` ago and still without a place: a log that hides an
entry is the one attack a witness cannot see.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import BigInteger, Connection, Engine, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from ledger.accounts import checkpoints
from ledger.accounts.chain import GENESIS, sequence_link
from ledger.accounts.checkpoints import write_checkpoint
from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.numbering import number_entries
from ledger.extensions import db

# Any constant will do: it names the lock that lets one sequencer run at a time on PostgreSQL.
SEQUENCER_LOCK_KEY = 7_270_003
BATCH = 100_000
# CT's "maximum merge delay": the scheduler's period plus one batch, with a wide margin.
MAX_DELAY = timedelta(seconds=30)
# From this many transactions in one write, a second transaction (an UPDATE of each row, their
# postings read again to number them) costs more than holding the lock until the writer's commit.
WRITER_PLACES_FROM = 50

log = logging.getLogger(__name__)


def deferred(bind=None) -> bool:
    """Whether writes are sequenced after their commit (PostgreSQL) rather than inside it (SQLite)."""
    return (bind or db.session.get_bind()).dialect.name == "postgresql"


def place_here(count: int) -> bool:
    """PostgreSQL: whether this writer gives its ``count`` new transactions their place itself.

    Yes for a batch when the sequencer's lock is free at once (then held until this transaction
    ends), and for any write of a transaction that holds it already; never when this transaction
    has rows waiting for the sequencer (its entries keep their order).
    """
    info = db.session.info
    if info.get(checkpoints.WAITING) or (count < WRITER_PLACES_FROM and not info.get(checkpoints.DUE)):
        return False
    return holds_lock()


def holds_lock() -> bool:
    """Take the sequencer's lock for this transaction if it is free (a no-op when held already)."""
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK_KEY}))


def integrate(engine: Engine | None = None) -> int:
    """Sequence every committed transaction still without a place, in batches; returns how many."""
    engine = engine or db.engine
    if not deferred(engine):
        return 0
    total = 0
    while True:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK_KEY})
            done = _integrate_batch(connection)
        total += done
        if done < BATCH:
            return total


def integrate_after_commit(engine: Engine) -> None:
    """``integrate`` for a writer that just committed: its commit stands whatever happens here."""
    try:
        integrate(engine)
    except Exception:  # the scheduler's run sequences what this one could not
        log.exception("sequencing after a commit failed; the scheduler will retry")


def _integrate_batch(connection: Connection) -> int:
    pending = connection.execute(
        select(LedgerTransaction.id, LedgerTransaction.content_hash)
        .where(LedgerTransaction.seq.is_(None))
        .order_by(LedgerTransaction.id)
        .limit(BATCH)
    ).all()
    if not pending:
        return 0
    last = connection.execute(
        select(LedgerTransaction.seq, LedgerTransaction.hash)
        .where(LedgerTransaction.seq.is_not(None))
        .order_by(LedgerTransaction.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    ids, seqs, prevs, hashes = [], [], [], []
    for tx_id, content in pending:
        seq += 1
        digest = sequence_link(seq, prev_hash, content)
        ids.append(tx_id), seqs.append(seq), prevs.append(prev_hash), hashes.append(digest)
        prev_hash = digest
    # One statement for the batch; the append-only trigger lets exactly this change through.
    connection.execute(
        text(
            "UPDATE ledger_transactions AS t SET seq = v.seq, prev_hash = v.prev, hash = v.hash "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS integer[]), CAST(:prevs AS text[]), "
            "CAST(:hashes AS text[])) AS v(id, seq, prev, hash) WHERE t.id = v.id"
        ),
        {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes},
    )
    accounts_of: dict[int, list[tuple[str, int | None]]] = {tx_id: [] for tx_id in ids}
    for tx_id, kind, commons_id in connection.execute(
        select(Posting.transaction_id, Account.kind, Account.commons_id)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.transaction_id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger))))
        .order_by(Posting.id)
    ):
        accounts_of[tx_id].append((kind, commons_id))
    number_entries(ids, [accounts_of[tx_id] for tx_id in ids], connection)
    write_checkpoint(connection, list(zip(seqs, hashes)))
    return len(ids)
