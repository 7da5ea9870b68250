"""Commons, memberships and income: the service layer used by the API, the web and the CLI."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from ledger import revisions
from ledger.accounts import chart, memos
from ledger.accounts.models import TransactionKind
from ledger.accounts.service import Leg, post
from ledger.commons.models import INCOME_SOURCES, ROLES, Commons, Income, Membership
from ledger.contributions.models import DEFAULT_CATEGORIES, Category
from ledger.errors import Conflict, Forbidden, NotFound, field_error
from ledger.extensions import db
from ledger.formatting import day, later, money
from ledger.people.models import Person
from ledger.people.service import find_by_email
from ledger.rounds.rules import create_initial_rules
from ledger.timeutil import today

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# A ceiling that no honest entry reaches (10 million euros) and that keeps sums far from overflow.
MAX_AMOUNT_CENTS = 1_000_000_000
# How far back an administrator may say a commons started (it brings its history with it).
MAX_HISTORY_DAYS = 10 * 366


# Commons seen by this process: slug → (commons revision, the commons' columns), as tokens are
# cached (ledger.people.service): any change of a commons bumps the revision in its own
# transaction, so the next lookup anywhere reads it again. The revision is read with the people
# revision, in the statement every API request already runs for its token.
COMMONS_REVISION = "commons"
COMMONS_CACHE_SIZE = 1_000
_BY_SLUG = revisions.RowCache("commons.by_slug", COMMONS_REVISION, Commons, COMMONS_CACHE_SIZE)

revisions.watch(COMMONS_REVISION, lambda obj: isinstance(obj, Commons), tables=(Commons.__tablename__,))
revisions.read_together(COMMONS_REVISION)


@cache
def _commons_by_slug():
    # Built once: every declaration looks its commons up, and building costs about as much as running.
    return select(Commons, revisions.current_query(COMMONS_REVISION)).where(Commons.slug == bindparam("slug"))


def get_commons(slug: str) -> Commons:
    """The commons with this slug; when this process knows it at the current commons revision,
    without a query of its own."""
    commons = _BY_SLUG.get(slug)
    if commons is not None and commons.slug == slug:  # else renamed in this transaction: the query tells
        return commons
    row = db.session.execute(_commons_by_slug(), {"slug": slug}).first()
    if row is None:
        _BY_SLUG.drop(slug)
        raise NotFound(_l("No commons named '%(slug)s'.", slug=slug))
    commons, revision = row
    _BY_SLUG.put(slug, revision, commons)
    return commons


def membership(commons: Commons, person: Person | None) -> Membership | None:
    if person is None:
        return None
    return db.session.scalar(select(Membership).where(Membership.commons_id == commons.id, Membership.person_id == person.id))


def _holds(found: Membership | None, person: Person, roles: tuple[str, ...]) -> bool:
    return person.is_admin or (found is not None and found.role in roles)


def has_role(commons: Commons, person: Person | None, *roles: str) -> bool:
    """Whether ``person`` holds one of ``roles`` in the commons; administrators hold them all."""
    return person is not None and _holds(membership(commons, person), person, roles)


def can_steward(commons: Commons, person: Person | None) -> bool:
    """Steward or administrator: the one test of who runs a commons' rules, rounds and money."""
    return has_role(commons, person, "steward")


def require_role(commons: Commons, person: Person, *roles: str) -> Membership | None:
    """The person's membership if its role is one of ``roles`` (admins pass too), else 403."""
    found = membership(commons, person)
    if _holds(found, person, roles):
        return found
    raise Forbidden(
        _l("Only a steward of %(commons)s may do this.", commons=commons.name)
        if roles == ("steward",)
        else _l("Only people of %(commons)s may do this.", commons=commons.name)
    )


def may_create_commons(person: Person | None) -> bool:
    """Creating a commons is the installation administrator's act: a commons is a door to the fund."""
    return person is not None and person.is_admin


def require_installation_admin(person: Person) -> Person:
    """Refuses anyone ``may_create_commons`` refuses."""
    if not may_create_commons(person):
        raise Forbidden(_l("Only an installation administrator may create a commons."))
    return person


