"""Checking the whole ledger: chain links, hashes, balances, the Merkle tree and its checkpoints.

One pass over the rows, streamed as plain tuples (no ORM objects: a million transactions are
checked in seconds). Every transaction's hash is recomputed from its content and predecessor;
its leaf is added to the tree; at each checkpoint's size the rebuilt root, chain head, frontier,
link and signature must match. Checkpoints saved earlier by someone else (``against``) must be
prefixes of the rebuilt tree: that is what catches a history rewritten and re-signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from ledger.accounts import merkle
from ledger.accounts.chain import GENESIS, PostingData, balance_errors
from ledger.accounts.checkpoints import NoteError, ParsedNote, checkpoint_hash, note_signed_by, parse_note
from ledger.extensions import db

ROWS_SQL = """
SELECT t.id, t.seq, t.kind, t.memo, t.occurred_on, t.recorded_at, t.commons_id, t.round_id,
       r.seq, t.ref, t.prev_hash, t.hash, t.signature, t.key_id, t.format,
       a.code, p.amount_cents, p.memo, a.type, a.person_id, a.commons_id, a.cae_id
FROM ledger_transactions t
LEFT JOIN ledger_postings p ON p.transaction_id = t.id
LEFT JOIN accounts a ON a.id = p.account_id
LEFT JOIN ledger_transactions r ON r.id = t.reverses_id
ORDER BY t.seq, p.id
"""

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


def load_public_keys() -> dict[str, Ed25519PublicKey]:
    """Every key in the published history, by key id."""
    rows = db.session.execute(text("SELECT key_id, public_key FROM ledger_signing_keys"))
    return {key_id: Ed25519PublicKey.from_public_bytes(base64.b64decode(public)) for key_id, public in rows}


def count_transactions() -> int:
    return db.session.execute(text("SELECT COUNT(*) FROM ledger_transactions")).scalar_one()


def stream_rows(batch_size: int = 10_000):
    """Every posting joined to its transaction, in chain order, as plain tuples, streamed.

    A driver cursor in the session's transaction (server-side on PostgreSQL): SQLAlchemy's
    result rows would cost more than all of verify's checks.
    """
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name="ledger_verify")
        cursor.itersize = batch_size
    else:
        cursor = driver.cursor()
        cursor.arraysize = batch_size
    cursor.execute(ROWS_SQL)
    return cursor


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
    report = VerifyReport()
    keys = load_public_keys()
    stored = db.session.execute(text(CHECKPOINTS_SQL)).all()
    report.notes += _key_history_notes()
    rows = stream_rows(batch_size)
    try:
        _walk(report, keys, stored, sorted(against, key=lambda n: n.size), rows, progress, progress_every)
    finally:
        rows.close()  # stopping at the first bad transaction leaves a server-side cursor open
    return report


# One encoder for the whole walk (json.dumps builds a new one per call when given options).
# Its output equals chain.canonical_bytes because the payload is built with its keys in sorted order.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _canonical(head, postings) -> bytes:
    """The bytes ``chain.canonical_bytes`` hashes, built from a row without intermediate objects."""
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


def _walk(report: VerifyReport, keys, stored, saved, rows, progress: Progress | None, every: int) -> None:
    """Check rows in chain order, recording the first failure."""
    sha256, leaf_prefix = hashlib.sha256, b"\x00"
    frontier = merkle.Frontier()
    prev_hash, expected_seq = GENESIS, 1
    cp_index = saved_index = 0
    cp_prev = GENESIS
    head, postings = None, []

    def check_transaction() -> bool:
        nonlocal prev_hash, expected_seq
        tx_id, seq = head[0], head[1]
        report.checked += 1
        v2 = head[14] == 2
        if seq != expected_seq:
            report.fail(tx_id, seq, f"sequence jumps from {expected_seq - 1} to {seq}: a transaction is missing")
        elif head[10] != prev_hash:
            report.fail(tx_id, seq, "does not link to the previous transaction's hash: transactions were removed or reordered")
        elif len(postings) < 2 or sum(p[1] for p in postings) != 0 or not all(p[1] for p in postings):
            legs = [PostingData(p[0], p[1], p[2]) for p in postings]
            report.fail(tx_id, seq, "; ".join(balance_errors(legs)) or "postings do not balance")
        elif sha256(_canonical(head, postings if v2 else [p[:3] for p in postings])).hexdigest() != head[11]:
            report.fail(tx_id, seq, "content does not match its hash: it was altered after it was written")
        elif head[12] and not _signed(keys.get(head[13]), head[11], head[12]):
            report.fail(tx_id, seq, "its signature is not valid for any key in the published key history")
        if not report.ok:
            return False
        prev_hash = head[11]
        expected_seq = seq + 1
        frontier.append(sha256(leaf_prefix + bytes.fromhex(prev_hash)).digest())
        if progress and report.checked % every == 0:
            progress(report.checked)
        return True

    def check_checkpoints() -> bool:
        nonlocal cp_index, cp_prev, saved_index
        size = frontier.size
        while cp_index < len(stored) and stored[cp_index].size <= size:
            if not _check_checkpoint(report, stored[cp_index], frontier, prev_hash, cp_prev, keys):
                return False
            cp_prev = stored[cp_index].hash
            cp_index += 1
        while saved_index < len(saved) and saved[saved_index].size <= size:
            note = saved[saved_index]
            if not any(note_signed_by(note, public.public_bytes_raw()) for public in keys.values()):
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
                    head[0] if head else None,
                    size,
                    f"the ledger does not extend the checkpoint saved at size {size}: its first {size} transactions were rewritten",
                    checkpoint=size,
                )
                return False
            saved_index += 1
        return True

    if not check_checkpoints():  # a saved or stored checkpoint of size 0
        return
    for row in rows:
        if head is None or row[0] != head[0]:
            if head is not None and not (check_transaction() and check_checkpoints()):
                return
            head, postings = row, []
        if row[15] is not None:
            postings.append(row[15:22])  # a tuple encodes as the same JSON list
    if head is not None and not (check_transaction() and check_checkpoints()):
        return
    report.last_hash, report.root = prev_hash, frontier.root().hex()
    report.checkpoints = cp_index
    if cp_index < len(stored):
        cp = stored[cp_index]
        report.fail(
            None, cp.size, f"checkpoint of size {cp.size} covers transactions that are gone: the tail was cut", checkpoint=cp.size
        )
    elif saved_index < len(saved):
        size = saved[saved_index].size
        report.fail(
            None,
            size,
            f"a checkpoint saved at size {size} covers transactions that are gone: the ledger was cut",
            checkpoint=size,
        )
    elif (uncovered := _first_unsigned_after(stored[-1].size if stored else 0)) is not None:
        report.fail(
            None, uncovered, f"transaction seq {uncovered} is covered by no signature nor signed checkpoint: it was added by hand"
        )


def _first_unsigned_after(size: int) -> int | None:
    sql = "SELECT MIN(seq) FROM ledger_transactions WHERE seq > :size AND signature = ''"
    return db.session.execute(text(sql), {"size": size}).scalar()


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


def _key_history_notes() -> list[str]:
    rows = db.session.execute(
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
