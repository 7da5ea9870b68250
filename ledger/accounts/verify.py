"""Checking the whole ledger: chain links, hashes, balances, the Merkle tree and its checkpoints.

One pass over the rows, streamed as plain tuples (no ORM objects: a million transactions are
checked in seconds). The transactions and the postings are read as two streams, each in the
order of its own index (seq, and the postings' id), and merged in Python: one join per posting
cost more than every check together. Every transaction's hash is recomputed from its content and predecessor;
its leaf is added to the tree; at each checkpoint's size the rebuilt root, chain head, frontier,
link and signature must match. Checkpoints saved earlier by someone else (``against``) must be
prefixes of the rebuilt tree: that is what catches a history rewritten and re-signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, groupby, pairwise
from json.encoder import encode_basestring
from operator import itemgetter

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, text

from ledger.accounts import merkle
from ledger.accounts.chain import GENESIS, PostingData, balance_errors, link_payload
from ledger.accounts.checkpoints import NoteError, ParsedNote, checkpoint_hash, note_signed_by, parse_note
from ledger.accounts.sequencer import MAX_DELAY
from ledger.extensions import db
from ledger.timeutil import utcnow

# The general query: every posting joined to its transaction and account, in chain order.
# A transaction the sequencer has not placed yet has no seq: it is counted apart (``_unplaced``).
ROWS_SQL = """
SELECT t.id, t.seq, t.kind, t.memo, t.occurred_on, t.recorded_at, t.commons_id, t.round_id,
       r.seq, t.ref, t.prev_hash, t.hash, t.signature, t.key_id, t.format,
       t.content_hash, COALESCE(r.content_hash, r.hash),
       a.code, p.amount_cents, p.memo, a.type, a.person_id, a.commons_id, a.cae_id
FROM ledger_transactions t
LEFT JOIN ledger_postings p ON p.transaction_id = t.id
LEFT JOIN accounts a ON a.id = p.account_id
LEFT JOIN ledger_transactions r ON r.id = t.reverses_id
WHERE t.seq IS NOT NULL
ORDER BY t.seq, p.id
"""

# The fast path's two streams: the same columns, no join per posting (accounts come from a dict).
TRANSACTIONS_SQL = """
SELECT t.id, t.seq, t.kind, t.memo, t.occurred_on, t.recorded_at, t.commons_id, t.round_id,
       r.seq, t.ref, t.prev_hash, t.hash, t.signature, t.key_id, t.format,
       t.content_hash, COALESCE(r.content_hash, r.hash)
