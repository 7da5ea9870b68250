"""Democratic health of a commons: who takes part, how concentrated the work is, how fast objections settle.

Counts and distributions only: no figure here names a person or ranks people.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Integer, cast, func, select

from ledger.commons.models import Commons, Membership
from ledger.contributions.models import Contribution, ContributionStatus, Objection, ObjectionState, Vote, Vouch
from ledger.extensions import db
from ledger.governance import service
from ledger.governance.models import Procedure, ProposalComment, ProposalVote, RuleProposal
from ledger.governance.tally import percent
from ledger.timeutil import today, utcnow

ACTIVE_DAYS = 91  # "the last three months"
HOUR_BUCKETS = ((0, 5), (5, 20), (20, 50), (50, 100), (100, None))
COUNT_BUCKETS = ((1, 2), (2, 5), (5, 10), (10, 20), (20, None))
DAY_BUCKETS = ((0, 2), (2, 8), (8, 31), (31, None))


def _label(low: int, high: int | None) -> str:
    if high is None:
        return f"{low}+"
    return f"{low}" if high - low == 1 else f"{low}–{high - 1}"


def distribution(values: list, buckets) -> list[dict]:
    """How many values fall in each [low, high) bucket."""
    return [
        {"range": _label(low, high), "count": sum(1 for v in values if v >= low and (high is None or v < high))}
        for low, high in buckets
    ]


def concentration(values: list) -> dict:
    """The share of the total held by the most active fifth of the people who did any (rounded up)."""
    positive = sorted((Fraction(v) for v in values if v > 0), reverse=True)
    total = sum(positive, Fraction(0))
    if not positive or total == 0:
        return {"people": 0, "top_fifth_share": "—"}
    top = positive[: max(1, -(-len(positive) // 5))]
    return {"people": len(positive), "top_fifth_share": percent(sum(top, Fraction(0)) / total)}


def figures(commons: Commons) -> dict:
    since_day = today() - timedelta(days=ACTIVE_DAYS)
    since = utcnow() - timedelta(days=ACTIVE_DAYS)
    members = set(db.session.scalars(select(Membership.person_id).where(Membership.commons_id == commons.id)))
    active: set[int] = set()
    active |= set(
        db.session.scalars(
            select(Contribution.person_id).where(Contribution.commons_id == commons.id, Contribution.date >= since_day)
        )
    )
    in_commons = select(Contribution.id).where(Contribution.commons_id == commons.id)
    active |= set(
        db.session.scalars(select(Vouch.person_id).where(Vouch.contribution_id.in_(in_commons), Vouch.created_at >= since))
    )
    objections = select(Objection.id).where(Objection.contribution_id.in_(in_commons))
    active |= set(db.session.scalars(select(Vote.person_id).where(Vote.objection_id.in_(objections), Vote.created_at >= since)))
    proposals = select(RuleProposal.id).where(RuleProposal.commons_id == commons.id)
    active |= set(
        db.session.scalars(
            select(ProposalVote.person_id).where(ProposalVote.proposal_id.in_(proposals), ProposalVote.created_at >= since)
        )
    )
    active |= set(
        db.session.scalars(
            select(ProposalComment.author_id).where(
                ProposalComment.proposal_id.in_(proposals), ProposalComment.created_at >= since
            )
        )
    )
    active &= members

    votes, by_college, by_month = [], defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for proposal in service.proposals_of(commons.id)[::-1]:
        if proposal.procedure != Procedure.VOTE:
            continue
        counted = service.result(proposal)
        votes.append(
            {"proposal": proposal.id, "eligible": counted.eligible, "cast": counted.cast, "turnout": percent(counted.turnout)}
        )
        for college in counted.colleges:
            by_college[college.code][0] += college.cast
            by_college[college.code][1] += college.eligible
        month = proposal.deadline.strftime("%Y-%m")
        by_month[month][0] += counted.cast
        by_month[month][1] += counted.eligible

    def turnout(cast_, eligible) -> str:
        return percent(Fraction(cast_, eligible)) if eligible else "—"

    hundredths = func.sum(cast(func.round(Contribution.hours * 100), Integer))
    declared = [
        Decimal(int(total)).scaleb(-2)
        for (total,) in db.session.execute(
            select(hundredths)
            .where(Contribution.commons_id == commons.id, Contribution.status != ContributionStatus.WITHDRAWN)
            .group_by(Contribution.person_id)
        )
    ]
    reviews: dict[int, int] = defaultdict(int)
    for person_id, n in db.session.execute(
        select(Vouch.person_id, func.count(Vouch.id)).where(Vouch.contribution_id.in_(in_commons)).group_by(Vouch.person_id)
    ):
        reviews[person_id] += n
    for person_id, n in db.session.execute(
        select(Vote.person_id, func.count(Vote.id)).where(Vote.objection_id.in_(objections)).group_by(Vote.person_id)
    ):
        reviews[person_id] += n

    settled_days = [
        (resolved - created).days
        for created, resolved in db.session.execute(
            select(Objection.created_at, Objection.resolved_at).where(
                Objection.id.in_(objections), Objection.resolved_at.is_not(None), Objection.state != ObjectionState.WITHDRAWN
            )
        )
    ]
    still_open = db.session.scalar(
        select(func.count(Objection.id)).where(Objection.id.in_(objections), Objection.state == ObjectionState.OPEN)
    )
    return {
        "members": len(members),
        "active_3_months": len(active),
        "active_share": percent(Fraction(len(active), len(members))) if members else "—",
        "votes": votes,
        "turnout_by_college": [
            {"college": code, "cast": c, "eligible": e, "turnout": turnout(c, e)} for code, (c, e) in sorted(by_college.items())
        ],
        "turnout_by_month": [
            {"month": month, "cast": c, "eligible": e, "turnout": turnout(c, e)} for month, (c, e) in sorted(by_month.items())
        ],
        "declared_concentration": {**concentration(declared), "distribution": distribution(declared, HOUR_BUCKETS)},
        "review_concentration": {
            **concentration(list(reviews.values())),
            "distribution": distribution(list(reviews.values()), COUNT_BUCKETS),
        },
        "objection_days": {
            "settled": len(settled_days),
            "open": still_open,
            "distribution": distribution(settled_days, DAY_BUCKETS),
        },
    }
