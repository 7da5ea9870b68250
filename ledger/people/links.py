"""One-use links sent by mail: an invitation to set one's password, or a password reset.

Only a digest of the link's secret is stored. A link works once and until it expires; a used,
expired or unknown link is refused with a message saying which, and nothing is changed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ledger.errors import ValidationFailed, field_error
from ledger.extensions import db
from ledger.people.models import Person
from ledger.people.passwords import check_password, hash_password
from ledger.timeutil import utcnow

PURPOSES = ("invite", "reset")
LIFETIME = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}
# Unused reset links one person may hold within the hour: enough for a lost mail, not a mail bomb.
RESETS_PER_HOUR = 3
MIN_PASSWORD = 10


class AccountLink(db.Model):
    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def issue(person: Person, purpose: str, created_by: Person | None = None) -> str:
    """A new link's secret for ``person``; shown once (in the mail), stored as a digest."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountLink(
            person_id=person.id,
            purpose=purpose,
            token_hash=_digest(token),
            expires_at=utcnow() + LIFETIME[purpose],
            created_by_id=created_by.id if created_by else None,
        )
    )
    db.session.flush()
    return token


def find(token: str, purpose: str) -> AccountLink:
    """The link if it can still be used; 422 naming `token` if unknown, used or expired."""
    link = db.session.scalar(select(AccountLink).where(AccountLink.token_hash == _digest(token or "")))
    if link is None or link.purpose != purpose:
        raise _refused("link_unknown", _("This link is not valid. Ask for a new one."))
    if link.used_at is not None:
        raise _refused("link_used", _("This link was already used. Ask for a new one if you need to."))
    if _aware(link.expires_at) <= utcnow():
        raise _refused("link_expired", _("This link has expired. Ask for a new one."))
    return link


def _refused(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"token": [message]}, code=code)


def check_new_password(password: str, confirm: str | None = None) -> None:
    """The one rule for a new password: long enough, and typed twice alike when asked twice."""
    if len(password or "") < MIN_PASSWORD:
        raise field_error("password", _("Use at least %(n)s characters.", n=MIN_PASSWORD))
    if confirm is not None and confirm != password:
        raise field_error("confirm", _("The two passwords differ."))


def set_password_with(token: str, purpose: str, password: str, confirm: str | None = None) -> Person:
    """Use a link once: set the person's password and mark the link (and their other ones) used."""
    link = find(token, purpose)
    check_new_password(password, confirm)
    person = db.session.get(Person, link.person_id)
    person.password_hash = hash_password(password)
    now = utcnow()
    for other in db.session.scalars(select(AccountLink).where(AccountLink.person_id == person.id, AccountLink.used_at.is_(None))):
        other.used_at = now
    db.session.flush()
    return person


def may_send_reset(person: Person) -> bool:
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count(AccountLink.id)).where(
            AccountLink.person_id == person.id, AccountLink.purpose == "reset", AccountLink.created_at >= since
        )
    )
    return recent < RESETS_PER_HOUR


def change_password(person: Person, current: str, new: str, confirm: str | None = None) -> None:
    """A logged-in person changes their password, proving they know the current one."""
    if not check_password(person.password_hash, current or ""):
        raise field_error("current", _("Your current password is wrong."))
    check_new_password(new, confirm)
    person.password_hash = hash_password(new)
    db.session.flush()
