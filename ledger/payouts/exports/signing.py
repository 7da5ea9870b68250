"""Detached Ed25519 signatures of exported files, checkable with the public key alone.

The signature covers the file's exact bytes. It is made with the installation's ledger key
(``GET /api/v1/keys/signing``), which has nothing to do with the key that encrypts personal data:
rotating that one never invalidates an old export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ledger.accounts.signing import current_key
from ledger.extensions import db
from ledger.payouts.models import ExportRecord
from ledger.people.models import Person


@dataclass(frozen=True)
class SignedExport:
    content: bytes
    signature: str  # base64 Ed25519 over ``content``
    key_id: str
    filename: str
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def sign(content: bytes, *, filename: str, media_type: str) -> SignedExport:
    key = current_key()
    return SignedExport(content, key.sign(content), key.key_id, filename, media_type)


def record(export: SignedExport, kind: str, params: str, actor: Person | None) -> ExportRecord:
    """Keep what was exported, when and by whom: the digest of the exact bytes, not the bytes."""
    row = ExportRecord(
        kind=kind, params=params, sha256=export.sha256, byte_count=len(export.content), created_by_id=actor.id if actor else None
    )
    db.session.add(row)
    db.session.flush()
    return row


def write_files(export: SignedExport, path: Path) -> Path:
    """Write the file and its detached signature next to it (``FILE.sig``); returns the .sig path."""
    path.write_bytes(export.content)
    sig_path = path.with_name(path.name + ".sig")
    sig_path.write_text(export.signature + "\n")
    return sig_path
