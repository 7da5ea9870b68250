"""Encryption at rest of personal data that identifies a person to payroll.

Keys are Fernet keys (AES-128-CBC + HMAC-SHA256), kept outside the database: in
``LEDGER_DATA_KEY`` (comma-separated, newest first) or in the instance file ``data_keys`` (one
per line, newest first), generated on first use. Rotation adds a new key, re-encrypts every
value with it, then forgets the old ones.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_request_context, request


class DataKeyError(RuntimeError):
    """The data keys are missing, unreadable, or cannot decrypt a stored value."""


def _key_file() -> Path:
    return Path(current_app.config["LEDGER_DATA_KEY_FILE"])


def load_keys() -> list[bytes]:
    """The data keys, newest first; creates the key file on first use."""
    if configured := current_app.config.get("LEDGER_DATA_KEY"):
        return [k.strip().encode() for k in configured.split(",") if k.strip()]
    path = _key_file()
    if not path.exists():
        _create_key_file(path)
    return [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]


def _create_key_file(path: Path) -> None:
    """Create the key file whole, at once: a concurrent reader sees no file or a full one.

    The key is written to a private temporary file that is then hard-linked into place; the link
    fails if another worker won the race, and that worker's key is the one everybody uses.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _write_temporary(path, Fernet.generate_key().decode() + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _write_temporary(path: Path, text: str) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:  # mkstemp creates it readable by its owner only
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(name)


def _replace_key_file(path: Path, keys: list[bytes]) -> None:
    """Rewrite the key file atomically, so that no reader ever sees it half written."""
    os.replace(_write_temporary(path, "\n".join(k.decode() for k in keys) + "\n"), path)


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in load_keys()])
    except ValueError as exc:
        raise DataKeyError("a data key is not a valid Fernet key") from exc


def encrypt(value: str) -> bytes:
    return _fernet().encrypt(value.encode())


def decrypt(token: bytes) -> str:
    if has_request_context():
        request.environ["ledger.personal_data"] = True  # the answer must not be cached (see create_app)
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except InvalidToken as exc:
        raise DataKeyError("stored personal data cannot be decrypted with the current data keys") from exc


def rotate(rows, attribute: str) -> int:
    """Re-encrypt ``attribute`` of every row under a new key, then keep only that key.

    The caller commits; the key file is rewritten only after every value was re-encrypted in
    memory, and the old keys are kept in the file until the caller calls ``forget_old_keys``.
    """
    if current_app.config.get("LEDGER_DATA_KEY"):
        raise DataKeyError("keys come from LEDGER_DATA_KEY: put a new key first in it, then run the rotation")
    path = _key_file()
    old_keys = load_keys()
    new_key = Fernet.generate_key()
    _replace_key_file(path, [new_key, *old_keys])
    return reencrypt(rows, attribute)


def reencrypt(rows, attribute: str) -> int:
    """Re-encrypt ``attribute`` of every row under the newest key (after ``rotate``, for more tables)."""
    multi = _fernet()
    count = 0
    for row in rows:
        setattr(row, attribute, multi.rotate(bytes(getattr(row, attribute))))
        count += 1
    return count


def forget_old_keys() -> None:
    """After a committed rotation: keep only the newest key in the key file."""
    path = _key_file()
    keys = load_keys()
    _replace_key_file(path, keys[:1])
