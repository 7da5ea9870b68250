"""Declaring, editing, withdrawing and listing contributions: the one path for the API and the web.

Services only flush; the request (or the CLI command) commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Date, bindparam, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached, selectinload

from ledger import revisions
from ledger.bulk import execute_plain
from ledger.commons.models import Commons, Membership
from ledger.commons.service import membership
from ledger.contributions.categories import categories_of
from ledger.contributions.models import Category, Contribution, ContributionStatus
from ledger.contributions.status import display_status
from ledger.contributions.validation import DateBounds, Draft, check_draft, late_window_start, week_bounds
from ledger.database import advisory_lock, write_phase
from ledger.errors import Conflict, Forbidden, LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.assignment import round_for
from ledger.rounds.models import ROUND_LABELS, Round, RuleVersion
from ledger.rounds.rules import rules_in_force
from ledger.timeutil import today, utcnow
from ledger.versions import in_force_order

EDITABLE_FIELDS = ("on", "hours", "category", "description", "evidence_url")
DEFAULT_WEEKLY_THRESHOLD = 48


@dataclass
class Saved:
    """A stored declaration and what to tell its author about it."""

    contribution: Contribution
    late: bool = False
    warnings: list[str] = field(default_factory=list)
    replayed: bool = False


def status_of(contribution: Contribution) -> str:
    round_ = contribution.round
    return display_status(
        stored=contribution.status,
        round_state=round_.state if round_ else None,
        objection_states=[o.state for o in contribution.objections],
        carried_from_round_id=contribution.carried_from_round_id,
    )


def get_contribution(contribution_id: int) -> Contribution:
    found = db.session.get(Contribution, contribution_id)
    if found is None:
        raise NotFound(_("No contribution with this number."))
    return found


def rules_for(contribution_or_commons_id: Contribution | int) -> RuleVersion | None:
    """The rules that judge a contribution: its round's pinned version, else the commons' version in
    force today (the one the round adopting it will pin)."""
    if isinstance(contribution_or_commons_id, Contribution):
        if contribution_or_commons_id.round is not None:
            return contribution_or_commons_id.round.rule_version
        return rules_in_force(contribution_or_commons_id.commons_id)
    return rules_in_force(contribution_or_commons_id)


def can_see(person: Person, contribution: Contribution) -> bool:
    """Its author, anyone in its commons (to review it), and administrators."""
    return person.id == contribution.person_id or person.is_admin or membership(contribution.commons, person) is not None


def lock_day(person_id: int, on: date) -> None:
    """Queue, until the transaction ends, every other change of the person's hours on ``on``: the
    24 hours of a day hold across all commons only if the sum is read by one writer at a time."""
    advisory_lock("hours", person_id, on.isoformat())


def hours_on_day(person_id: int, on: date, *, excluding: int | None = None) -> Decimal:
    """Hours the person declared that day in all commons, withdrawn work excluded."""
    query = select(func.coalesce(func.sum(Contribution.hours), 0)).where(
        Contribution.person_id == person_id, Contribution.date == on, Contribution.status != ContributionStatus.WITHDRAWN
    )
    if excluding is not None:
        query = query.where(Contribution.id != excluding)
    return Decimal(db.session.scalar(query))


# The statements a declaration runs are built once (on first use, once every model is mapped):
# under load, building a statement costs about as much as running it.
@cache
def _day_and_week_hours(excluding: bool):
    query = select(
        func.coalesce(func.sum(case((Contribution.date == bindparam("on"), Contribution.hours), else_=0)), 0),
        func.coalesce(func.sum(Contribution.hours), 0),
    ).where(
        Contribution.person_id == bindparam("person_id"),
        Contribution.date.between(bindparam("monday"), bindparam("sunday")),
        Contribution.status != ContributionStatus.WITHDRAWN,
    )
    return query.where(Contribution.id != bindparam("excluding")) if excluding else query


@cache
def _standing_query():
    return (
        select(
            select(Category.id)
            .where(
                Category.commons_id == bindparam("commons_id"), Category.code == bindparam("category"), Category.active.is_(True)
            )
            .exists(),
            *(
                select(column)
                .where(RuleVersion.commons_id == bindparam("commons_id"))
                .order_by(in_force_order(RuleVersion, bindparam("today", type_=Date)))
                .limit(1)
                .scalar_subquery()
                for column in (RuleVersion.weekly_hours_threshold, RuleVersion.cadence, RuleVersion.late_periods)
            ),
        )
        .select_from(Membership)
        .where(Membership.commons_id == bindparam("commons_id"), Membership.person_id == bindparam("person_id"))
    )


def hours_on_day_and_week(person_id: int, on: date, *, excluding: int | None = None) -> tuple[Decimal, Decimal]:
    """Hours the person declared on ``on`` and in its ISO week, all commons together, withdrawn
    work excluded (and the contribution ``excluding``): one query for both totals."""
    monday, sunday = week_bounds(on)
    params = {"person_id": person_id, "on": on, "monday": monday, "sunday": sunday}
    if excluding is not None:
        params["excluding"] = excluding
    day, week = execute_plain(_day_and_week_hours(excluding is not None), params).one()
    return Decimal(day), Decimal(week)


def care_warnings(week_total: Decimal, threshold: int | None, on: date) -> list[str]:
    """A kind word, never a refusal, when someone's week (``week_total`` hours, the saved work
    included) goes past the rules' ``threshold`` (None or 0: the default)."""
    threshold = threshold or DEFAULT_WEEKLY_THRESHOLD
    if week_total <= threshold:
        return []
    return [
        _(
            "You have declared %(total)s hours in the week of %(monday)s, more than %(threshold)s hours. "
            "Your work is recorded. Take care of yourself: it may be time to share the load or rest.",
            total=f"{week_total:.2f}",
            monday=week_bounds(on)[0].isoformat(),
            threshold=threshold,
        )
    ]


