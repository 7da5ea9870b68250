"""People, their credentials and their installation-wide roles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.extensions import db
from ledger.timeutil import utcnow

if TYPE_CHECKING:  # the payouts domain imports people, not the other way round
    from ledger.payouts.models import Cae

# Installation-wide roles; roles inside a commons live on its memberships.
ROLE_CAE_ACCOUNTANT = "cae_accountant"
ROLE_FUND_MANAGER = "fund_manager"
INSTALLATION_ROLES = (ROLE_CAE_ACCOUNTANT, ROLE_FUND_MANAGER)


class Person(db.Model):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # Shown publicly instead of the name unless the person agreed to show their name.
    pseudonym: Mapped[str] = mapped_column(String(60), unique=True)
    show_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    # A login session carries the generation it began in; raising it ends every session at once
    # (logout, a stolen cookie): the cookie itself cannot be taken back.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="person")
    roles: Mapped[list[PersonRole]] = relationship(back_populates="person")

    @property
    def public_name(self) -> str:
        """The name anyone may see: the real name only with the person's consent."""
        return self.display_name if self.show_name_publicly else self.pseudonym

    # Flask-Login-like protocol used by the web layer.
    @property
    def is_authenticated(self) -> bool:
        return True

    def has_role(self, role: str, cae_id: int | None = None) -> bool:
        return any(r.role == role and (cae_id is None or r.cae_id == cae_id) for r in self.roles)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    person: Mapped[Person] = relationship(back_populates="tokens")


class PersonRole(db.Model):
    """An installation-wide role: CAE accountant (of one CAE) or solidarity fund manager."""

    __tablename__ = "person_roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "cae_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    cae_id: Mapped[int | None] = mapped_column(ForeignKey("caes.id"))

    person: Mapped[Person] = relationship(back_populates="roles")
    cae: Mapped[Cae | None] = relationship("Cae")


class LoginAttempt(db.Model):
    """Failed logins, counted per email and address to slow down password guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


# The first answer to a POST sent with an Idempotency-Key, replayed to its retries (ledger.api.idempotency).
class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("person_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    key: Mapped[str] = mapped_column(String(80))
    endpoint: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
