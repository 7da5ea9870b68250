"""Creating people and tokens, and finding who is asking."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select

from ledger import revisions
from ledger.errors import Conflict, field_error
from ledger.extensions import db
from ledger.people.models import ApiToken, IdempotencyRecord, Person, PersonRole
from ledger.people.passwords import hash_password
from ledger.timeutil import utcnow

TOKEN_PREFIX = "lgr_"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise field_error("email", _l("must be a valid email address"))
    return email


def _free_pseudonym(name: str) -> str:
    """A public pseudonym derived from nothing personal: 'contributor-' and random letters."""
    while True:
        candidate = f"contributor-{secrets.token_hex(3)}"
        if not db.session.scalar(select(Person.id).where(Person.pseudonym == candidate)):
            return candidate


def create_person(
    email: str,
    name: str,
    password: str | None = None,
    *,
    admin: bool = False,
    pseudonym: str | None = None,
    show_name_publicly: bool = False,
) -> Person:
    """Create a person; refuses a duplicate email (409) and a weak password (422)."""
    email = normalize_email(email)
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise field_error("name", _l("must be 1 to 120 characters"))
    if password is not None and len(password) < 10:
        raise field_error("password", _l("must be at least 10 characters"))
    if db.session.scalar(select(Person.id).where(func.lower(Person.email) == email)):
        raise Conflict(
            _l("a person with email %(email)s already exists", email=email), fields={"email": [_l("already registered")]}
        )
    if pseudonym is not None:
        pseudonym = pseudonym.strip()
        if not 2 <= len(pseudonym) <= 60:
            raise field_error("pseudonym", _l("must be 2 to 60 characters"))
        if db.session.scalar(select(Person.id).where(Person.pseudonym == pseudonym)):
            raise Conflict(_l("this pseudonym is taken"), fields={"pseudonym": [_l("already taken")]})
    person = Person(
        email=email,
        display_name=name,
        pseudonym=pseudonym or _free_pseudonym(name),
        show_name_publicly=show_name_publicly,
        is_admin=admin,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(person)
    db.session.flush()
    return person


def find_by_email(email: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.email == (email or "").strip().lower()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(person: Person, label: str = "") -> str:
    """Create an API token and return it; only its digest is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(person_id=person.id, token_hash=_digest(token), label=label[:80]))
    db.session.flush()
    return token


# Tokens seen by this process: digest → (people revision, the person's columns). A revocation, a
# new token or any change of a person or role bumps the revision in its own transaction, so the
# next request anywhere misses the cache and reads the token again: revocation stays immediate.
PEOPLE_REVISION = "people"
TOKEN_CACHE_SIZE = 10_000
_TOKENS = revisions.RowCache("people.tokens", PEOPLE_REVISION, Person, TOKEN_CACHE_SIZE)

revisions.watch(
    PEOPLE_REVISION,
    lambda obj: isinstance(obj, (Person, ApiToken, PersonRole)),
    tables=(Person.__tablename__, ApiToken.__tablename__, PersonRole.__tablename__),
)
revisions.read_together(PEOPLE_REVISION)


@cache
def _person_by_token():
    # Built once (on first use, once every model is mapped): it runs before every API request,
    # where building a statement costs about as much as running it. The people revision comes
    # in the same row, for the cache.
    return (
        select(Person, revisions.current_query(PEOPLE_REVISION))
        .join(ApiToken, ApiToken.person_id == Person.id)
        .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
    )


def person_for_token(token: str) -> Person | None:
    """The person owning an unrevoked token, or None. No write (reading requests stay read-only,
    so no "last used" time is kept) and one query: of the token joined to its person, or when
    this process knows the token already, of the people revision alone."""
    digest = _digest(token)
    person = _TOKENS.get(digest)
    if person is not None:
        return person
    row = db.session.execute(_person_by_token(), {"digest": digest}).first()
    if row is None:
        _TOKENS.drop(digest)
        return None
    person, revision = row
    _TOKENS.put(digest, revision, person)
    return person


def session_person(person_id: int, generation: object) -> Person | None:
    """The person a login session names, if that session was not ended since it began."""
    person = db.session.get(Person, person_id)
    if person is None or generation != person.session_generation:
        return None
    return person


def end_sessions(person: Person) -> None:
    """End every login session of this person, on every device (logout, a lost device)."""
    person.session_generation += 1


def revoke_token(person: Person, token_id: int) -> bool:
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.person_id == person.id))
    if row is None or row.revoked_at:
        return False
    row.revoked_at = utcnow()
    return True


def key_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["LEDGER_IDEMPOTENCY_HOURS"])


def purge_expired_keys() -> int:
    """Delete the replay records older than a key's lifetime; the caller commits. Returns how many."""
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - key_lifetime()))
    return result.rowcount