def date_bounds(commons: Commons, cadence: str | None, late_periods: int | None) -> DateBounds:
    """The earliest dates work of ``commons`` may have under rules of that cadence and window."""
    return DateBounds(
        commons.started_on, late_window_start(today(), cadence or "monthly", 1 if late_periods is None else late_periods)
    )


def _standing(commons: Commons, person: Person, category: str) -> tuple[bool, int | None, DateBounds]:
    """Whether ``category`` is one of the commons' active categories, the weekly-hours threshold
    of its rules in force today and the dates they accept; a refusal when the person is not a
    member. One query for all of it."""
    row = execute_plain(
        _standing_query(), {"commons_id": commons.id, "person_id": person.id, "category": category, "today": today()}
    ).first()
    if row is None:
        raise Forbidden(
            _("You can only declare work for a commons you belong to."),
            fields={"commons": [_("You are not a member of this commons.")]},
        )
    return bool(row[0]), row[1], date_bounds(commons, row[2], row[3])


def _threshold_of(round_: Round | None, commons_id: int) -> int | None:
    """The weekly-hours threshold judging work in ``round_`` (its pinned rules), else the rules' in force today."""
    rules = round_.rule_version if round_ is not None else rules_in_force(commons_id)
    return rules.weekly_hours_threshold if rules else None


def _assign(commons_id: int, on: date, problems: dict[str, list[str]]):
    """The round for work dated ``on`` (or None: the next round adopts it) and whether it is late."""
    round_, late = round_for(commons_id, on)
    if round_ is None and late:
        problems.setdefault("date", []).append(
            _("This period is closed and no round is open to take a late declaration; ask a steward.")
        )
    return round_, late


def _refuse(problems: dict[str, list[str]]) -> None:
    if problems:
        raise ValidationFailed(_("Please correct: %(fields)s.", fields=", ".join(sorted(problems))), fields=problems)


