"""CAEs, their members and accountants, and each contributor's payout route per commons.

Who may do what:
- an installation admin creates CAEs, adds their members and names their accountants;
- a CAE's accountant adds members to *their* CAE and is the only one who ever sees an
  employee reference in clear (inside their exports and member list);
- a person chooses their own payout route in each commons; a steward of that commons may too.

The default route is ``invoice`` (the membership column's default). Joining a CAE does not switch
anyone's routes: where one's money goes is a choice the person makes in their profile, and a CAPE
contract cannot receive a salary anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.accounts.money import parse_rate
from ledger.commons.models import PAYOUT_ROUTES, Commons, Membership
from ledger.commons.service import can_steward
from ledger.crypto import decrypt, encrypt
from ledger.errors import Conflict, Forbidden, NotFound, field_error
from ledger.extensions import db
from ledger.payouts.models import CONTRACT_TYPES, Cae, CaeMembership
from ledger.people.models import ROLE_CAE_ACCOUNTANT, Person, PersonRole
from ledger.people.service import find_by_email

CAE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
ANALYTIC_CODE_RE = re.compile(r"^[A-Za-z0-9._-]{0,32}$")
CAPE_WARNING = _l(
    "This CAE contract is a CAPE: it cannot receive a salary. The amounts will be exported as "
    "activity income, flagged as such in the salary lines."
)


def get_cae(code: str) -> Cae:
    cae = db.session.scalar(select(Cae).where(Cae.code == (code or "").upper()))
    if cae is None:
        raise NotFound(_l("No CAE with code '%(code)s'.", code=code))
    return cae


def is_accountant(person: Person | None, cae: Cae) -> bool:
    """True for an accountant of this very CAE (being admin is not enough to read personal data)."""
    return person is not None and person.has_role(ROLE_CAE_ACCOUNTANT, cae.id)


def require_cae_access(person: Person, cae: Cae, *, admin_ok: bool = True) -> None:
    """403 unless ``person`` is this CAE's accountant (or, when ``admin_ok``, an admin)."""
    if is_accountant(person, cae) or (admin_ok and person.is_admin):
        return
    raise Forbidden(_l("Only an accountant of CAE %(cae)s may do this.", cae=cae.code))


def create_cae(code: str, name: str, contribution_rate: str, employer_rate: str) -> Cae:
    """A new CAE; the code is upper-cased and must be unique."""
    code = (code or "").strip().upper()
    if not CAE_CODE_RE.match(code):
        raise field_error("code", _l("use 1 to 32 letters, digits, dashes or underscores"))
    name = (name or "").strip()
    if not 1 <= len(name) <= 160:
        raise field_error("name", _l("must be 1 to 160 characters"))
    rates = {}
    for field, value in (("contribution_rate", contribution_rate), ("employer_rate", employer_rate)):
        try:
            rates[field] = str(parse_rate(value))
        except ValueError as exc:
            raise field_error(field, str(exc)) from exc
    if db.session.scalar(select(Cae.id).where(Cae.code == code)):
        raise Conflict(_l("A CAE with code %(code)s already exists.", code=code), fields={"code": [_l("already taken")]})
    cae = Cae(code=code, name=name, **rates)
    db.session.add(cae)
    db.session.flush()
    return cae


def _split_name(display_name: str) -> tuple[str, str]:
    """'Camille Morel' → ('Camille', 'Morel'); a single word is a last name."""
    parts = display_name.strip().rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def add_cae_member(
    cae: Cae,
    email: str,
    employee_ref: str,
    contract_type: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    analytic_code: str = "",
    contribution_rate: str | None = None,
) -> CaeMembership:
    """Record that a person works with a CAE; the employee reference is encrypted at once.

    ``analytic_code`` is the member's activity code in the CAE's analytic accounts;
    ``contribution_rate`` overrides the CAE's rate for this member (None: the CAE's).
    """
    person = find_by_email(email)
    if person is None:
        raise field_error("email", _l("no person has this email; create their account first"))
    employee_ref = (employee_ref or "").strip()
    if not 1 <= len(employee_ref) <= 64:
        raise field_error("employee_ref", _l("must be 1 to 64 characters"))
    if contract_type not in CONTRACT_TYPES:
        raise field_error("contract_type", _l("must be one of %(choices)s", choices=", ".join(CONTRACT_TYPES)))
    default_first, default_last = _split_name(person.display_name)
    first_name = (first_name if first_name is not None else default_first).strip()
    last_name = (last_name if last_name is not None else default_last).strip()
    if not last_name:
        raise field_error("last_name", _l("is required for payroll"))
    analytic_code = (analytic_code or "").strip()
    if not ANALYTIC_CODE_RE.match(analytic_code):
        raise field_error("analytic_code", _l("use up to 32 letters, digits, dots, dashes or underscores"))
    if contribution_rate is not None:
        try:
            contribution_rate = str(parse_rate(contribution_rate))
        except ValueError as exc:
            raise field_error("contribution_rate", str(exc)) from exc
    if find_cae_membership(cae, person.id) is not None:
        raise Conflict(
            _l("%(email)s is already a member of CAE %(cae)s.", email=email, cae=cae.code),
            fields={"email": [_l("already a member")]},
        )
    member = CaeMembership(
        cae_id=cae.id,
        person_id=person.id,
        employee_ref_encrypted=encrypt(employee_ref),
        contract_type=contract_type,
        first_name=first_name,
        last_name=last_name,
        analytic_code=analytic_code,
        contribution_rate=contribution_rate,
    )
    db.session.add(member)
    db.session.flush()
    return member


