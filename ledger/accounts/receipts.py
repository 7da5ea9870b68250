"""Inclusion receipts and consistency proofs: what a person keeps to prove the ledger to others.

A receipt holds one transaction exactly as it was hashed, its leaf index, its audit path and
the signed checkpoint whose root the path leads to. It is checked offline with the public key
alone (``check_receipt``; docs/architecture.md has the same check as a short script).
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.accounts import merkle
from ledger.accounts.chain import (
    PostingData,
    TransactionData,
    canonical_bytes,
    canonical_json,
    content_payload,
    identity_hash,
    link_payload,
)
from ledger.accounts.checkpoints import NoteError, leaf_hashes, note_signed_by, parse_note
from ledger.accounts.models import Checkpoint, LedgerTransaction
from ledger.errors import Conflict, NotFound, field_error
from ledger.extensions import db

RECEIPT_FORMAT = "ledger-receipt/1"


def transaction_data(tx: LedgerTransaction, reverses_seq: int | None, reverses_hash: str | None = None) -> TransactionData:
    """The hashed content of a stored transaction (the one it reverses named by ``reverses_seq`` in
    formats 1 and 2, by ``reverses_hash`` in format 3)."""
    postings = tuple(
        PostingData(
            p.account.code, p.amount_cents, p.memo, p.account.type, p.account.person_id, p.account.commons_id, p.account.cae_id
        )
        for p in tx.postings
    )
    return TransactionData(
        seq=tx.seq,
        kind=tx.kind,
        memo=tx.memo,
        occurred_on=tx.occurred_on.isoformat(),
        recorded_at=tx.recorded_at,
        commons_id=tx.commons_id,
        round_id=tx.round_id,
        reverses_seq=reverses_seq,
        ref=tx.ref,
        postings=postings,
        format=tx.format,
        reverses_hash=reverses_hash,
    )


def hashed_payload(data: TransactionData, prev_hash: str) -> dict:
    """The JSON object whose canonical bytes are the transaction's hash input (format 3: its content's)."""
    if data.format == 3:
        return content_payload(data)
    return json.loads(canonical_bytes(data, prev_hash))


def reversed_identity(tx: LedgerTransaction) -> tuple[int | None, str | None]:
    """(seq, identity hash) of the transaction ``tx`` reverses, as its hash names it."""
    if not tx.reverses_id:
        return None, None
    row = db.session.execute(
        select(LedgerTransaction.seq, LedgerTransaction.content_hash, LedgerTransaction.hash).where(
            LedgerTransaction.id == tx.reverses_id
        )
    ).one()
    return row.seq, identity_hash(row.content_hash, row.hash)


def round_entries_of(round_id: int, person_id: int) -> list[tuple[str, int]]:
    """(kind, transaction id) of what a round wrote for one person: the transactions their receipts prove."""
    refs = [f"round:{round_id}:{what}:{person_id}" for what in ("retribution", "topup", "waive", "to-fund")]
    rows = db.session.execute(
        select(LedgerTransaction.kind, LedgerTransaction.id)
        .where(LedgerTransaction.ref.in_(refs))
        .order_by(LedgerTransaction.seq)
    )
    return [(kind, tx_id) for kind, tx_id in rows]


def receipt(tx_id: int) -> dict:
    """The inclusion receipt of a transaction, against the latest checkpoint."""
    tx = db.session.get(LedgerTransaction, tx_id)
    if tx is None:
        raise NotFound(_l("No ledger transaction %(tx_id)s.", tx_id=tx_id))
    checkpoint = db.session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()
    if tx.seq is None or checkpoint is None or checkpoint.size < tx.seq:
        raise Conflict(
            _l("Transaction %(tx_id)s is not covered by a signed checkpoint yet: try again in a few seconds.", tx_id=tx_id),
            code="not_yet_in_checkpoint",
        )
    reverses_seq, reverses_hash = reversed_identity(tx)
    leaves = leaf_hashes(checkpoint.size)
    path = merkle.inclusion_path(leaves, tx.seq - 1)
    place = {"content_hash": tx.content_hash, "seq": tx.seq, "prev": tx.prev_hash} if tx.format == 3 else {}
    return {
        "format": RECEIPT_FORMAT,
        "transaction_id": tx.id,
        "transaction": hashed_payload(transaction_data(tx, reverses_seq, reverses_hash), tx.prev_hash),
        **place,
        "hash": tx.hash,
        "leaf_index": tx.seq - 1,
        "tree_size": checkpoint.size,
        "audit_path": [base64.b64encode(node).decode() for node in path],
        "checkpoint": checkpoint.note,
        "key_id": checkpoint.key_id,
    }


def check_receipt(data: dict, public_raw: bytes) -> list[str]:
    """What is wrong with a receipt, checked with the public key alone (empty when it proves its transaction)."""

    def sha256_of(payload) -> str:
        return hashlib.sha256(canonical_json(payload)).hexdigest()

    problems = []
    try:
        payload = data["transaction"]
        digest = sha256_of(payload)
        seq = payload.get("seq", 0)
        if payload.get("format") == 3:  # the content's hash, then the sequencer's link over it
            if digest != data["content_hash"]:
                problems.append("the transaction's content does not match its content hash: it was altered")
            seq = int(data["seq"])
            digest = sha256_of(link_payload(seq, str(data["prev"]), digest))
        path = [base64.b64decode(node, validate=True) for node in data["audit_path"]]
        index, size = int(data["leaf_index"]), int(data["tree_size"])
        note = parse_note(data["checkpoint"])
    except (KeyError, TypeError, ValueError, NoteError) as exc:
        return [f"not a receipt: {exc}"]
    if digest != data.get("hash"):
        problems.append("the transaction's content does not match its hash: it was altered")
    if index != seq - 1:
        problems.append("the leaf index is not the transaction's position")
    if note.size != size:
        problems.append("the checkpoint is not of the receipt's tree size")
    leaf = merkle.leaf_hash(bytes.fromhex(digest))
    if not merkle.verify_inclusion(leaf, index, size, path, note.root):
        problems.append("the audit path does not lead from the transaction to the checkpoint's root")
    try:
        Ed25519PublicKey.from_public_bytes(public_raw)
        signed = note_signed_by(note, public_raw)
    except ValueError:
        signed = False
    if not signed:
        problems.append("the checkpoint is not signed by this public key")
    return problems


def consistency(old_size: int, new_size: int) -> dict:
    """An RFC 6962 consistency proof between two tree sizes of the ledger."""
    current = db.session.scalar(select(Checkpoint.size).order_by(Checkpoint.size.desc()).limit(1)) or 0
    if not old_size >= 1:
        raise field_error("from", _l("must be at least 1"))
    if new_size > current:
        raise field_error("to", _l("must be at most the latest checkpoint's size (%(current)s)", current=current))
    if old_size > new_size:
        raise field_error("from", _l("must not exceed 'to'"))
    leaves = leaf_hashes(new_size)
    notes = dict(
        db.session.execute(select(Checkpoint.size, Checkpoint.note).where(Checkpoint.size.in_([old_size, new_size]))).all()
    )
    return {
        "from": old_size,
        "to": new_size,
        "from_root": base64.b64encode(merkle.root(leaves[:old_size])).decode(),
        "to_root": base64.b64encode(merkle.root(leaves)).decode(),
        "proof": [base64.b64encode(node).decode() for node in merkle.consistency_proof(leaves, old_size)],
        "from_checkpoint": notes.get(old_size),
        "to_checkpoint": notes.get(new_size),
    }
