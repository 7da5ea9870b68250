"""Peer control a posteriori: vouches, objections, answers, votes and mediation.

Members and stewards of a commons review others' work while its round is open or in review
(or before any round took it). Nobody reviews their own contribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ledger.accounts.money import parse_rate
from ledger.commons.models import Commons, Membership
from ledger.commons.service import membership
from ledger.contributions.models import Contribution, ContributionStatus, Objection, ObjectionState, Vote, Vouch
from ledger.contributions.service import hours_on_day, lock_day, rules_for
from ledger.contributions.validation import MAX_HOURS_PER_DAY, REASON_LENGTH, hours_problem, text_problem
from ledger.contributions.voting import decide
from ledger.errors import Conflict, Forbidden, LedgerError, NotFound, ValidationFailed, field_error
from ledger.extensions import db
from ledger.governance.colleges import colleges_of
from ledger.governance.objections import objection_outcome
from ledger.governance.register import record_objection
from ledger.people.models import Person
from ledger.rounds.models import Round
from ledger.timeutil import utcnow

REVIEW_ROUND_STATES = ("open", "review")
REVIEWER_ROLES = ("member", "steward")


def get_objection(objection_id: int) -> Objection:
    found = db.session.get(Objection, objection_id)
    if found is None:
        raise NotFound(_("No objection with this number."))
    return found


def _require_reviewable(contribution: Contribution) -> None:
    if contribution.status not in (ContributionStatus.DECLARED, ContributionStatus.CARRIED_OVER):
        raise Conflict(_("This contribution was withdrawn or rejected; there is nothing to review."))
    if contribution.round is not None and contribution.round.state not in REVIEW_ROUND_STATES:
        raise Conflict(_("Its round is past review (state: %(state)s).", state=contribution.round.state))


def _require_reviewer(contribution: Contribution, person: Person) -> Membership:
    if contribution.person_id == person.id:
        raise Forbidden(_("You cannot review your own contribution."))
    found = membership(contribution.commons, person)
    if found is None or found.role not in REVIEWER_ROLES:
        raise Forbidden(_("Only members and stewards of this commons review contributions."))
    return found


def reviewer_rights(contribution: Contribution, person: Person) -> bool:
    """Whether the review forms should be offered to ``person`` for this contribution."""
    try:
        _require_reviewable(contribution)
        _require_reviewer(contribution, person)
    except (Conflict, Forbidden):
        return False
    return True


def vouch(contribution: Contribution, person: Person) -> Vouch:
    """Vouch once for someone else's contribution."""
    _require_reviewable(contribution)
    _require_reviewer(contribution, person)
    if db.session.scalar(select(Vouch.id).where(Vouch.contribution_id == contribution.id, Vouch.person_id == person.id)):
        raise Conflict(_("You already vouched for this contribution."))
    found = Vouch(contribution_id=contribution.id, person_id=person.id)
    db.session.add(found)
    db.session.flush()
    return found


def object_to(contribution: Contribution, person: Person, reason: str) -> Objection:
    """Raise an objection, with a written reason, to someone else's contribution."""
    _require_reviewable(contribution)
    _require_reviewer(contribution, person)
    reason = (reason or "").strip()
    if problem := text_problem(reason, REASON_LENGTH):
        raise field_error("reason", problem)
    if db.session.scalar(
        select(Objection.id).where(
            Objection.contribution_id == contribution.id,
            Objection.objector_id == person.id,
            Objection.state == ObjectionState.OPEN,
        )
    ):
        raise Conflict(_("You already have an open objection to this contribution."))
    objection = Objection(contribution_id=contribution.id, objector_id=person.id, reason=reason, state=ObjectionState.OPEN)
    db.session.add(objection)
    db.session.flush()
    from ledger.inbox.notifications import objection_raised  # the contributor and the voters hear of it at once

    objection_raised(objection)
    return objection


def _lock(objection: Objection) -> None:
    """Read the objection again under a row lock held until the transaction ends: votes, answers,
    mediation and withdrawal of one objection take turns, so that a tally counts every ballot
    committed before it and a decided objection is never decided again."""
    db.session.refresh(objection, with_for_update={"key_share": True})


