"""Signed checkpoints: after every commit that appends transactions, one signed tree head.

A checkpoint states the ledger's Merkle tree size, its RFC 6962 root and the chain head, in the
C2SP ``tlog-checkpoint`` body (origin line, size, base64 root, then our one extension line,
``chain <hex>``), signed as a C2SP signed note with the installation's Ed25519 key:

    <origin>\\n<size>\\n<base64 root>\\nchain <chain head>\\n\\n— <origin> <base64(key hash ‖ signature)>\\n

Anyone who keeps a checkpoint can later ask for a consistency proof and check that the ledger
they see extends the one they saved, which catches a rewritten history even when the rewriter
holds the signing key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, event, insert, select

from ledger.accounts import merkle
from ledger.accounts.models import Checkpoint, LedgerTransaction, SigningKeyRecord
from ledger.accounts.signing import SigningKey, current_key, key_id_of_raw, raw_public_key, replace_key_file
from ledger.extensions import db
from ledger.timeutil import utcnow

GENESIS = "0" * 64
SIGNATURE_DASH = "\u2014"  # the em dash that starts a C2SP signature line
# session.info flags: this transaction appended transactions placed in it (checkpoint at its
# commit), or transactions the sequencer places after its commit (PostgreSQL).
DUE = "ledger_checkpoint_due"
WAITING = "ledger_sequencer_due"


class NoteError(ValueError):
    """A text that is not a well-formed signed checkpoint."""


@dataclass(frozen=True)
class ParsedNote:
    origin: str
    size: int
    root: bytes
    chain_head: str | None
    body: str
    signatures: list[tuple[str, bytes, bytes]]  # (key name, 4-byte key hash, signature)


def note_key_hash(name: str, public_raw: bytes) -> bytes:
    """C2SP signed-note key id of an Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public_raw).digest()[:4]


def checkpoint_body(origin: str, size: int, root: bytes, chain_head: str) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\nchain {chain_head}\n"


def sign_note(body: str, origin: str, key: SigningKey) -> str:
    """The signed note: the body, a blank line, one signature line by ``key`` named ``origin``."""
    signature = key.private.sign(body.encode())
    blob = base64.b64encode(note_key_hash(origin, raw_public_key(key)) + signature).decode()
    return f"{body}\n{SIGNATURE_DASH} {origin} {blob}\n"


