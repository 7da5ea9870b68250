"""Colleges of a commons, and the ballots of a vote counted per college."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger.commons.models import Commons, Membership
from ledger.commons.service import membership, require_role
from ledger.errors import Conflict, ValidationFailed, field_error
from ledger.extensions import db
from ledger.governance.models import College, CollegeMember
from ledger.governance.procedure import require_direct_change_allowed
from ledger.governance.tally import CollegeCount
from ledger.people.models import Person
from ledger.people.service import find_by_email

# Who votes on rules and on objections: members and stewards (contributors declare and comment).
VOTER_ROLES = ("member", "steward")
MAX_WEIGHT = Decimal(1000)


def colleges_of(commons_id: int) -> list[College]:
    return list(db.session.scalars(select(College).where(College.commons_id == commons_id).order_by(College.code)))


def parse_weight(text) -> Decimal:
    """A positive decimal weight ("40", "0.25"): only ratios matter, so any positive scale will do."""
    try:
        weight = Decimal(str(text).strip())
    except (InvalidOperation, ValueError) as exc:
        raise field_error("weight", _l('must be a positive decimal such as "40"')) from exc
    if not weight.is_finite() or not 0 < weight <= MAX_WEIGHT or weight != weight.quantize(Decimal("0.0001")):
        raise field_error("weight", _l("must be above 0 and at most %(max)s, with at most four decimals", max=MAX_WEIGHT))
    return weight.normalize()


def define_college(commons: Commons, steward: Person, code: str, name: str, weight) -> College:
    """Create a college, or change the name and weight of an existing one: a steward, under the
    `steward` procedure only (otherwise it is a proposal, decided like the rules)."""
    require_role(commons, steward, "steward")
    require_direct_change_allowed(commons)
    return _upsert_college(commons.id, code, name, parse_weight(weight))


def _upsert_college(commons_id: int, code: str, name: str, weight: Decimal) -> College:
    college = db.session.scalar(select(College).where(College.commons_id == commons_id, College.code == code))
    if college is None:
        college = College(commons_id=commons_id, code=code, name=name.strip(), weight=f"{weight:f}")
        db.session.add(college)
    else:
        college.name, college.weight = name.strip(), f"{weight:f}"
    db.session.flush()
    return college


def assign(commons: Commons, steward: Person, email: str, code: str) -> CollegeMember:
    """A steward places a member in a college; a member belongs to one college.

    Placing a member who has none yet is part of admitting them; moving a placed member to another
    college changes the weight of their vote, so outside the `steward` procedure it is a proposal.
    """
    require_role(commons, steward, "steward")
    college = _college(commons.id, code, "college")
    person = _member(commons, email, "email")
    placed = db.session.scalar(
        select(CollegeMember).where(CollegeMember.commons_id == commons.id, CollegeMember.person_id == person.id)
    )
    if placed is not None and placed.college_id != college.id:
        require_direct_change_allowed(commons)
    return _place(commons.id, person.id, college.id, placed)


def _college(commons_id: int, code: str, field: str) -> College:
    college = db.session.scalar(select(College).where(College.commons_id == commons_id, College.code == code))
    if college is None:
        raise field_error(field, _l("no college '%(code)s' in this commons", code=code))
    return college


def _member(commons: Commons, email: str, field: str) -> Person:
    person = find_by_email(email)
    if person is None or membership(commons, person) is None:
        raise field_error(field, _l("%(email)s is not a member of this commons", email=email))
    return person


def _place(commons_id: int, person_id: int, college_id: int, placed: CollegeMember | None) -> CollegeMember:
    if placed is None:
        placed = CollegeMember(commons_id=commons_id, college_id=college_id, person_id=person_id)
        try:
            with db.session.begin_nested():
                db.session.add(placed)
        except IntegrityError as exc:
            raise Conflict(_l("This member was placed in a college meanwhile; try again.")) from exc
    else:
        placed.college_id = college_id
    db.session.flush()
    return placed


def proposed_changes(commons: Commons, colleges: list[dict], moves: list[dict]) -> dict:
    """What a proposal would change in the colleges, checked now and kept only where it differs.

    ``colleges``: [{"code", "name", "weight"}], new or changed; ``moves``: [{"email", "college"}],
    the college may be one the same proposal creates. Returns {"colleges": {...}, "moves": {...}}
    with only the non-empty parts.
    """
    existing = {c.code: c for c in colleges_of(commons.id)}
    defined = {}
    for i, entry in enumerate(colleges):
        code, name = entry["code"], entry["name"].strip()
        weight = f"{_weight_of(entry['weight'], f'colleges.{i}.weight'):f}"
        now = existing.get(code)
        if now is None or now.name != name or Decimal(now.weight) != Decimal(weight):
            defined[code] = {"name": name, "weight": weight}
    moved = {}
    for i, entry in enumerate(moves):
        code = entry["college"]
        if code not in existing and code not in defined:
            raise field_error(f"moves.{i}.college", _l("no college '%(code)s' in this commons or this proposal", code=code))
        person = _member(commons, entry["email"], f"moves.{i}.email")
        now = college_of(commons.id, person.id)
        if now is None or now.code != code:
            moved[str(person.id)] = code
    return {key: value for key, value in (("colleges", defined), ("moves", moved)) if value}


def _weight_of(text, field: str) -> Decimal:
    try:
        return parse_weight(text)
    except ValidationFailed as exc:
        raise field_error(field, exc.fields["weight"][0]) from exc


def apply_changes(commons_id: int, changes: dict) -> None:
    """An adopted proposal's college changes, as the procedure in force decided them."""
    for code, entry in changes.get("colleges", {}).items():
        _upsert_college(commons_id, code, entry["name"], Decimal(entry["weight"]))
    for person_id, code in changes.get("moves", {}).items():
        college = _college(commons_id, code, "college")
        placed = db.session.scalar(
            select(CollegeMember).where(CollegeMember.commons_id == commons_id, CollegeMember.person_id == int(person_id))
        )
        _place(commons_id, int(person_id), college.id, placed)


