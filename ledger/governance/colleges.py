"""Colleges of a commons, and the ballots of a vote counted per college."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger.commons.models import Commons, Membership
from ledger.commons.service import membership, require_role
from ledger.errors import Conflict, field_error
from ledger.extensions import db
from ledger.governance.models import College, CollegeMember
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
    """Create a college, or change the name and weight of an existing one (stewards)."""
    require_role(commons, steward, "steward")
    parsed = parse_weight(weight)
    college = db.session.scalar(select(College).where(College.commons_id == commons.id, College.code == code))
    if college is None:
        college = College(commons_id=commons.id, code=code, name=name.strip(), weight=f"{parsed:f}")
        db.session.add(college)
    else:
        college.name, college.weight = name.strip(), f"{parsed:f}"
    db.session.flush()
    return college


def assign(commons: Commons, steward: Person, email: str, code: str) -> CollegeMember:
    """Place a member in a college; a member belongs to one college, so this moves them if needed."""
    require_role(commons, steward, "steward")
    college = db.session.scalar(select(College).where(College.commons_id == commons.id, College.code == code))
    if college is None:
        raise field_error("college", _l("no college '%(code)s' in this commons", code=code))
    person = find_by_email(email)
    if person is None or membership(commons, person) is None:
        raise field_error("email", _l("not a member of this commons"))
    placed = db.session.scalar(
        select(CollegeMember).where(CollegeMember.commons_id == commons.id, CollegeMember.person_id == person.id)
    )
    if placed is None:
        placed = CollegeMember(commons_id=commons.id, college_id=college.id, person_id=person.id)
        try:
            with db.session.begin_nested():
                db.session.add(placed)
        except IntegrityError as exc:
            raise Conflict(_l("%(email)s was placed in a college meanwhile; try again.", email=email)) from exc
    else:
        placed.college_id = college.id
    db.session.flush()
    return placed


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
