"""Rule proposals: proposed by any member, discussed, then decided by the procedure the rules in force name.

Every permission and state of a proposal is decided here; the API, the pages and the scheduler ask.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger.commons.models import Commons
from ledger.commons.service import membership
from ledger.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ledger.extensions import db
from ledger.formatting import day, later
from ledger.governance import colleges, outcomes
from ledger.governance.models import (
    STATE_LABELS,
    CommentKind,
    DecisionKind,
    Outcome,
    Procedure,
    ProposalComment,
    ProposalState,
    ProposalVote,
    RuleProposal,
)
from ledger.governance.register import record
from ledger.governance.tally import VoteResult, count
from ledger.people.models import Person
from ledger.rounds.models import RuleVersion
from ledger.rounds.rules import RULE_FIELDS, check_category_weights, propose_rules, rules_in_force, stored_settings
from ledger.timeutil import today, utcnow

DECIMAL_FIELDS = ("levy_rate", "quorum", "hybrid_time_weight", "majority")


def _same(name: str, a, b) -> bool:
    """Equal as the rules mean them: "0.50" is "0.5", weights compare as numbers."""
    if name in DECIMAL_FIELDS:
        return Decimal(str(a)) == Decimal(str(b))
    if name == "category_weights":
        left, right = a or {}, b or {}
        return left.keys() == right.keys() and all(Decimal(str(left[k])) == Decimal(str(right[k])) for k in left)
    return a == b


def get_proposal(proposal_id: int) -> RuleProposal:
    proposal = db.session.get(RuleProposal, proposal_id)
    if proposal is None:
        raise NotFound(_l("No proposal %(proposal_id)s.", proposal_id=proposal_id))
    return proposal


def proposals_of(commons_id: int) -> list[RuleProposal]:
    """Every proposal, newest first: the rejected and withdrawn ones stay in the history."""
    return list(
        db.session.scalars(select(RuleProposal).where(RuleProposal.commons_id == commons_id).order_by(RuleProposal.id.desc()))
    )


def _require_member(commons: Commons, person: Person):
    found = membership(commons, person)
    if found is None:
        raise Forbidden(_l("Only a member of %(commons)s may do this.", commons=commons.name))
    return found


def _require_open(proposal: RuleProposal) -> None:
    if proposal.state != ProposalState.OPEN:
        raise Conflict(
            _l(
                "Proposal %(proposal)s is %(state)s; nothing was written.",
                proposal=proposal.id,
                state=STATE_LABELS[proposal.state],
            ),
            code="proposal_" + proposal.state,
        )


def propose(
    commons: Commons,
    person: Person,
    *,
    title: str,
    rationale: str,
    values: dict,
    effective_from: date | None = None,
    college_entries: list[dict] = (),
    moves: list[dict] = (),
) -> RuleProposal:
    """A new proposal by any member: only the settings that differ from the rules in force are kept.

    A proposal may also define or re-weigh colleges and move members between them
    (``college_entries``, ``moves``: see ``colleges.proposed_changes``): they weigh the votes, so
    they change by the same procedure as the rules.

    The procedure and its thresholds are those of the rules in force now; the deadline is
    ``decision_days`` from today. A proposal takes effect on ``effective_from`` (default: the day
    after the deadline), or on the day it is adopted if that is later.
    """
    _require_member(commons, person)
    check_category_weights(commons, values.get("category_weights"))
    base = rules_in_force(commons.id)
    proposed = stored_settings(values)
    changes = {name: value for name, value in proposed.items() if not _same(name, getattr(base, name), value)}
    college_changes = colleges.proposed_changes(commons, list(college_entries), list(moves))
    if not changes and not college_changes:
        raise ValidationFailed(
            _l("The proposal changes nothing in the rules in force."), fields={"_schema": [_l("changes nothing")]}
        )
    if not (title or "").strip():
        raise field_error("title", _l("is required"))
    if not (rationale or "").strip():
        raise field_error("rationale", _l("say why the rules should change"))
    deadline = today() + timedelta(days=base.decision_days)
    effective = effective_from or deadline + timedelta(days=1)
    if effective < base.effective_from:
        raise field_error(
            "effective_from", _l("cannot be before the rules in force (%(date)s)", date=later(day, base.effective_from))
        )
    proposal = RuleProposal(
        commons_id=commons.id,
        author_id=person.id,
        title=title.strip(),
        rationale=rationale.strip(),
        base_version_id=base.id,
        changes=changes,
        college_changes=college_changes or None,
        effective_from=effective,
        procedure=base.decision_procedure,
        quorum=base.quorum,
        majority=base.majority,
        deadline=deadline,
        state=ProposalState.OPEN,
    )
    db.session.add(proposal)
    db.session.flush()
    if proposal.procedure == Procedure.VOTE:
        from ledger.inbox.notifications import vote_opened  # the voters hear of it at once

        vote_opened(proposal)
    return proposal


def proposed_rules(proposal: RuleProposal, over: RuleVersion | None = None) -> SimpleNamespace:
    """The rules as they would read if adopted now: those in force changed by the proposal."""
    base = over or rules_in_force(proposal.commons_id)
    settings = {name: getattr(base, name) for name in RULE_FIELDS}
    settings.update(proposal.changes)
    return SimpleNamespace(**settings)


def differences(proposal: RuleProposal) -> list[tuple[str, object, object]]:
    """(field, in force, proposed) for each setting the proposal changes, against the rules in force now."""
    base = rules_in_force(proposal.commons_id)
    return [
        (name, getattr(base, name), value)
        for name, value in proposal.changes.items()
        if not _same(name, getattr(base, name), value)
    ]


def comment(proposal: RuleProposal, person: Person, kind: str, body: str) -> ProposalComment:
    """A pro, a con or a question by a member; an objection only under consent, and only by a voter."""
    commons = db.session.get(Commons, proposal.commons_id)
    found = _require_member(commons, person)
    _require_open(proposal)
    if kind not in {k.value for k in CommentKind}:
        raise field_error("kind", _l("must be one of %(choices)s", choices=", ".join(k.value for k in CommentKind)))
    if kind == CommentKind.OBJECTION:
        if proposal.procedure != Procedure.CONSENT:
            raise field_error("kind", _l("objections belong to the consent procedure; under a vote, say 'con' and vote"))
        if found.role not in colleges.VOTER_ROLES:
            raise Forbidden(_l("Only members and stewards may object."))
    if len((body or "").strip()) < 3:
        raise field_error("body", _l("write at least a few words (a reason, an argument)"))
    entry = ProposalComment(proposal_id=proposal.id, author_id=person.id, kind=kind, body=body.strip())
    db.session.add(entry)
    db.session.flush()
    return entry


def get_comment(proposal: RuleProposal, comment_id: int) -> ProposalComment:
    entry = db.session.get(ProposalComment, comment_id)
    if entry is None or entry.proposal_id != proposal.id:
        raise NotFound(_l("No comment %(comment_id)s on proposal %(proposal)s.", comment_id=comment_id, proposal=proposal.id))
    return entry


def answer_objection(proposal: RuleProposal, entry: ProposalComment, person: Person, text: str) -> ProposalComment:
    """The author of the proposal, or a steward, answers an objection: an answered objection no longer blocks."""
    commons = db.session.get(Commons, proposal.commons_id)
    found = _require_member(commons, person)
    _require_open(proposal)
    if entry.kind != CommentKind.OBJECTION:
        raise Conflict(_l("Only an objection is answered."))
    if entry.answer is not None:
        raise Conflict(_l("Objection %(entry)s was answered already.", entry=entry.id))
    if person.id != proposal.author_id and found.role != "steward":
        raise Forbidden(_l("The author of the proposal or a steward answers objections."))
    if len((text or "").strip()) < 3:
        raise field_error("answer", _l("answer the objection's reason in a few words at least"))
    entry.answer, entry.answered_by_id, entry.answered_at = text.strip(), person.id, utcnow()
    db.session.flush()
    return entry


def comments_of(proposal: RuleProposal) -> list[ProposalComment]:
    return list(
        db.session.scalars(select(ProposalComment).where(ProposalComment.proposal_id == proposal.id).order_by(ProposalComment.id))
    )


def votes_of(proposal: RuleProposal) -> list[ProposalVote]:
    return list(db.session.scalars(select(ProposalVote).where(ProposalVote.proposal_id == proposal.id).order_by(ProposalVote.id)))


def unanswered_objections(proposal: RuleProposal) -> list[ProposalComment]:
    return [c for c in comments_of(proposal) if c.kind == CommentKind.OBJECTION and c.answer is None]


def vote(proposal: RuleProposal, person: Person, approve: bool) -> ProposalVote:
    """One ballot per person on a proposal decided by vote, until the deadline; a second one is a 409."""
    _require_open(proposal)
    if proposal.procedure != Procedure.VOTE:
        raise Conflict(
            _l("Proposal %(proposal)s is not decided by a vote; there is no ballot to cast.", proposal=proposal.id),
            code="no_vote",
        )
    if today() > proposal.deadline:
        raise Conflict(
            _l("The vote on proposal %(proposal)s closed on %(date)s.", proposal=proposal.id, date=later(day, proposal.deadline)),
            code="vote_closed",
        )
    voters = colleges.eligible_voters(proposal.commons_id)
    if person.id not in voters:
        if colleges.colleges_of(proposal.commons_id) and membership(db.session.get(Commons, proposal.commons_id), person):
            raise Forbidden(_l("You are not placed in a college yet: ask a steward."), code="no_college")
        raise Forbidden(_l("Only members and stewards of the commons vote."))
    ballot = ProposalVote(proposal_id=proposal.id, person_id=person.id, college_id=voters[person.id], approve=approve)
    try:
        with db.session.begin_nested():  # the unique constraint is the last word, even in a race
            db.session.add(ballot)
    except IntegrityError as exc:
        raise Conflict(_l("You already voted on proposal %(proposal)s.", proposal=proposal.id), code="already_voted") from exc
    return ballot


def result(proposal: RuleProposal) -> VoteResult:
    """The count of a vote, per college and overall, as it stands (final once decided)."""
    ballots = {v.person_id: v.approve for v in votes_of(proposal)}
    return count(
        colleges.counts(proposal.commons_id, ballots),
        quorum=Fraction(Decimal(proposal.quorum)),
        majority=Fraction(Decimal(proposal.majority)),
    )


def steward_decides(proposal: RuleProposal, person: Person, adopt: bool, reason: str) -> RuleProposal:
    """Under the `steward` procedure only: a steward adopts or rejects, saying why."""
    commons = db.session.get(Commons, proposal.commons_id)
    _require_open(proposal)
    if proposal.procedure != Procedure.STEWARD:
        raise Forbidden(
            _l("Proposal %(proposal)s is decided by consent or vote; a steward cannot decide it alone.", proposal=proposal.id),
            code="decided_by_" + proposal.procedure,
        )
    found = membership(commons, person)
    if (found is None or found.role != "steward") and not person.is_admin:
        raise Forbidden(_l("Only a steward of %(commons)s decides under this procedure.", commons=commons.name))
    if len((reason or "").strip()) < 3:
        raise field_error("reason", _l("say why"))
    outcome = outcomes.stored(Outcome.STEWARD, reason=reason.strip())
    _conclude(proposal, adopt, outcome, decided_by=person, eligible=None, cast=None)
    return proposal


def withdraw(proposal: RuleProposal, person: Person) -> RuleProposal:
    """The author withdraws an open proposal; it stays in the history."""
    _require_open(proposal)
    if person.id != proposal.author_id:
        raise Forbidden(_l("Only the author withdraws a proposal."))
    proposal.state, proposal.decided_at = ProposalState.WITHDRAWN, utcnow()
    proposal.outcome_code, proposal.outcome_params = outcomes.stored(Outcome.WITHDRAWN)
    db.session.flush()
    return proposal


def settle(proposal: RuleProposal, on: date | None = None) -> bool:
    """Decide a consent or vote proposal once its deadline has passed; True if it was decided now.

    Consent: adopted unless an objection is left unanswered. Vote: adopted if the quorum is met and
    the weighted yes share is above the majority. A steward proposal waits for a steward.
    """
    on = on or today()
    if proposal.state != ProposalState.OPEN or proposal.procedure == Procedure.STEWARD or on <= proposal.deadline:
        return False
    if proposal.procedure == Procedure.CONSENT:
        blocking = unanswered_objections(proposal)
        eligible = len(colleges.eligible_voters(proposal.commons_id))
        objections = sum(1 for c in comments_of(proposal) if c.kind == CommentKind.OBJECTION)
        if blocking:
            outcome = outcomes.stored(Outcome.CONSENT_BLOCKED, unanswered=len(blocking))
        else:
            outcome = outcomes.stored(Outcome.CONSENT_ADOPTED, objections=objections)
        _conclude(proposal, not blocking, outcome, decided_by=None, eligible=eligible, cast=objections, on=on)
        return True
    counted = result(proposal)
    if not counted.quorum_met:
        outcome = outcomes.stored(Outcome.QUORUM_NOT_MET, cast=counted.cast, eligible=counted.eligible)
    else:
        outcome = outcomes.stored(Outcome.VOTED, yes=counted.yes_share, cast=counted.cast, eligible=counted.eligible)
    _conclude(proposal, counted.adopted, outcome, decided_by=None, eligible=counted.eligible, cast=counted.cast, on=on)
    return True


def settle_due(on: date | None = None) -> list[int]:
    """What the scheduler runs: every open consent or vote proposal whose deadline has passed."""
    on = on or today()
    due = db.session.scalars(
        select(RuleProposal)
        .where(
            RuleProposal.state == ProposalState.OPEN,
            RuleProposal.procedure != Procedure.STEWARD,
            RuleProposal.deadline < on,
        )
        .order_by(RuleProposal.id)
        .with_for_update(skip_locked=True)
    ).all()
    return [p.id for p in due if settle(p, on)]


def _conclude(
    proposal: RuleProposal, adopt: bool, outcome: tuple[str, dict], *, decided_by, eligible, cast, on: date | None = None
) -> None:
    """Close the proposal; if adopted, record the new rule version; either way, a register entry."""
    on = on or today()
    commons = db.session.get(Commons, proposal.commons_id)
    proposal.state = ProposalState.ADOPTED if adopt else ProposalState.REJECTED
    (proposal.outcome_code, proposal.outcome_params), proposal.decided_at = outcome, utcnow()
    proposal.decided_by_id = decided_by.id if decided_by else None
    if adopt and proposal.changes:
        in_force = rules_in_force(commons.id)
        effective = max(proposal.effective_from, on, in_force.effective_from)
        author = db.session.get(Person, proposal.author_id)
        version = propose_rules(commons, author, f"{proposal.title} (proposal {proposal.id})", effective, proposal.changes)
        proposal.rule_version_id = version.id
    if adopt and proposal.college_changes:
        colleges.apply_changes(commons.id, proposal.college_changes)  # the colleges weigh votes from now on
    db.session.flush()
    record(
        commons.id,
        f"proposal:{proposal.id}",
        DecisionKind.RULE_ADOPTED if adopt else DecisionKind.RULE_REJECTED,
        subject=proposal.title,
        procedure=proposal.procedure,
        result=proposal.state,
        eligible=eligible,
        cast=cast,
    )


def what_if_last_round(proposal: RuleProposal):
    """What the commons' last allocated round would have paid under the proposed rules (writes nothing).

    Returns (round, lines as paid or previewed, lines under the proposal), or None without such a round
    or when the proposal changes only colleges.
    """
    from ledger.rounds import service as rounds_service
    from ledger.rounds.models import AllocationLine, Round

    last = db.session.scalar(
        select(Round)
        .where(Round.commons_id == proposal.commons_id, Round.state.in_(("allocated", "finalized", "paid")))
        .order_by(Round.period_start.desc())
        .limit(1)
    )
    if last is None or not proposal.changes:
        return None
    actual = list(db.session.scalars(select(AllocationLine).where(AllocationLine.round_id == last.id)))
    allocation, _review = rounds_service.simulate(last, vars(proposed_rules(proposal)))
    return last, actual, allocation.lines