FROM ledger_transactions t
LEFT JOIN ledger_transactions r ON r.id = t.reverses_id
WHERE t.seq IS NOT NULL
ORDER BY t.seq
"""
# In id order, each transaction's postings together: on SQLite the one writer at a time inserts
# them so; on PostgreSQL writers insert at once and their ids interleave, hence the sort.
POSTINGS_SQL = {
    "sqlite": "SELECT transaction_id, account_id, amount_cents, memo FROM ledger_postings ORDER BY id",
    "postgresql": "SELECT transaction_id, account_id, amount_cents, memo FROM ledger_postings ORDER BY transaction_id, id",
}
# Posting groups the fast path keeps for a transaction sequenced later than its id suggests.
EARLY_LIMIT = 100_000
UNPLACED_SQL = "SELECT id, recorded_at FROM ledger_transactions WHERE seq IS NULL ORDER BY id"
ACCOUNTS_SQL = "SELECT id, code, type, person_id, commons_id, cae_id FROM accounts"

CHECKPOINTS_SQL = """
SELECT id, size, root, chain_head, created_at, key_id, note, frontier, prev_hash, hash
FROM ledger_checkpoints ORDER BY size, id
"""

Progress = Callable[[int], None]


@dataclass
class VerifyReport:
    ok: bool = True
    checked: int = 0
    checkpoints: int = 0
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    first_bad_checkpoint: int | None = None  # its tree size
    reason: str | None = None
    last_hash: str = GENESIS
    root: str | None = None
    notes: list[str] = field(default_factory=list)  # true and worth knowing, not failures

    def fail(self, tx_id: int | None, seq: int | None, reason: str, checkpoint: int | None = None) -> None:
        if self.ok:
            self.ok, self.first_bad_id, self.first_bad_seq, self.reason = False, tx_id, seq, reason
            self.first_bad_checkpoint = checkpoint

    def as_dict(self) -> dict:
        first_bad = None
        if not self.ok:
            first_bad = {
                "id": self.first_bad_id,
                "seq": self.first_bad_seq,
                "checkpoint": self.first_bad_checkpoint,
                "reason": self.reason,
            }
        return {
            "ok": self.ok,
            "checked": self.checked,
            "checkpoints": self.checkpoints,
            "last_hash": self.last_hash,
            "root": self.root,
            "first_bad": first_bad,
            "notes": self.notes,
        }


@contextmanager
def snapshot() -> Iterator[Connection]:
    """One consistent view of the ledger for every statement verify runs.

    On PostgreSQL each READ COMMITTED statement sees the commits made before it started, so a
    round finalized between the checkpoints' read and the transactions' would show transactions
    that no checkpoint read covers. A REPEATABLE READ, read-only transaction on a connection of its
    own freezes one view. SQLite's deferred transaction is already one snapshot from its first
    read (WAL), and the session's connection also sees what the caller has not yet committed.
    """
    if db.engine.dialect.name != "postgresql":
        yield db.session.connection()
        return
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield connection
        finally:
            connection.rollback()


def load_public_keys(connection: Connection) -> dict[str, Ed25519PublicKey]:
    """Every key in the published history, by key id."""
    rows = connection.execute(text("SELECT key_id, public_key FROM ledger_signing_keys"))
    return {key_id: Ed25519PublicKey.from_public_bytes(base64.b64decode(public)) for key_id, public in rows}


def count_transactions() -> int:
    return db.session.execute(text("SELECT COUNT(*) FROM ledger_transactions")).scalar_one()


def _cursor(connection: Connection | None, sql: str, name: str, batch_size: int):
    """A driver cursor in ``connection``'s transaction (the session's by default; server-side on
    PostgreSQL), running ``sql``.

    SQLAlchemy's result rows would cost more than all of verify's checks.
    """
    connection = connection or db.session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name=name)
        cursor.itersize = batch_size
    else:
        cursor = driver.cursor()
        cursor.arraysize = batch_size
    cursor.execute(sql)
    return cursor


def stream_rows(batch_size: int = 10_000, connection: Connection | None = None):
    """Every posting joined to its transaction, in chain order, as plain tuples, streamed."""
    return _cursor(connection, ROWS_SQL, "ledger_verify", batch_size)


def stream_transactions(batch_size: int = 10_000, connection: Connection | None = None):
    """Every transaction in chain order, without its postings (the fast path's first stream)."""
    return _cursor(connection, TRANSACTIONS_SQL, "ledger_verify_transactions", batch_size)


def stream_postings(batch_size: int = 10_000, connection: Connection | None = None):
    """Every posting, each transaction's together in id order: (transaction id, account id, amount,
    memo) (the second stream)."""
    dialect = (connection or db.session.connection()).dialect.name
    return _cursor(connection, POSTINGS_SQL[dialect], "ledger_verify_postings", batch_size)


def batched(cursor, batch_size: int = 10_000):
    """A cursor's rows, fetched ``batch_size`` at a time: psycopg's row-by-row iteration of a
    server-side cursor is a Python call per row, more than verify's own work on it."""
    return chain.from_iterable(iter(partial(cursor.fetchmany, batch_size), []))


def load_accounts(connection: Connection) -> dict[int, tuple[str, tuple]]:
    """Every account by id: its code and the owners a format-2 hash covers (type, person, commons, CAE)."""
    rows = connection.execute(text(ACCOUNTS_SQL))
    return {row[0]: (row[1], tuple(row[2:])) for row in rows}


def verify_ledger(
    *,
    against: Sequence[ParsedNote] = (),
    progress: Progress | None = None,
    progress_every: int = 10_000,
    batch_size: int = 10_000,
) -> VerifyReport:
    """Walk the chain from the first transaction and report the first transaction or checkpoint that does not hold.

    A transaction is bad when its postings do not balance, its hash does not match its content
    and predecessor, its predecessor link is wrong, a sequence number is missing, its old-style
    signature fails, or no checkpoint covers it. A checkpoint is bad when its root, chain head,
    frontier, link or signature does not match the rebuilt tree, or its size exceeds the ledger
    (the tail was cut). A saved checkpoint in ``against`` is bad when the ledger does not extend it.
    """
    with snapshot() as connection:
        return _verify(connection, sorted(against, key=lambda n: n.size), progress, progress_every, batch_size)


def _verify(connection: Connection, saved, progress, progress_every: int, batch_size: int) -> VerifyReport:
    keys = load_public_keys(connection)
    stored = connection.execute(text(CHECKPOINTS_SQL)).all()
    notes = _key_history_notes(connection)
    unplaced = connection.execute(text(UNPLACED_SQL)).all()
    late = _late(unplaced)
    if unplaced and late is None:
        notes.append(
            f"{len(unplaced)} transaction(s) committed in the last {int(MAX_DELAY.total_seconds())} s are waiting for "
            "the sequencer: not yet in a signed checkpoint"
        )
    walk = _Walk(connection, VerifyReport(notes=list(notes)), keys, stored, saved, progress, progress_every)
    transactions = stream_transactions(batch_size, connection)
    postings = stream_postings(batch_size, connection)
    try:
        accounts = load_accounts(connection)
        fast_ok = (
            late is None
            and walk.fast(batched(transactions, batch_size), batched(postings, batch_size), accounts, {r.id for r in unplaced})
            and walk.finish()
        )
    finally:
        transactions.close()  # stopping at the first bad transaction leaves server-side cursors open
        postings.close()
    if fast_ok:
        return walk.report
    # The fast path only ever says "all holds". Anything else (a failure to name, postings whose
    # order does not follow the chain's, a value of an unexpected type) is decided by the general
    # query and the checks written for clarity, which name the first failure.
    walk = _Walk(connection, VerifyReport(notes=list(notes)), keys, stored, saved, progress, progress_every)
    if late is not None:
        walk.report.fail(
            late.id,
            None,
            f"committed at {late.recorded_at} and still not in the log after {int(MAX_DELAY.total_seconds())} s: "
            "a transaction the log does not show",
        )
        return walk.report
    rows = stream_rows(batch_size, connection)
    try:
        if walk.checkpoints():  # a saved or stored checkpoint of size 0
            for head, postings in _grouped(batched(rows, batch_size)):
                if not walk.transaction(head, postings):
                    break
            else:
                walk.finish()
    finally:
        rows.close()
    return walk.report


def _late(unplaced):
    """The first transaction without a place committed longer than the sequencer's maximum delay ago."""
    limit = (utcnow() - MAX_DELAY).isoformat(timespec="microseconds")
    return next((row for row in unplaced if row.recorded_at < limit), None)


def _grouped(rows):
    """(transaction row, postings) in chain order, from the general query's joined rows."""
    head, legs = None, []
    for row in rows:
        if head is None or row[0] != head[0]:
            if head is not None:
                yield head, legs
            head, legs = row, []
        if row[17] is not None:
            legs.append(row[17:24])  # a tuple encodes as the same JSON list
    if head is not None:
        yield head, legs


# One encoder for the whole walk (json.dumps builds a new one per call when given options).
# Its output equals chain.canonical_bytes because the payload is built with its keys in sorted order.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _content(head, postings) -> bytes:
    """The bytes ``chain.content_hash`` hashes (format 3), built from a row."""
    occurred_on = head[4] if isinstance(head[4], str) else head[4].isoformat()
    payload = {
        "commons_id": head[6],
        "format": 3,
        "kind": head[2],
        "memo": head[3],
        "occurred_on": occurred_on,
        "postings": postings,
        "recorded_at": head[5],
        "ref": head[9],
        "reverses": head[16],
        "round_id": head[7],
    }
    return _encode(payload).encode()


def _link(seq: int, prev: str, content: str) -> bytes:
    """The bytes ``chain.sequence_link`` hashes."""
    return _encode(link_payload(seq, prev, content)).encode()


def _canonical(head, postings) -> bytes:
    """The bytes ``chain.canonical_bytes`` hashes (formats 1 and 2), built from a row without intermediate objects."""
    occurred_on = head[4] if isinstance(head[4], str) else head[4].isoformat()
    if head[14] == 1:
        payload = {"commons_id": head[6], "kind": head[2]}
    else:
        payload = {"commons_id": head[6], "format": head[14], "kind": head[2]}
    payload["memo"] = head[3]
    payload["occurred_on"] = occurred_on
    payload["postings"] = postings
    payload["prev"] = head[10]
    payload["recorded_at"] = head[5]
    payload["ref"] = head[9]
    payload["reverses_seq"] = head[8]
    payload["round_id"] = head[7]
    payload["seq"] = head[1]
    return _encode(payload).encode()


class _Unusual(Exception):
    """The fast path met something it does not decide: the general walk will."""


def _number(value) -> str:
    """A nullable integer as JSON encodes it; _Unusual for any other type.

    (The drivers return int, never bool, for integer columns; int.__repr__ refuses a str.)
    """
    if value is None:
        return "null"
    try:
        return int.__repr__(value)
    except TypeError:
        raise _Unusual from None


def _account_pieces(accounts: dict[int, tuple[str, tuple]]) -> dict[int, tuple[str, str]]:
    """Per account, the JSON around a posting's amount and memo: ``["code",`` and ``,type,owners…]``."""
    return {
        account_id: (_encode([code])[:-1] + ",", "," + _encode(list(owners))[1:])
        for account_id, (code, owners) in accounts.items()
    }


class _Walk:
    """The state of one walk along the chain: the tree so far, the next checkpoints, the report."""

    def __init__(self, connection: Connection, report: VerifyReport, keys, stored, saved, progress: Progress | None, every: int):
        self.connection = connection
        self.report, self.keys, self.stored, self.saved = report, keys, stored, saved
        self.progress, self.every = progress, every
        self.frontier = merkle.Frontier()
        self.prev_hash, self.expected_seq = GENESIS, 1
        self.cp_index = self.saved_index = 0
        self.cp_prev = GENESIS
        self.head = None
        self.due = self._next_due()

    def _next_due(self) -> float:
        """The tree size at which the next stored or saved checkpoint is checked."""
        sizes = []
        if self.cp_index < len(self.stored):
            sizes.append(self.stored[self.cp_index].size)
        if self.saved_index < len(self.saved):
            sizes.append(self.saved[self.saved_index].size)
        return min(sizes, default=float("inf"))

    def transaction(self, head, postings) -> bool:
        """Check one transaction (then the checkpoints it completes), naming the first failure."""
        report, self.head = self.report, head
        tx_id, seq = head[0], head[1]
        report.checked += 1
        v2, v3 = head[14] == 2, head[14] == 3
        if seq != self.expected_seq:
            report.fail(tx_id, seq, f"sequence jumps from {self.expected_seq - 1} to {seq}: a transaction is missing")
        elif head[10] != self.prev_hash:
            report.fail(tx_id, seq, "does not link to the previous transaction's hash: transactions were removed or reordered")
        elif len(postings) < 2 or sum(p[1] for p in postings) != 0 or not all(p[1] for p in postings):
            legs = [PostingData(p[0], p[1], p[2]) for p in postings]
            report.fail(tx_id, seq, "; ".join(balance_errors(legs)) or "postings do not balance")
        elif v3 and hashlib.sha256(_content(head, postings)).hexdigest() != head[15]:
            report.fail(tx_id, seq, "content does not match its hash: it was altered after it was written")
        elif v3 and hashlib.sha256(_link(seq, head[10], head[15])).hexdigest() != head[11]:
            report.fail(tx_id, seq, "its place in the ledger does not match its hash: its seq or link was altered")
        elif not v3 and hashlib.sha256(_canonical(head, postings if v2 else [p[:3] for p in postings])).hexdigest() != head[11]:
            report.fail(tx_id, seq, "content does not match its hash: it was altered after it was written")
        elif head[12] and not _signed(self.keys.get(head[13]), head[11], head[12]):
            report.fail(tx_id, seq, "its signature is not valid for any key in the published key history")
        if not report.ok:
            return False
        self.prev_hash = head[11]
        self.expected_seq = seq + 1
        self.frontier.append(merkle.leaf_hash(bytes.fromhex(self.prev_hash)))
        if self.progress and report.checked % self.every == 0:
            self.progress(report.checked)
        return self.frontier.size < self.due or self.checkpoints()

    def fast(self, transactions, postings, accounts: dict[int, tuple[str, tuple]], unplaced: set[int] = frozenset()) -> bool:
        """Whether every transaction holds, from the two streams, as cheaply as Python allows.

        The same checks as ``transaction`` without naming anything: the first doubt returns
        False. The postings are grouped by ``transaction_id``, each group in id order, and each
        group must belong to the next transaction in chain order, or be one met earlier than its
        transaction (writers on PostgreSQL commit in another order than their ids) and kept
        until it comes, or belong to a transaction waiting for the sequencer (``unplaced``): a
        True means each transaction got exactly its own postings, as the general query reads them. The canonical JSON is written
        from pieces (each string through json's own escaping, each account's part encoded once)
        and is byte for byte what ``_canonical`` encodes when every value has its column's type;
        any other type raises _Unusual.
        """
        pieces = _account_pieces(accounts)
        escape, number, int_repr, sha256, fromhex = encode_basestring, _number, int.__repr__, hashlib.sha256, bytes.fromhex
        report, keys, frontier, hashes = self.report, self.keys, self.frontier, self.frontier.hashes
        progress, every = self.progress, self.every
        prev_hash, expected_seq, size, due = self.prev_hash, self.expected_seq, frontier.size, self.due
        groups = groupby(postings, key=itemgetter(0))
        early: dict[int, list] = {}  # posting groups met before their transaction
        if due <= 0 and not self.checkpoints():  # a saved or stored checkpoint of size 0
            return False
        due = self.due
        try:
            for head in transactions:
                (own_id, seq, kind, memo, occurred_on, recorded_at, commons_id, round_id, reverses_seq, ref,
                 prev, digest, signature, key_id, format_, content, reverses) = head  # fmt: skip
                if early and own_id in early:
                    legs = early.pop(own_id)
                else:
                    tx_id, legs = next(groups)
                    while tx_id != own_id:
                        # A group met twice was split (not each transaction's postings together);
                        # a stash this large is no reordering of concurrent commits but a
                        # transaction without postings: the general walk names it.
                        if tx_id in early or len(early) >= EARLY_LIMIT:
                            return False
                        early[tx_id] = list(legs)
                        tx_id, legs = next(groups)
                if seq != expected_seq or prev != prev_hash:
                    return False
                parts, total = [], 0
                v1 = format_ == 1
                if not v1 and format_ != 2 and format_ != 3:
                    return False
                for _, account_id, amount, leg_memo in legs:
                    if type(amount) is not int or not amount or (piece := pieces.get(account_id)) is None:
                        return False
                    total += amount
                    parts.append(f"{piece[0]}{amount},{escape(leg_memo)}{']' if v1 else piece[1]}")
                if total or len(parts) < 2:
                    return False
                if type(occurred_on) is not str:
                    occurred_on = occurred_on.isoformat()
                if format_ == 3:
                    canonical = (
                        f'{{"commons_id":{number(commons_id)},"format":3,"kind":{escape(kind)},'
                        f'"memo":{escape(memo)},"occurred_on":{escape(occurred_on)},"postings":[{",".join(parts)}],'
                        f'"recorded_at":{escape(recorded_at)},"ref":{"null" if ref is None else escape(ref)},'
                        f'"reverses":{"null" if reverses is None else escape(reverses)},"round_id":{number(round_id)}}}'
                    )
                    if type(content) is not str or sha256(canonical.encode()).hexdigest() != content:
                        return False
                    link = f'{{"content":{escape(content)},"format":3,"prev":{escape(prev)},"seq":{int_repr(seq)}}}'
                    if sha256(link.encode()).hexdigest() != digest:
                        return False
                else:
                    format_key = "" if v1 else '"format":2,'
                    canonical = (
                        f'{{"commons_id":{number(commons_id)},{format_key}"kind":{escape(kind)},'
                        f'"memo":{escape(memo)},"occurred_on":{escape(occurred_on)},"postings":[{",".join(parts)}],'
                        f'"prev":{escape(prev)},"recorded_at":{escape(recorded_at)},'
                        f'"ref":{"null" if ref is None else escape(ref)},"reverses_seq":{number(reverses_seq)},'
                        f'"round_id":{number(round_id)},"seq":{int_repr(seq)}}}'
                    )
                    if sha256(canonical.encode()).hexdigest() != digest:
                        return False
                if signature and not _signed(keys.get(key_id), digest, signature):
                    return False
                prev_hash, expected_seq = digest, seq + 1
                # Frontier.append, inlined: the leaf climbs while it completes a perfect subtree.
                node, climb = sha256(b"\x00" + fromhex(digest)).digest(), size
                while climb & 1:
                    node = sha256(b"\x01" + hashes.pop() + node).digest()
                    climb >>= 1
                hashes.append(node)
                size += 1
                frontier.size = size
                report.checked += 1
                if progress and report.checked % every == 0:
                    progress(report.checked)
                if size >= due:
                    self.head, self.prev_hash, self.expected_seq = head, prev_hash, expected_seq
                    if not self.checkpoints():
                        return False
                    due = self.due
            # What is left must be the postings of transactions waiting for the sequencer, once each.
            rest = [tx_id for tx_id, _ in groups]
            if len(set(rest)) != len(rest) or not set(rest) | set(early) <= set(unplaced) or set(rest) & set(early):
                return False
        except (StopIteration, ValueError, TypeError, AttributeError, _Unusual):
            # A transaction without postings; a value of another type than its column's
            # (escape() takes only str, number() only int).
            return False
        self.prev_hash, self.expected_seq = prev_hash, expected_seq
        return True

    def checkpoints(self) -> bool:
        """Check every stored and saved checkpoint the tree has now reached."""
        report, frontier, stored, saved = self.report, self.frontier, self.stored, self.saved
        size = frontier.size
        while self.cp_index < len(stored) and stored[self.cp_index].size <= size:
            if not _check_checkpoint(report, stored[self.cp_index], frontier, self.prev_hash, self.cp_prev, self.keys):
                return False
            self.cp_prev = stored[self.cp_index].hash
            self.cp_index += 1
        while self.saved_index < len(saved) and saved[self.saved_index].size <= size:
            note = saved[self.saved_index]
            if not any(note_signed_by(note, public.public_bytes_raw()) for public in self.keys.values()):
                report.fail(
                    None,
                    note.size,
                    f"the checkpoint saved at size {note.size} is not signed by any key in the ledger's key history: "
                    "the history was replaced, or the file is not this ledger's",
                    checkpoint=note.size,
                )
                return False
            if note.size == size and note.root != frontier.root():
                report.fail(
                    self.head[0] if self.head else None,
                    size,
                    f"the ledger does not extend the checkpoint saved at size {size}: its first {size} transactions were rewritten",
                    checkpoint=size,
                )
                return False
            self.saved_index += 1
        self.due = self._next_due()
        return True

    def finish(self) -> bool:
        """After the last transaction: nothing checkpointed is missing, nothing is left unsigned."""
        report, stored, saved = self.report, self.stored, self.saved
        report.last_hash, report.root = self.prev_hash, self.frontier.root().hex()
        report.checkpoints = self.cp_index
        if self.cp_index < len(stored):
            cp = stored[self.cp_index]
            report.fail(
                None,
                cp.size,
                f"checkpoint of size {cp.size} covers transactions that are gone: the tail was cut",
                checkpoint=cp.size,
            )
        elif self.saved_index < len(saved):
            size = saved[self.saved_index].size
            report.fail(
                None,
                size,
                f"a checkpoint saved at size {size} covers transactions that are gone: the ledger was cut",
                checkpoint=size,
            )
        elif (uncovered := _first_unsigned_after(self.connection, stored[-1].size if stored else 0)) is not None:
            report.fail(
                None,
                uncovered,
                f"transaction seq {uncovered} is covered by no signature nor signed checkpoint: it was added by hand",
            )
        return report.ok


def _first_unsigned_after(connection: Connection, size: int) -> int | None:
    sql = "SELECT MIN(seq) FROM ledger_transactions WHERE seq > :size AND signature = ''"
    return connection.execute(text(sql), {"size": size}).scalar()


def _check_checkpoint(report: VerifyReport, cp, frontier: merkle.Frontier, chain_head: str, prev: str, keys) -> bool:
    report.checkpoints += 1
    where = f"checkpoint of size {cp.size}"
    if cp.size != frontier.size:
        report.fail(
            None, cp.size, f"{where} does not match the ledger: the transaction it ends on is missing", checkpoint=cp.size
        )
        return False
    problem = None
    try:
        note = parse_note(cp.note)
    except NoteError as exc:
        note, problem = None, f"its note is not a signed checkpoint ({exc})"
    root = frontier.root()
    if problem:
        pass
    elif cp.prev_hash != prev:
        problem = "does not link to the previous checkpoint: checkpoints were removed or reordered"
    elif checkpoint_hash(cp._mapping, prev) != cp.hash:
        problem = "content does not match its hash: it was altered after it was written"
    elif cp.root != root.hex() or note.root != root or note.size != cp.size:
        problem = "its root is not the root of the ledger's tree: transactions before it were altered"
    elif cp.chain_head != chain_head or note.chain_head != chain_head:
        problem = "its chain head is not the ledger's hash at that size"
    elif cp.frontier != " ".join(h.hex() for h in frontier.hashes):
        problem = "its frontier is not the tree's"
    elif (public := keys.get(cp.key_id)) is None:
        problem = f"it is signed by key {cp.key_id}, which is not in the published key history"
    elif not note_signed_by(note, public.public_bytes_raw()):
        problem = f"its signature is not valid for key {cp.key_id}"
    if problem:
        report.fail(None, cp.size, f"{where} {problem}", checkpoint=cp.size)
        return False
    return True


def _key_history_notes(connection: Connection) -> list[str]:
    rows = connection.execute(
        text("SELECT key_id, announced_by, announcement, public_key FROM ledger_signing_keys ORDER BY id")
    ).all()
    notes = []
    for previous, row in pairwise(rows):
        if row.announced_by != previous.key_id or not _announced(previous.public_key, row.public_key, row.announcement):
            notes.append(
                f"key {row.key_id} follows key {previous.key_id} without its announcement: after a key loss this is "
                "expected; otherwise compare with checkpoints saved outside the installation (verify --against)"
            )
    return notes


def _announced(previous_public_b64: str, public_b64: str, announcement: str | None) -> bool:
    if not announcement:
        return False
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(previous_public_b64))
    try:
        public.verify(base64.b64decode(announcement), base64.b64decode(public_b64))
    except (InvalidSignature, ValueError):
        return False
    return True


def _signed(public: Ed25519PublicKey | None, digest: str, signature_b64: str) -> bool:
    if public is None:
        return False
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), digest.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


def parse_saved(text_: str) -> list[ParsedNote]:
    """Checkpoints someone saved: a signed note, or the JSON of the checkpoints API (one item or a page)."""
    stripped = text_.lstrip()
    if stripped.startswith(("{", "[")):
        data = json.loads(stripped)
        items = data.get("items", [data]) if isinstance(data, dict) else data
        return [parse_note(item["note"]) for item in items]
    return [parse_note(text_)]