def start_date_problem(started_on: date) -> LazyString | None:
    """A commons starts today or in the past, at most ten years back."""
    if started_on > today():
        return _l("cannot be in the future")
    if started_on < today() - timedelta(days=MAX_HISTORY_DAYS):
        return _l("cannot be more than %(n)s days ago", n=MAX_HISTORY_DAYS)
    return None


def before_start_problem(commons: Commons, on: date) -> LazyString | None:
    """Nothing of a commons (work, round, income) is dated before the commons started."""
    if on < commons.started_on:
        return _l("cannot be before the commons started (%(date)s)", date=later(day, commons.started_on))
    return None


def find_steward(email: str) -> Person:
    """The person named as a new commons' first steward, by email."""
    person = find_by_email(email)
    if person is None:
        raise field_error("steward_email", _l("no person has this email; create their account first"))
    return person


def create_commons(
    slug: str,
    name: str,
    description: str,
    creator: Person,
    *,
    steward: Person | None = None,
    started_on: date | None = None,
) -> Commons:
    """A new commons (an administrator's act) with its first steward (the creator unless named),
    the default categories and rules version 1, effective from the day it started.

    ``started_on`` defaults to the first day of the current month; nothing of the commons can be
    dated earlier. The commons is not admitted to the solidarity fund: the fund manager decides.
    """
    require_installation_admin(creator)
    if not SLUG_RE.match(slug or ""):
        raise field_error("slug", _l("use 1 to 64 lowercase letters, digits and dashes"))
    started_on = started_on or today().replace(day=1)
    if problem := start_date_problem(started_on):
        raise field_error("started_on", problem)
    if db.session.scalar(select(Commons.id).where(Commons.slug == slug)):
        raise Conflict(_l("A commons named '%(slug)s' already exists.", slug=slug), fields={"slug": [_l("already taken")]})
    commons = Commons(slug=slug, name=name.strip(), description=(description or "").strip(), started_on=started_on)
    db.session.add(commons)
    db.session.flush()
    db.session.add(Membership(commons_id=commons.id, person_id=(steward or creator).id, role="steward"))
    for code, label, invisible in DEFAULT_CATEGORIES:
        db.session.add(Category(commons_id=commons.id, code=code, label=label, invisible=invisible))
    create_initial_rules(commons, creator, started_on)
    db.session.flush()
    return commons


def add_member(commons: Commons, email: str, role: str) -> Membership:
    if role not in ROLES:
        raise field_error("role", _l("must be one of %(choices)s", choices=", ".join(ROLES)))
    person = find_by_email(email)
    if person is None:
        raise field_error("email", _l("no person has this email; create their account first"))
    if membership(commons, person) is not None:
        raise Conflict(
            _l("%(email)s is already a member of %(commons)s.", email=email, commons=commons.name),
            fields={"email": [_l("already a member")]},
        )
    member = Membership(commons_id=commons.id, person_id=person.id, role=role)
    db.session.add(member)
    db.session.flush()
    return member


def record_income(
    commons: Commons, *, amount_cents: int, source: str, funder: str, received_on: date, earmark: str | None, recorded_by: Person
) -> Income:
    """Record money received: an Income row and its balanced ledger transaction."""
    if source not in INCOME_SOURCES:
        raise field_error("source", _l("must be one of %(choices)s", choices=", ".join(INCOME_SOURCES)))
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise field_error(
            "amount_cents",
            _l("must be between 1 and %(max)s cents (%(amount)s)", max=MAX_AMOUNT_CENTS, amount=later(money, MAX_AMOUNT_CENTS)),
        )
    if received_on > today():
        raise field_error("date", _l("cannot be in the future"))
    if problem := before_start_problem(commons, received_on):
        raise field_error("date", problem)
    tx = post(
        TransactionKind.INCOME,
        [
            Leg(chart.commons_treasury(commons), amount_cents, f"{source} from {funder}"),
            Leg(chart.commons_income(commons, source), -amount_cents, earmark or ""),
        ],
        occurred_on=received_on,
        memo=memos.record(TransactionKind.INCOME, source=source, funder=funder),
        commons_id=commons.id,
    )
    income = Income(
        commons_id=commons.id,
        amount_cents=amount_cents,
        source=source,
        funder=funder,
        received_on=received_on,
        earmark=earmark,
        transaction_id=tx.id,
        recorded_by_id=recorded_by.id,
    )
    db.session.add(income)
    db.session.flush()
    return income
