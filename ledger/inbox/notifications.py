"""Mail about what waits for people: at once for an objection (to answer, to vote on) and for a
vote opening on a rule proposal; a daily digest of the rest (`ledger.inbox.todo`), with reminders
of review windows closing soon; and, once per round, a reminder to its commons' members a few days
before the declaration window closes (`LEDGER_DECLARATION_REMINDER_DAYS`).

Each person may opt out (`MailPreference.opted_out`); the digest is sent at most once a day
(`digest_sent_on`), by the scheduler's tick; a round's reminder once (`declaration_reminded_on`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Boolean, Date, ForeignKey, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ledger import formatting, notify
from ledger.commons.models import Commons, Membership
from ledger.contributions.models import Contribution, ContributionStatus, Objection
from ledger.contributions.peer import REVIEWER_ROLES
from ledger.extensions import db
from ledger.governance.colleges import eligible_voters
from ledger.governance.models import RuleProposal
from ledger.inbox.todo import IMMEDIATE, todo_for
from ledger.people.models import Person
from ledger.rounds.models import Round, RoundState
from ledger.timeutil import today

# A review window ending within this many days is announced in the digest as a reminder.
REMINDER_DAYS = 2


class MailPreference(db.Model):
    __tablename__ = "mail_preferences"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_sent_on: Mapped[date | None] = mapped_column(Date)


def preference(person: Person) -> MailPreference:
    found = db.session.get(MailPreference, person.id)
    if found is None:
        found = MailPreference(person_id=person.id, opted_out=False)
        db.session.add(found)
        db.session.flush()
    return found


def wants_mail(person: Person) -> bool:
    found = db.session.get(MailPreference, person.id)
    return found is None or not found.opted_out


def set_opt_out(person: Person, opted_out: bool) -> None:
    preference(person).opted_out = bool(opted_out)
    db.session.flush()


def claim_digest(person: Person, on: date) -> bool:
    """True for the one caller that may send today's digest: two schedulers never both send it."""
    if db.session.get(MailPreference, person.id) is None:
        try:
            with db.session.begin_nested():
                db.session.add(MailPreference(person_id=person.id, opted_out=False))
        except IntegrityError:
            pass  # another scheduler created it meanwhile
    claimed = db.session.execute(
        update(MailPreference)
        .where(
            MailPreference.person_id == person.id,
            or_(MailPreference.digest_sent_on.is_(None), MailPreference.digest_sent_on != on),
        )
        .values(digest_sent_on=on)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def objection_raised(objection: Objection) -> int:
    """Mail the contributor (to answer) and, when the commons votes, each eligible voter. Returns how many."""
    contribution = objection.contribution
    rules = contribution.round.rule_version if contribution.round else None
    people = [db.session.get(Person, contribution.person_id)]
    if rules is None or rules.objection_procedure == "vote":
        voters = db.session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.commons_id == contribution.commons_id,
                Membership.role.in_(REVIEWER_ROLES),
                Person.id.not_in((contribution.person_id, objection.objector_id)),
            )
            .order_by(Person.id)
        ).all()
        people += list(voters)
    sent = 0
    for person in people:
        if not wants_mail(person):
            continue
        author = person.id == contribution.person_id
        notify.send_to(
            person,
            (lambda: _("An objection to your contribution")) if author else (lambda: _("An objection to vote on")),
            "mail/objection.txt",
            author=author,
            contribution=contribution,
            objection=objection,
            url=notify.link("contribution_pages.detail", contribution_id=contribution.id),
        )
        sent += 1
    return sent


def vote_opened(proposal: RuleProposal) -> int:
    """Mail everyone entitled to vote on ``proposal`` (with colleges: those placed in one), but its
    author, who opened it. Returns how many."""
    commons_name = db.session.get(Commons, proposal.commons_id).name
    sent = 0
    for person_id in sorted(eligible_voters(proposal.commons_id, excluding=proposal.author_id)):
        person = db.session.get(Person, person_id)
        if not wants_mail(person):
            continue
        notify.send_to(
            person,
            lambda: _("A vote on the rules of %(name)s", name=commons_name),
            "mail/proposal_vote.txt",
            commons_name=commons_name,
            proposal=proposal,
            url=notify.link("governance_pages.proposal_page", proposal_id=proposal.id),
        )
        sent += 1
    return sent


def send_digests(on: date | None = None) -> int:
    """Once a day, to each person with something waiting (not the immediate kinds), the list."""
    on = on or today()
    sent = 0
    for person in db.session.scalars(select(Person).where(Person.password_hash.is_not(None)).order_by(Person.id)):
        if not wants_mail(person):
            continue
        tasks = [t for t in todo_for(person) if t.kind not in IMMEDIATE]
        if not tasks:
            continue
        if not claim_digest(person, on):
            continue
        closing = [t for t in tasks if t.due is not None and t.due - on <= timedelta(days=REMINDER_DAYS)]
        notify.send_to(
            person,
            lambda: _("What waits for you"),
            "mail/digest.txt",
            tasks=tasks,
            closing=closing,
            url=notify.link("home.index"),
        )
        sent += 1
    db.session.flush()
    return sent


def claim_declaration_reminder(round_: Round, on: date) -> bool:
    """True for the one caller that may remind of this round: a second run, or a second scheduler
    racing the first, finds it already claimed (a conditional UPDATE, as round transitions are)."""
    claimed = db.session.execute(
        update(Round)
        .where(Round.id == round_.id, Round.declaration_reminded_on.is_(None))
        .values(declaration_reminded_on=on)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def declared_hours(round_: Round, person: Person) -> Decimal:
    """What ``person`` has declared in the round so far (withdrawn and rejected work left out)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Contribution.hours), 0)).where(
            Contribution.round_id == round_.id,
            Contribution.person_id == person.id,
            Contribution.status.in_((ContributionStatus.DECLARED, ContributionStatus.CARRIED_OVER)),
        )
    )


def remind_declarations(on: date | None = None, days: int | None = None) -> int:
    """Once per round, ``days`` days (LEDGER_DECLARATION_REMINDER_DAYS; 0: never) before its
    declaration window closes, mail each member of its commons who has an account the last day
    to declare and what they declared so far. Returns how many mails were queued."""
    on = on or today()
    days = current_app.config["LEDGER_DECLARATION_REMINDER_DAYS"] if days is None else days
    if days <= 0:
        return 0
    due = db.session.scalars(
        select(Round)
        .where(
            Round.state == RoundState.OPEN,
            Round.declaration_reminded_on.is_(None),
            Round.review_starts_on > on,  # the window is still open
            Round.review_starts_on <= on + timedelta(days=days),
        )
        .order_by(Round.id)
    ).all()
    sent = 0
    for round_ in due:
        if not claim_declaration_reminder(round_, on):
            continue
        commons = db.session.get(Commons, round_.commons_id)
        members = db.session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.commons_id == commons.id, Person.password_hash.is_not(None))
            .order_by(Person.id)
        ).all()
        for person in members:
            if not wants_mail(person):
                continue
            notify.send_to(
                person,
                lambda name=commons.name: _("Declarations for %(name)s close soon", name=name),
                "mail/declarations_closing.txt",
                commons_name=commons.name,
                round_=round_,
                last_day=round_.review_starts_on - timedelta(days=1),
                hours=declared_hours(round_, person),
                fmt_hours=formatting.hours,  # called as the mail is written, in the person's language
                url=notify.link("contribution_pages.new", commons=commons.slug),
            )
            sent += 1
    db.session.flush()
    return sent