def _require_open(objection: Objection) -> None:
    _lock(objection)
    if objection.state != ObjectionState.OPEN:
        raise Conflict(_("This objection is already closed (%(state)s).", state=objection.state))
    _require_reviewable(objection.contribution)


def amendment_problem(contribution: Contribution, amended_hours: Decimal) -> str | None:
    """Once its round is in review, an answer may only lower the hours.

    Raising them then would be an edit the review can no longer see coming (declarations are
    closed); while the round is open, the contributor edits the declaration instead.
    """
    round_ = contribution.round
    if round_ is not None and round_.state != "open" and amended_hours > Decimal(contribution.hours):
        return _(
            "During the review an amendment may only lower the hours (declared: %(hours)s).",
            hours=f"{Decimal(contribution.hours):.2f}",
        )
    return None


def answer(objection: Objection, person: Person, text: str | None, amended_hours: Decimal | None) -> Objection:
    """The contributor answers an objection and/or amends the hours of the contribution."""
    contribution = objection.contribution
    if contribution.person_id != person.id:
        raise Forbidden(_("Only the contributor answers an objection to their contribution."))
    _require_open(objection)
    text = (text or "").strip()
    problems: dict[str, list[str]] = {}
    if not text and amended_hours is None:
        problems["answer"] = [_("Write an answer or amend the hours.")]
    elif text and (problem := text_problem(text, REASON_LENGTH)):
        problems["answer"] = [problem]
    if amended_hours is not None:
        lock_day(person.id, contribution.date)
        if (problem := hours_problem(amended_hours)) or (problem := amendment_problem(contribution, amended_hours)):
            problems["amended_hours"] = [problem]
        elif hours_on_day(person.id, contribution.date, excluding=contribution.id) + amended_hours > MAX_HOURS_PER_DAY:
            problems["amended_hours"] = [_("A day has at most 24 hours across your commons.")]
    if problems:
        raise ValidationFailed(_("The answer was not recorded."), fields=problems)
    if text:
        objection.answer = text
    if amended_hours is not None:
        objection.amended_hours = amended_hours
        contribution.hours = amended_hours
    db.session.flush()
    return objection


@dataclass(frozen=True)
class Tally:
    keep: int
    reject: int
    eligible: int


def eligible_voters(objection: Objection) -> int:
    """Members and stewards of the commons, except the contributor."""
    contribution = objection.contribution
    return db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.commons_id == contribution.commons_id,
            Membership.role.in_(REVIEWER_ROLES),
            Membership.person_id != contribution.person_id,
        )
    )


def tally(objection: Objection) -> Tally:
    counts = dict(
        db.session.execute(
            select(Vote.keep, func.count(Vote.id)).where(Vote.objection_id == objection.id).group_by(Vote.keep)
        ).all()
    )
    return Tally(keep=counts.get(True, 0), reject=counts.get(False, 0), eligible=eligible_voters(objection))


def _close(objection: Objection, state: str, resolution: str) -> None:
    objection.state, objection.resolution, objection.resolved_at = state, resolution, utcnow()


def has_colleges(objection: Objection) -> bool:
    return bool(colleges_of(objection.contribution.commons_id))


def vote(objection: Objection, person: Person, keep: bool) -> Objection:
    """Vote to keep or reject an objected contribution; the objection is decided once quorum is met."""
    rules = rules_for(objection.contribution)
    if rules is not None and rules.objection_procedure != "vote":
        raise Conflict(_("In this commons a steward resolves objections by mediation; there is no vote."))
    _require_open(objection)
    _require_reviewer(objection.contribution, person)
    ballot = db.session.scalar(select(Vote).where(Vote.objection_id == objection.id, Vote.person_id == person.id))
    if ballot is None:
        db.session.add(Vote(objection_id=objection.id, person_id=person.id, keep=keep))
    else:
        ballot.keep = keep  # changing one's mind is allowed while the objection is open
    db.session.flush()
    counted = tally(objection)
    quorum = parse_rate(rules.quorum if rules else "0.5")
    # Weighted by college when the commons has colleges; one person, one vote otherwise.
    if has_colleges(objection):
        outcome = objection_outcome(objection, quorum)
    else:
        outcome = decide(keep=counted.keep, reject=counted.reject, eligible=counted.eligible, quorum=quorum)
    if outcome is not None:
        _close(
            objection,
            outcome,
            _(
                "Decided by vote: %(reject)s to reject, %(keep)s to keep, out of %(eligible)s eligible.",
                reject=counted.reject,
                keep=counted.keep,
                eligible=counted.eligible,
            ),
        )
        db.session.flush()
        record_objection(objection, procedure="vote", eligible=counted.eligible, cast=counted.keep + counted.reject)
    return objection


