"""Inviting someone to a commons by email, with a role.

A person new to the installation is created without a password and mailed a one-use link to
choose one (`ledger.people.links`); someone who already has an account is added and told so.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ledger import notify
from ledger.commons.models import ROLES, Commons, Membership
from ledger.commons.service import membership, require_role
from ledger.errors import Conflict, field_error
from ledger.extensions import db
from ledger.people import links
from ledger.people.models import Person
from ledger.people.service import create_person, find_by_email, normalize_email


def invite(commons: Commons, inviter: Person, email: str, name: str, role: str, role_label: str) -> Membership:
    """Add the person at ``email`` to the commons with ``role`` and mail them; stewards and admins only."""
    require_role(commons, inviter, "steward")
    if role not in ROLES:
        raise field_error("role", _l("must be one of %(choices)s", choices=", ".join(ROLES)))
    email = normalize_email(email)
    person = find_by_email(email)
    token = None
    if person is None:
        person = create_person(email, name)
    if person.password_hash is None:
        token = links.issue(person, "invite", created_by=inviter)
    if membership(commons, person) is not None:
        raise Conflict(
            _l("%(email)s is already a member of %(commons)s.", email=email, commons=commons.name),
            fields={"email": [_l("already a member")]},
        )
    member = Membership(commons_id=commons.id, person_id=person.id, role=role)
    db.session.add(member)
    db.session.flush()
    notify.invitation(person, token, commons.name, role_label, inviter)
    return member


def change_role(commons: Commons, actor: Person, person_id: int, role: str) -> Membership:
    """A steward changes a member's role; the last steward cannot step down (the commons would be stuck)."""
    require_role(commons, actor, "steward")
    if role not in ROLES:
        raise field_error("role", _l("must be one of %(choices)s", choices=", ".join(ROLES)))
    member = membership(commons, db.session.get(Person, person_id))
    if member is None:
        raise field_error("person", _l("is not a member of this commons"))
    if member.role == "steward" and role != "steward":
        stewards = db.session.query(Membership).filter_by(commons_id=commons.id, role="steward").count()
        if stewards <= 1:
            raise Conflict(_l("A commons keeps at least one steward."), fields={"role": [_l("the last steward stays steward")]})
    member.role = role
    db.session.flush()
    return member
