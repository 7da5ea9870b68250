"""Password hashing with Argon2id, a memory-hard algorithm."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Checked against when there is no hash to check (unknown email, person without a password), so
# that a refusal takes as long as a wrong password: the answer's timing does not tell who exists.
_DUMMY_HASH = _hasher.hash("no password: the timing of a refusal must not reveal an account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; False for a person without a password (after as long)."""
    if not stored_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