def declare(person: Person, commons: Commons, draft: Draft, *, idempotency_key: str | None = None) -> Saved:
    """Record a declaration, or refuse it naming every faulty field.

    With an ``idempotency_key`` (the form's one-time token), a repeated submission returns the
    contribution the first one created instead of a second one.
    """
    if idempotency_key:
        existing = db.session.scalar(
            select(Contribution).where(Contribution.person_id == person.id, Contribution.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return Saved(existing, replayed=True)
    # Each query here runs once per declaration under load: they are kept few (see
    # tests/test_contributions_statement_count.py).
    category_active, threshold_in_force, bounds = _standing(commons, person, draft.category)
    # What follows writes (and re-reads what the write depends on) under the write lock only.
    write_phase()
    lock_day(person.id, draft.on)
    day_hours, week_hours = hours_on_day_and_week(person.id, draft.on)
    problems = check_draft(
        draft,
        today=today(),
        other_hours_that_day=day_hours,
        categories={draft.category} if category_active else set(),
        bounds=bounds,
    )
    round_, late = (None, False) if "date" in problems else _assign(commons.id, draft.on, problems)
    _refuse(problems)
    contribution = Contribution(
        person_id=person.id,
        commons_id=commons.id,
        round_id=round_.id if round_ is not None else None,
        round=round_,
        date=draft.on,
        hours=draft.hours,
        category=draft.category,
        description=draft.description,
        evidence_url=draft.evidence_url or None,
        status=ContributionStatus.DECLARED,
        idempotency_key=idempotency_key,
        # Set rather than loaded back for the response: new work has no vouch or objection yet,
        # and the session keeps the round only as long as something refers to it.
        vouches=[],
        objections=[],
    )
    if idempotency_key is None:
        _insert_new(contribution)
    else:
        try:
            with db.session.begin_nested():
                db.session.add(contribution)
        except IntegrityError:
            # The same one-time token submitted twice at once: the other request stored it.
            existing = db.session.scalar(
                select(Contribution).where(Contribution.person_id == person.id, Contribution.idempotency_key == idempotency_key)
            )
            if existing is None:
                raise
            return Saved(existing, replayed=True)
    threshold = round_.rule_version.weekly_hours_threshold if round_ is not None else threshold_in_force
    return Saved(contribution, late=late, warnings=care_warnings(week_hours + draft.hours, threshold, draft.on))


def _insert_new(contribution: Contribution) -> None:
    """Store a new contribution with one INSERT … RETURNING and keep the object in the session as
    if the unit of work had flushed it: a declaration's flush (its dependency sort, history and
    events) cost more than the rest of its writing (docs/performance.md). The revision counters
    a flush would have bumped are bumped all the same (``revisions.written``)."""
    # Every column is given its value here: one left unset would be loaded back by a query the
    # first time the response reads it, once the object counts as stored.
    contribution.carried_from_round_id = None
    contribution.created_at = contribution.updated_at = utcnow()
    values = {column.key: getattr(contribution, column.key) for column in _INSERTED_COLUMNS}
    contribution.id = db.session.connection().execute(_insert_contribution(), values).scalar_one()
    make_transient_to_detached(contribution)  # its values are now those of the stored row
    db.session.add(contribution)
    revisions.written(contribution)


_INSERTED_COLUMNS = tuple(column for column in Contribution.__table__.columns if column.key != "id")


@cache
def _insert_contribution():
    return insert(Contribution.__table__).returning(Contribution.__table__.c.id)


def edit_refusal(contribution: Contribution, person: Person) -> LedgerError | None:
    """Why ``person`` may not change (or withdraw) this contribution, or None when they may:
    only its author, while it stands and its round (if any) is open."""
    if contribution.person_id != person.id:
        return Forbidden(_("Only the person who declared this contribution may change it."))
    if contribution.status not in (ContributionStatus.DECLARED, ContributionStatus.CARRIED_OVER):
        return Conflict(_("This contribution was withdrawn or rejected; it can no longer change."))
    if contribution.round is not None and contribution.round.state != "open":
        return Conflict(_("Its round is closed to changes (state: %(state)s).", state=ROUND_LABELS[contribution.round.state]))
    return None


def can_edit(contribution: Contribution, person: Person) -> bool:
    """What the pages ask before offering "Edit" and "Withdraw": the same rule the change obeys."""
    return edit_refusal(contribution, person) is None


def _require_editable(contribution: Contribution, person: Person) -> None:
    refusal = edit_refusal(contribution, person)
    if refusal is not None:
        raise refusal


def update(contribution: Contribution, person: Person, changes: dict) -> Saved:
    """Change a declaration while its round is open; the same checks as a new one."""
    _require_editable(contribution, person)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed."), fields={name: [_("cannot be changed")] for name in sorted(unknown)}
        )
    draft = Draft(
        on=changes.get("on", contribution.date),
        hours=Decimal(changes.get("hours", contribution.hours)),
        category=changes.get("category", contribution.category),
        description=changes.get("description", contribution.description),
        evidence_url=changes.get("evidence_url", contribution.evidence_url),
    )
    codes = {c.code for c in categories_of(contribution.commons_id)}
    if draft.category == contribution.category:
        codes.add(draft.category)  # a category retired since may stay on work declared before
    lock_day(person.id, draft.on)
    day_hours, week_hours = hours_on_day_and_week(person.id, draft.on, excluding=contribution.id)
    rules = rules_in_force(contribution.commons_id)
    bounds = date_bounds(contribution.commons, rules.cadence if rules else None, rules.late_periods if rules else None)
    if draft.on == contribution.date:
        bounds = None  # the date stays: the declaration was accepted with it
    problems = check_draft(draft, today=today(), other_hours_that_day=day_hours, categories=codes, bounds=bounds)
    round_, late = contribution.round, False
    if "date" not in problems and draft.on != contribution.date:
        round_, late = _assign(contribution.commons_id, draft.on, problems)
    _refuse(problems)
    contribution.date, contribution.hours, contribution.category = draft.on, draft.hours, draft.category
    contribution.description, contribution.evidence_url = draft.description, draft.evidence_url or None
    contribution.round_id = round_.id if round_ else None
    contribution.round = round_
    db.session.flush()
    warnings = care_warnings(week_hours + draft.hours, _threshold_of(round_, contribution.commons_id), draft.on)
    return Saved(contribution, late=late, warnings=warnings)


def withdraw(contribution: Contribution, person: Person) -> Contribution:
    """Take a declaration back while its round is open; the row stays, marked withdrawn."""
    if contribution.status == ContributionStatus.WITHDRAWN and contribution.person_id == person.id:
        return contribution  # withdrawing twice changes nothing
    _require_editable(contribution, person)
    contribution.status = ContributionStatus.WITHDRAWN
    db.session.flush()
    return contribution


@dataclass(frozen=True)
class Filters:
    commons: Commons | None = None
    round_id: int | None = None
    person_id: int | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    limit: int = 100
    offset: int = 0


def list_contributions(viewer: Person, filters: Filters) -> list[Contribution]:
    """The viewer's own contributions, or (with a commons they belong to) that commons' ones."""
    query = select(Contribution).options(
        selectinload(Contribution.objections),
        selectinload(Contribution.vouches),
        selectinload(Contribution.commons),
        selectinload(Contribution.round),
        selectinload(Contribution.person),
    )
    if filters.commons is not None:
        if membership(filters.commons, viewer) is None and not viewer.is_admin:
            raise Forbidden(
                _("Only people of this commons can see its contributions."),
                fields={"commons": [_("You are not a member of this commons.")]},
            )
        query = query.where(Contribution.commons_id == filters.commons.id)
        if filters.person_id is not None:
            query = query.where(Contribution.person_id == filters.person_id)
    else:
        query = query.where(Contribution.person_id == viewer.id)
    if filters.round_id is not None:
        query = query.where(Contribution.round_id == filters.round_id)
    if filters.date_from is not None:
        query = query.where(Contribution.date >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Contribution.date <= filters.date_to)
    query = query.order_by(Contribution.date.desc(), Contribution.id.desc())
    if filters.status is None:
        return list(db.session.scalars(query.limit(filters.limit).offset(filters.offset)))
    # The status is derived, so the filter applies after loading.
    matching = [c for c in db.session.scalars(query) if status_of(c) == filters.status]
    return matching[filters.offset : filters.offset + filters.limit]


def memberships_of(person: Person) -> list[Membership]:
    return list(
        db.session.scalars(select(Membership).join(Commons).where(Membership.person_id == person.id).order_by(Commons.name))
    )
