"""Legal identities: the SIREN, legal name and fiscal year of a commons, a CAE or the fund.

The FEC is named after the SIREN of the entity whose books it holds (``{SIREN}FEC{AAAAMMJJ}.txt``)
and covers its fiscal year, which starts on ``fiscal_year_start`` ("MM-DD", 1 January unless
set). Without a SIREN there is no FEC: the export says so rather than invent a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.accounts.numbering import FUND_ENTITY, commons_entity
from ledger.errors import Forbidden, field_error
from ledger.extensions import db
from ledger.fund.models import FundIdentity

SIREN_RE = re.compile(r"^\d{9}$")
MONTH_DAY_RE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


@dataclass(frozen=True)
class Identity:
    """Whose books a file holds: the entity key of ``ledger.accounts.numbering`` and its legal identity."""

    entity: str
    name: str
    siren: str | None
    legal_name: str
    fiscal_year_start: str


def may_set_identity(person, holder) -> bool:
    """Admins always; a steward for their commons, the fund manager for the fund, the accountant for their CAE."""
    from ledger.commons.models import Commons
    from ledger.commons.service import membership
    from ledger.people.models import ROLE_CAE_ACCOUNTANT, ROLE_FUND_MANAGER

    if person.is_admin:
        return True
    if isinstance(holder, Commons):
        found = membership(holder, person)
        return found is not None and found.role == "steward"
    if isinstance(holder, FundIdentity):
        return person.has_role(ROLE_FUND_MANAGER)
    return person.has_role(ROLE_CAE_ACCOUNTANT, holder.id)


def require_may_set_identity(person, holder) -> None:
    if not may_set_identity(person, holder):
        raise Forbidden(
            _l("Only an admin, or the steward, fund manager or accountant of this entity, may set its legal identity.")
        )


def siren_is_valid(siren: str) -> bool:
    """Nine digits whose Luhn checksum is right (as INSEE gives them)."""
    if not SIREN_RE.match(siren):
        return False
    total = 0
    for i, digit in enumerate(int(c) for c in siren):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def set_identity(holder, *, siren: str | None, legal_name: str | None, fiscal_year_start: str | None):
    """Set the legal identity of a Commons, a Cae or the FundIdentity; a field left None is kept."""
    if siren is not None:
        siren = siren.replace(" ", "")
        if siren and not siren_is_valid(siren):
            raise field_error("siren", _l("must be 9 digits with a valid checksum (as on the INSEE notice)"))
        holder.siren = siren or None
    if legal_name is not None:
        legal_name = " ".join(legal_name.split())
        if len(legal_name) > 160:
            raise field_error("legal_name", _l("must be at most 160 characters"))
        holder.legal_name = legal_name
    if fiscal_year_start is not None:
        if not MONTH_DAY_RE.match(fiscal_year_start) or fiscal_year_start == "02-29" or not _is_day(fiscal_year_start):
            raise field_error("fiscal_year_start", _l("must be a day of the year as MM-DD, for example 07-01"))
        holder.fiscal_year_start = fiscal_year_start
    db.session.flush()
    return holder


def _is_day(month_day: str) -> bool:
    try:
        date.fromisoformat(f"2001-{month_day}")
    except ValueError:
        return False
    return True


def fund_identity(*, create: bool = False) -> FundIdentity:
    """The fund's identity row; an unsaved empty one until someone sets it (unless ``create``)."""
    found = db.session.scalar(select(FundIdentity).order_by(FundIdentity.id).limit(1))
    if found is None:
        found = FundIdentity(siren=None, legal_name="", fiscal_year_start="01-01")
        if create:
            db.session.add(found)
            db.session.flush()
    return found


def fiscal_year(fiscal_year_start: str, year: int) -> tuple[date, date]:
    """The fiscal year that begins in ``year``: its first and last day."""
    first = date.fromisoformat(f"{year:04d}-{fiscal_year_start}")
    return first, date.fromisoformat(f"{year + 1:04d}-{fiscal_year_start}") - timedelta(days=1)


def commons_identity(commons) -> Identity:
    return Identity(
        commons_entity(commons.id), commons.name, commons.siren, commons.legal_name or commons.name, commons.fiscal_year_start
    )


def fund_books_identity() -> Identity:
    found = fund_identity()
    return Identity(
        FUND_ENTITY, "Solidarity fund", found.siren, found.legal_name or "Fonds de solidarité", found.fiscal_year_start
    )