def find_cae_membership(cae: Cae | int, person_id: int) -> CaeMembership | None:
    cae_id = cae if isinstance(cae, int) else cae.id
    return db.session.scalar(select(CaeMembership).where(CaeMembership.cae_id == cae_id, CaeMembership.person_id == person_id))


def cae_members(cae: Cae) -> list[CaeMembership]:
    return list(db.session.scalars(select(CaeMembership).where(CaeMembership.cae_id == cae.id).order_by(CaeMembership.id)))


def employee_ref(member: CaeMembership) -> str:
    """The clear employee reference: call only inside the CAE's own exports and pages."""
    return decrypt(member.employee_ref_encrypted)


def grant_accountant(cae: Cae, email: str) -> PersonRole:
    """Make a person accountant of this CAE (idempotent)."""
    person = find_by_email(email)
    if person is None:
        raise field_error("email", _l("no person has this email; create their account first"))
    role = db.session.scalar(
        select(PersonRole).where(
            PersonRole.person_id == person.id, PersonRole.role == ROLE_CAE_ACCOUNTANT, PersonRole.cae_id == cae.id
        )
    )
    if role is None:
        role = PersonRole(person_id=person.id, role=ROLE_CAE_ACCOUNTANT, cae_id=cae.id)
        db.session.add(role)
        db.session.flush()
        db.session.expire(person, ["roles"])
    return role


def accountant_caes(person: Person) -> list[Cae]:
    """The CAEs whose accountant ``person`` is."""
    ids = [r.cae_id for r in person.roles if r.role == ROLE_CAE_ACCOUNTANT and r.cae_id is not None]
    if not ids:
        return []
    return list(db.session.scalars(select(Cae).where(Cae.id.in_(ids)).order_by(Cae.code)))


@dataclass(frozen=True)
class RouteChoice:
    membership: Membership
    cae: Cae | None
    contract_type: str | None
    warnings: list[str]


def route_view(member: Membership) -> RouteChoice:
    """A membership's current route, with its CAE, contract and the warnings that apply."""
    cae = db.session.get(Cae, member.payout_cae_id) if member.payout_route == "cae" and member.payout_cae_id else None
    contract = None
    warnings: list[str] = []
    if cae is not None:
        found = find_cae_membership(cae, member.person_id)
        contract = found.contract_type if found else None
        if contract == "CAPE":
            warnings.append(str(CAPE_WARNING))  # in the reader's language
    return RouteChoice(member, cae, contract, warnings)


def set_route(commons: Commons, person_id: int, route: str, cae_code: str | None, actor: Person) -> RouteChoice:
    """Choose where a member's retributions from ``commons`` go: the person or a steward decides."""
    target = db.session.scalar(select(Membership).where(Membership.commons_id == commons.id, Membership.person_id == person_id))
    if target is None:
        raise NotFound(_l("Person %(person_id)s is not a member of %(commons)s.", person_id=person_id, commons=commons.name))
    if actor.id != person_id and not can_steward(commons, actor):
        raise Forbidden(_l("Only the person themself or a steward of this commons may change this payout route."))
    if route not in PAYOUT_ROUTES:
        raise field_error("route", _l("must be one of %(choices)s", choices=", ".join(PAYOUT_ROUTES)))
    cae_id = None
    if route == "cae":
        if not cae_code:
            raise field_error("cae", _l("the code of the CAE is required for the cae route"))
        cae = db.session.scalar(select(Cae).where(Cae.code == cae_code.strip().upper()))
        if cae is None:
            raise field_error("cae", _l("no CAE with code '%(cae_code)s'", cae_code=cae_code))
        if find_cae_membership(cae, person_id) is None:
            raise field_error(
                "cae", _l("this person has no membership in CAE %(cae)s; the CAE must add them first", cae=cae.code)
            )
        cae_id = cae.id
    target.payout_route = route
    target.payout_cae_id = cae_id
    db.session.flush()
    return route_view(target)


def member_contribution_rate(cae: Cae, member: CaeMembership | None) -> str:
    """The contribution rate that applies to a member: their own if set, else the CAE's."""
    return member.contribution_rate if member is not None and member.contribution_rate is not None else cae.contribution_rate
