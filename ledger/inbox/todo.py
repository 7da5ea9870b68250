"""What waits for a person: objections to answer, votes to cast (on objections and on rule
proposals), reviews, rounds to finalize, batches to export. One query per kind; the home page and the mail digest read the same list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, select

from ledger.commons.models import Commons, Membership
from ledger.contributions.models import Contribution, Objection, ObjectionState, Vote
from ledger.contributions.peer import REVIEWER_ROLES
from ledger.extensions import db
from ledger.governance.colleges import VOTER_ROLES, eligible_voters
from ledger.governance.models import Procedure, ProposalState, ProposalVote, RuleProposal
from ledger.payouts.models import Cae, PayoutBatch
from ledger.people.models import Person
from ledger.rounds.models import Round, RuleVersion
from ledger.timeutil import today

# The kinds that deserve a mail at once; the others wait for the digest.
IMMEDIATE = ("answer_objection", "cast_vote", "vote_proposal")


@dataclass(frozen=True)
class Task:
    kind: str  # answer_objection | cast_vote | vote_proposal | review | finalize | export_batch
    subject_id: int  # where to act: the contribution, the proposal, the round or the batch
    place: str  # the commons' slug, or the CAE's code for a batch
    place_name: str
    detail: str  # a date, a description: what tells the tasks apart
    due: date | None = None


def todo_for(person: Person) -> list[Task]:
    """Everything waiting for ``person``, most urgent kinds first."""
    return (
        objections_to_answer(person)
        + votes_to_cast(person)
        + proposals_to_vote(person)
        + reviews_to_do(person)
        + rounds_to_finalize(person)
        + batches_to_export(person)
    )


def objections_to_answer(person: Person) -> list[Task]:
    rows = db.session.execute(
        select(Contribution.id, Commons.slug, Commons.name, Contribution.description)
        .select_from(Objection)
        .join(Contribution, Contribution.id == Objection.contribution_id)
        .join(Commons, Commons.id == Contribution.commons_id)
        .where(Contribution.person_id == person.id, Objection.state == ObjectionState.OPEN, Objection.answer.is_(None))
        .order_by(Objection.id)
    ).all()
    return [Task("answer_objection", cid, slug, name, description[:80]) for cid, slug, name, description in rows]


def votes_to_cast(person: Person) -> list[Task]:
    """Open objections decided by vote, in commons where the person reviews, not on their own work."""
    voted = exists().where(Vote.objection_id == Objection.id, Vote.person_id == person.id)
    rows = db.session.execute(
        select(Contribution.id, Commons.slug, Commons.name, Contribution.description)
        .select_from(Objection)
        .join(Contribution, Contribution.id == Objection.contribution_id)
        .join(Commons, Commons.id == Contribution.commons_id)
        .join(Membership, and_(Membership.commons_id == Commons.id, Membership.person_id == person.id))
        .join(Round, Round.id == Contribution.round_id)
        .join(RuleVersion, RuleVersion.id == Round.rule_version_id)
        .where(
            Objection.state == ObjectionState.OPEN,
            Membership.role.in_(REVIEWER_ROLES),
            Contribution.person_id != person.id,
            RuleVersion.objection_procedure == "vote",
            ~voted,
        )
        .order_by(Objection.id)
    ).all()
    return [Task("cast_vote", cid, slug, name, description[:80]) for cid, slug, name, description in rows]


def proposals_to_vote(person: Person) -> list[Task]:
    """Rule proposals open to a vote until a deadline not yet passed, where the person may vote
    (with colleges: placed in one) and has not."""
    voted = exists().where(ProposalVote.proposal_id == RuleProposal.id, ProposalVote.person_id == person.id)
    rows = db.session.execute(
        select(RuleProposal.id, Commons.id, Commons.slug, Commons.name, RuleProposal.title, RuleProposal.deadline)
        .select_from(RuleProposal)
        .join(Commons, Commons.id == RuleProposal.commons_id)
        .join(Membership, and_(Membership.commons_id == Commons.id, Membership.person_id == person.id))
        .where(
            RuleProposal.state == ProposalState.OPEN,
            RuleProposal.procedure == Procedure.VOTE,
            RuleProposal.deadline >= today(),
            Membership.role.in_(VOTER_ROLES),
            ~voted,
        )
        .order_by(RuleProposal.deadline, RuleProposal.id)
    ).all()
    return [
        Task("vote_proposal", pid, slug, name, title[:80], deadline)
        for pid, commons_id, slug, name, title, deadline in rows
        if person.id in eligible_voters(commons_id)
    ]


def reviews_to_do(person: Person) -> list[Task]:
    rows = db.session.execute(
        select(Round.id, Commons.slug, Commons.name, Round.allocation_on)
        .select_from(Round)
        .join(Commons, Commons.id == Round.commons_id)
        .join(Membership, and_(Membership.commons_id == Commons.id, Membership.person_id == person.id))
        .where(Round.state == "review", Membership.role.in_(REVIEWER_ROLES))
        .order_by(Round.allocation_on)
    ).all()
    return [Task("review", rid, slug, name, ends.isoformat(), ends) for rid, slug, name, ends in rows]


def rounds_to_finalize(person: Person) -> list[Task]:
    rows = db.session.execute(
        select(Round.id, Commons.slug, Commons.name, Round.period_start)
        .select_from(Round)
        .join(Commons, Commons.id == Round.commons_id)
        .join(Membership, and_(Membership.commons_id == Commons.id, Membership.person_id == person.id))
        .where(Round.state == "allocated", Membership.role == "steward")
        .order_by(Round.id)
    ).all()
    return [Task("finalize", rid, slug, name, start.isoformat()) for rid, slug, name, start in rows]


def batches_to_export(person: Person) -> list[Task]:
    cae_ids = [r.cae_id for r in person.roles if r.role == "cae_accountant" and r.cae_id]
    if not cae_ids:
        return []
    rows = db.session.execute(
        select(PayoutBatch.id, Cae.code, Cae.name, Round.finalized_at)
        .select_from(PayoutBatch)
        .join(Cae, Cae.id == PayoutBatch.cae_id)
        .join(Round, Round.id == PayoutBatch.round_id)
        .where(PayoutBatch.cae_id.in_(cae_ids), PayoutBatch.route == "cae", PayoutBatch.state == "pending")
        .order_by(PayoutBatch.id)
    ).all()
    return [Task("export_batch", bid, code, name, stamp.strftime("%Y-%m") if stamp else "") for bid, code, name, stamp in rows]
