"""The installation's Ed25519 key: generated on first run, kept in a file outside the database."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public_pem: str
    key_id: str  # first 16 hex characters of the SHA-256 of the public key

    def sign(self, data: bytes) -> str:
        """Base64 Ed25519 signature of ``data``."""
        return base64.b64encode(self.private.sign(data)).decode()


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@lru_cache(maxsize=8)
def load_or_create(path: str) -> SigningKey:
    """Read the PEM private key at ``path``, creating it (mode 0600) when absent."""
    file = Path(path)
    if file.exists():
        private = serialization.load_pem_private_key(file.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise RuntimeError(f"{path} is not an Ed25519 private key")
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        # Created exclusively so that two processes starting at once never write two keys.
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create.__wrapped__(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    public = private.public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return SigningKey(private=private, public_pem=public_pem, key_id=_key_id(public))


def replace_key_file(path: str, private: Ed25519PrivateKey) -> None:
    """Write ``private`` to the key file in place of the old key (mode 0600, atomic rename)."""
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = Path(f"{path}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(temporary, path)
    load_or_create.cache_clear()


def raw_public_key(key: SigningKey) -> bytes:
    """The 32 bytes of the key's Ed25519 public key."""
    return key.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of_raw(public_raw: bytes) -> str:
    """The key id (16 hex characters) of a raw Ed25519 public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def verify_signature(public_pem: str, data: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid Ed25519 signature of ``data`` by that public key."""
    public = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(public, Ed25519PublicKey):
        return False
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def current_key() -> SigningKey:
    """The signing key of the running application."""
    from flask import current_app

    return load_or_create(current_app.config["LEDGER_SIGNING_KEY_FILE"])