def mediation_refusal(contribution: Contribution, person: Person) -> LedgerError | None:
    """Why ``person`` may not mediate objections to this contribution, or None: a steward of the
    commons (not an administrator from outside it), under the mediation procedure, not on their own work."""
    rules = rules_for(contribution)
    if rules is not None and rules.objection_procedure != "mediation":
        return Conflict(_("In this commons objections are decided by vote."))
    found = membership(contribution.commons, person)
    if found is None or found.role != "steward":
        return Forbidden(_("Only a steward of this commons mediates objections."))
    if contribution.person_id == person.id:
        return Forbidden(_("You cannot mediate an objection to your own contribution."))
    return None


def can_mediate(contribution: Contribution, person: Person) -> bool:
    return mediation_refusal(contribution, person) is None


def resolve(objection: Objection, person: Person, decision: str, resolution: str) -> Objection:
    """Mediation: a steward upholds or dismisses an objection, saying why."""
    refusal = mediation_refusal(objection.contribution, person)
    if refusal is not None:
        raise refusal
    _require_open(objection)
    problems: dict[str, list[str]] = {}
    if decision not in ("uphold", "dismiss"):
        problems["decision"] = [_("Choose uphold or dismiss.")]
    resolution = (resolution or "").strip()
    if problem := text_problem(resolution, REASON_LENGTH):
        problems["resolution"] = [problem]
    if problems:
        raise ValidationFailed(_("The objection was not resolved."), fields=problems)
    _close(objection, ObjectionState.UPHELD if decision == "uphold" else ObjectionState.DISMISSED, resolution)
    db.session.flush()
    record_objection(objection, procedure="mediation", eligible=None, cast=None)
    return objection


def withdraw_objection(objection: Objection, person: Person) -> Objection:
    """The objector takes their objection back."""
    if objection.objector_id != person.id:
        raise Forbidden(_("Only the person who objected may withdraw the objection."))
    _lock(objection)
    if objection.state != ObjectionState.OPEN:
        raise Conflict(_("This objection is already closed (%(state)s).", state=objection.state))
    _close(objection, ObjectionState.WITHDRAWN, _("Withdrawn by the objector."))
    db.session.flush()
    return objection


def under_review(commons: Commons, round_: Round | None) -> list[Contribution]:
    """The contributions to review: a given round's, or those not yet in a round or in an open or review one."""
    query = (
        select(Contribution)
        .options(
            selectinload(Contribution.objections).selectinload(Objection.votes),
            selectinload(Contribution.vouches),
            selectinload(Contribution.round),
            selectinload(Contribution.person),
        )
        .where(Contribution.commons_id == commons.id, Contribution.status != ContributionStatus.WITHDRAWN)
    )
    if round_ is not None:
        query = query.where(Contribution.round_id == round_.id)
    else:
        query = query.outerjoin(Round, Contribution.round_id == Round.id).where(
            (Contribution.round_id.is_(None)) | (Round.state.in_(REVIEW_ROUND_STATES))
        )
    return list(db.session.scalars(query.order_by(Contribution.date.desc(), Contribution.id.desc())))


def require_commons_viewer(commons: Commons, person: Person) -> Membership | None:
    """People of the commons (any role) and administrators see what is under review."""
    found = membership(commons, person)
    if found is None and not person.is_admin:
        raise Forbidden(_("Only people of this commons can see its review."))
    return found