def parse_note(text: str) -> ParsedNote:
    """Split a signed checkpoint into its fields; raises NoteError when it is not one."""
    body, sep, signature_block = text.partition("\n\n")
    if not sep or not signature_block.endswith("\n"):
        raise NoteError("a signed note is a body, a blank line, then signature lines ending in a newline")
    body += "\n"
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint body has an origin, a size and a root")
    origin, size_text, root_text, *extensions = lines
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise NoteError(f"tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError as exc:
        raise NoteError("the root is not base64") from exc
    if len(root) != 32:
        raise NoteError("the root is not a SHA-256 hash")
    chain_head = next((line.removeprefix("chain ") for line in extensions if line.startswith("chain ")), None)
    signatures = []
    for line in signature_block[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, blob_text = rest.rpartition(" ")
        try:
            blob = base64.b64decode(blob_text, validate=True)
        except ValueError as exc:
            raise NoteError("a signature is not base64") from exc
        if dash != SIGNATURE_DASH or not name or len(blob) < 5:
            raise NoteError(f"not a signature line: {line!r}")
        signatures.append((name, blob[:4], blob[4:]))
    return ParsedNote(origin, int(size_text), root, chain_head, body, signatures)


def note_signed_by(note: ParsedNote, public_raw: bytes) -> bool:
    """Whether one of the note's signatures is by this Ed25519 key under the note's origin."""
    public = Ed25519PublicKey.from_public_bytes(public_raw)
    wanted = note_key_hash(note.origin, public_raw)
    for name, key_hash, signature in note.signatures:
        if name == note.origin and key_hash == wanted:
            try:
                public.verify(signature, note.body.encode())
            except InvalidSignature:
                return False
            return True
    return False


def checkpoint_hash(row: dict, prev_hash: str) -> str:
    """SHA-256 over a checkpoint's stored fields and its predecessor's hash (hash-linked rows)."""
    payload = {name: row[name] for name in ("size", "root", "chain_head", "created_at", "key_id", "note", "frontier")}
    payload["prev"] = prev_hash
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def origin() -> str:
    from flask import current_app

    return current_app.config["LEDGER_ORIGIN"]


def mark_due(placed: bool) -> None:
    """Called by ``post_many``: this transaction's commit appends one checkpoint (``placed``), or
    the sequencer places and signs just after it."""
    db.session.info[DUE if placed else WAITING] = True


def record_key(key: SigningKey, connection: Connection | None = None) -> None:
    """Publish ``key`` in the key history the first time it signs (a key after a loss, unannounced)."""
    connection = connection or db.session.connection()
    if connection.scalar(select(SigningKeyRecord.id).where(SigningKeyRecord.key_id == key.key_id)) is None:
        connection.execute(
            insert(SigningKeyRecord).values(
                key_id=key.key_id,
                public_key=base64.b64encode(raw_public_key(key)).decode(),
                added_at=utcnow().isoformat(timespec="seconds"),
            )
        )


def rotate_signing_key() -> tuple[str, str]:
    """Replace the signing key: the new key is announced in the history, signed by the old one.

    Returns (old key id, new key id). The caller commits before ``install_signing_key`` puts the
    new key in the key file: until then the old key keeps signing, and both are in the history.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    old = current_key()
    record_key(old)
    new = Ed25519PrivateKey.generate()
    new_raw = new.public_key().public_bytes_raw()
    new_id = key_id_of_raw(new_raw)
    db.session.execute(
        insert(SigningKeyRecord).values(
            key_id=new_id,
            public_key=base64.b64encode(new_raw).decode(),
            added_at=utcnow().isoformat(timespec="seconds"),
            announced_by=old.key_id,
            announcement=base64.b64encode(old.private.sign(new_raw)).decode(),
        )
    )
    db.session.info["ledger_next_signing_key"] = new
    return old.key_id, new_id


def install_signing_key() -> None:
    """After the rotation committed: write the new key to the key file (mode 0600, atomically)."""
    from flask import current_app

    new = db.session.info.pop("ledger_next_signing_key")
    replace_key_file(current_app.config["LEDGER_SIGNING_KEY_FILE"], new)


def latest() -> Checkpoint | None:
    return db.session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()


def write_checkpoint(connection: Connection | None = None, appended: list[tuple[int, str]] | None = None) -> int | None:
    """Append the checkpoint covering every sequenced transaction so far; returns its size (None
    when nothing is new). On ``connection``: the session's by default, the sequencer's own on
    PostgreSQL.

    Extends the previous checkpoint's frontier with the new transactions only: a commit of k
    transactions reads k hashes, whatever the ledger's size (none when the sequencer gives the
    (seq, hash) pairs it ``appended`` right after the previous checkpoint).
    """
    connection = connection or db.session.connection()
    last = connection.execute(
        select(Checkpoint.size, Checkpoint.frontier, Checkpoint.hash).order_by(Checkpoint.size.desc()).limit(1)
    ).first()
    frontier = merkle.Frontier(last.size, [bytes.fromhex(h) for h in last.frontier.split()]) if last else merkle.Frontier()
    head = None
    if not appended or appended[0][0] != frontier.size + 1:
        appended = connection.execute(
            select(LedgerTransaction.seq, LedgerTransaction.hash)
            .where(LedgerTransaction.seq > frontier.size)
            .order_by(LedgerTransaction.seq)
        )
    for seq, digest in appended:
        if seq != frontier.size + 1:
            raise RuntimeError(f"the ledger jumps from seq {frontier.size} to {seq}: no checkpoint over a gap")
        frontier.append(merkle.leaf_hash(bytes.fromhex(digest)))
        head = digest
    if head is None:
        return None
    key = current_key()
    record_key(key, connection)
    row = checkpoint_row(frontier, head, last.hash if last else GENESIS, key, origin())
    connection.execute(insert(Checkpoint).values(**row))
    return frontier.size


def checkpoint_row(frontier: merkle.Frontier, chain_head: str, prev_hash: str, key: SigningKey, name: str) -> dict:
    """The stored fields of the checkpoint over ``frontier``, signed by ``key`` under origin ``name``."""
    root = frontier.root()
    row = {
        "size": frontier.size,
        "root": root.hex(),
        "chain_head": chain_head,
        "created_at": utcnow().isoformat(timespec="microseconds"),
        "key_id": key.key_id,
        "note": sign_note(checkpoint_body(name, frontier.size, root, chain_head), name, key),
        "frontier": " ".join(h.hex() for h in frontier.hashes),
    }
    row.update(prev_hash=prev_hash, hash=checkpoint_hash(row, prev_hash))
    return row


def _checkpoint_before_commit(session) -> None:
    # The transactions placed in this transaction (SQLite's writer, a PostgreSQL writer holding
    # the sequencer's lock): their checkpoint is part of their commit, the outermost one (a
    # savepoint released is not). On PostgreSQL the lock is taken again: a savepoint rolled back
    # releases it with the rows it placed, and then the sequencer signs after the commit.
    if session.get_nested_transaction() is not None or not session.info.pop(DUE, False):
        return
    if session.get_bind().dialect.name == "postgresql":
        from ledger.accounts import sequencer

        if not sequencer.holds_lock():
            session.info[WAITING] = True
            return
    write_checkpoint()


def _sequence_after_commit(session) -> None:
    # PostgreSQL: the sequencer gives the committed transactions their place and signs, in a
    # transaction of its own (ledger.accounts.sequencer). A savepoint released (SQLAlchemy
    # calls that a commit too) leaves the transaction open: nothing is committed yet.
    if session.get_nested_transaction() is not None:
        return
    if session.info.pop(WAITING, False):
        from ledger.accounts import sequencer

        sequencer.integrate_after_commit(session.get_bind())


def _forget_on_rollback(session) -> None:
    if session.get_nested_transaction() is None:  # a savepoint rolled back leaves the rest due
        session.info.pop(DUE, None)
        session.info.pop(WAITING, None)


def install() -> None:
    """Sign the checkpoint at the commit point of every session that appended to the ledger."""
    from flask_sqlalchemy.session import Session

    if not event.contains(Session, "before_commit", _checkpoint_before_commit):
        event.listen(Session, "before_commit", _checkpoint_before_commit)
        event.listen(Session, "after_commit", _sequence_after_commit)
        event.listen(Session, "after_rollback", _forget_on_rollback)


def leaf_hashes(size: int) -> list[bytes]:
    """The tree's first ``size`` leaves (one row per sequenced transaction, hashes only)."""
    rows = db.session.execute(select(LedgerTransaction.hash).where(LedgerTransaction.seq <= size).order_by(LedgerTransaction.seq))
    return [merkle.leaf_hash(bytes.fromhex(digest)) for (digest,) in rows]