def college_of(commons_id: int, person_id: int) -> College | None:
    return db.session.scalar(
        select(College)
        .join(CollegeMember, CollegeMember.college_id == College.id)
        .where(CollegeMember.commons_id == commons_id, CollegeMember.person_id == person_id)
    )


def eligible_voters(commons_id: int, *, excluding: int | None = None) -> dict[int, int | None]:
    """Person id → college id of everyone who may vote. With colleges, only members placed in one."""
    has_colleges = db.session.scalar(select(College.id).where(College.commons_id == commons_id).limit(1)) is not None
    query = (
        select(Membership.person_id, CollegeMember.college_id)
        .outerjoin(
            CollegeMember, (CollegeMember.commons_id == Membership.commons_id) & (CollegeMember.person_id == Membership.person_id)
        )
        .where(Membership.commons_id == commons_id, Membership.role.in_(VOTER_ROLES))
    )
    if excluding is not None:
        query = query.where(Membership.person_id != excluding)
    return {pid: cid for pid, cid in db.session.execute(query) if cid is not None or not has_colleges}


def counts(commons_id: int, ballots: dict[int, bool], *, excluding: int | None = None) -> list[CollegeCount]:
    """Ballots (person id → yes) of eligible people counted per college; one college "all" without colleges.

    A ballot counts in the college its voter belongs to now; a ballot of someone no longer eligible does not count.
    """
    voters = eligible_voters(commons_id, excluding=excluding)
    colleges = colleges_of(commons_id)
    if not colleges:
        yes = sum(1 for pid, v in ballots.items() if pid in voters and v)
        no = sum(1 for pid, v in ballots.items() if pid in voters and not v)
        return [CollegeCount("all", Fraction(1), len(voters), yes, no)]
    result = []
    for college in colleges:
        members = {pid for pid, cid in voters.items() if cid == college.id}
        yes = sum(1 for pid in members if ballots.get(pid) is True)
        no = sum(1 for pid in members if ballots.get(pid) is False)
        result.append(CollegeCount(college.code, Fraction(Decimal(college.weight)), len(members), yes, no))
    return result


def college_sizes(commons_id: int) -> dict[int, int]:
    from sqlalchemy import func

    return dict(
        db.session.execute(
            select(CollegeMember.college_id, func.count(CollegeMember.id))
            .where(CollegeMember.commons_id == commons_id)
            .group_by(CollegeMember.college_id)
        ).all()
    )
