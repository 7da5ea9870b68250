"""What a person changes about themself: names, public consent and language."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ledger.errors import Conflict, field_error
from ledger.extensions import db
from ledger.people.models import Person

LANGUAGES = ("fr", "en")


def update_profile(person: Person, *, display_name: str, pseudonym: str, show_name_publicly: bool, locale: str) -> Person:
    """Refused: an empty or over-long name, a pseudonym of another person, an unknown language."""
    display_name, pseudonym = (display_name or "").strip(), (pseudonym or "").strip()
    if not 1 <= len(display_name) <= 120:
        raise field_error("display_name", _("Write 1 to 120 characters."))
    if not 2 <= len(pseudonym) <= 60:
        raise field_error("pseudonym", _("Write 2 to 60 characters."))
    taken = db.session.scalar(select(Person.id).where(Person.pseudonym == pseudonym, Person.id != person.id))
    if taken:
        message = _("Another person uses this pseudonym.")
        raise Conflict(message, fields={"pseudonym": [message]})
    if locale not in LANGUAGES:
        raise field_error("locale", _("Choose French or English."))
    person.display_name, person.pseudonym = display_name, pseudonym
    person.show_name_publicly, person.locale = bool(show_name_publicly), locale
    db.session.flush()
    return person
