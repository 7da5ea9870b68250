"""Rounds: creation, the allocation preview (computed, recomputed, simulated) and carried-over work.

The arithmetic is in ``ledger.rounds.allocation`` (pure); this module gathers its input from the
database and stores its output. Functions flush, never commit.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, update

from ledger import collector, revisions
from ledger.accounts import chart
from ledger.accounts.models import Account, Posting
from ledger.accounts.service import balance
from ledger.bulk import among, execute_plain, insert_rows
from ledger.commons.models import Commons, Membership
from ledger.contributions.models import Contribution, ContributionStatus
from ledger.contributions.review import ReviewTotals, counts, in_review, review_totals
from ledger.errors import Conflict, ValidationFailed, field_error
from ledger.extensions import db
from ledger.formatting import day, later, money
from ledger.fund.service import available_cents, cap_left, draws_on_fund, fund_rules_in_force
from ledger.payouts.models import Cae, CaeMembership
from ledger.people.models import Person
from ledger.rounds.allocation import Allocation, FundTerms, RoundInput, Route, Work, allocate
from ledger.rounds.allocation.model import Line
from ledger.rounds.allocation.words import to_json
from ledger.rounds.models import ROUND_LABELS, AllocationLine, PeerPoints, Round, RoundState, SelfRequest
from ledger.rounds.preview import fingerprint, review_counter, review_digest, review_revision, stored_lines
from ledger.rounds.rules import RULE_FIELDS, allocation_rules, check_category_weights, rules_in_force
from ledger.timeutil import today

# Rounds whose envelope is promised but not yet written to the ledger.
PENDING_STATES = (RoundState.OPEN, RoundState.REVIEW, RoundState.ALLOCATED)
MAX_PERIOD_DAYS = 366
# A round shorter than this needs the manual cadence and a steward's written reason.
MIN_PERIOD_DAYS = 7


def get_round(round_id: int) -> Round:
    from ledger.errors import NotFound

    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise NotFound(_l("No round %(round_id)s.", round_id=round_id))
    return round_


def lock_treasury(commons: Commons) -> None:
    """Queue, until the transaction ends, whoever else promises the commons' treasury or shapes its
    rounds: the cover and the non-overlapping periods are checked by one writer at a time.

    A row lock on the commons that leaves its key alone (FOR NO KEY UPDATE), so that work declared
    meanwhile, whose foreign key checks share that key, never waits for it. SQLite ignores it: its
    writers already hold the database's write lock.
    """
    db.session.execute(select(Commons.id).where(Commons.id == commons.id).with_for_update(key_share=True))


def free_treasury_cents(commons: Commons, *, excluding: int | None = None) -> int:
    """What the treasury can still promise to a round.

    The treasury's balance, minus what the commons already owes people or CAEs (finalized but not
    yet paid), minus the envelopes of its rounds not finalized yet.
    """
    owed = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount_cents), 0))
        .join(Account)
        .where(Account.commons_id == commons.id, Account.kind.in_(("payable:person", "payable:cae")))
    )
    query = select(func.coalesce(func.sum(Round.envelope_cents), 0)).where(
        Round.commons_id == commons.id, Round.state.in_(PENDING_STATES)
    )
    if excluding is not None:
        query = query.where(Round.id != excluding)
    promised = int(db.session.scalar(query) or 0)
    return balance(chart.commons_treasury(commons).code) + int(owed or 0) - promised


def period_problems(commons: Commons, rules, period_start: date, period_end: date, reason: str | None) -> dict[str, list]:
    """What is wrong with a round's period, by field (empty when it may be opened).

    A period starts no earlier than the commons did, ends on or after it starts, covers at most
    a year, and lasts at least a week unless the cadence is manual and a steward says why.
    """
    problems: dict[str, list] = {}
    if period_start < commons.started_on:
        problems["period_start"] = [_l("cannot be before the commons started (%(date)s)", date=later(day, commons.started_on))]
    days = (period_end - period_start).days + 1
    if days < 1:
        problems["period_end"] = [_l("must be on or after the first day of the period")]
    elif days > MAX_PERIOD_DAYS:
        problems["period_end"] = [_l("a round covers at most %(n)s days", n=MAX_PERIOD_DAYS)]
    elif days < MIN_PERIOD_DAYS:
        if rules.cadence != "manual":
            problems["period_end"] = [
                _l(
                    "a round covers at least %(n)s days, unless rounds are opened by hand and a reason is given",
                    n=MIN_PERIOD_DAYS,
                )
            ]
        elif not 3 <= len(reason or "") <= 2000:
            problems["reason"] = [_l("a round shorter than %(n)s days needs a reason (3 to 2000 characters)", n=MIN_PERIOD_DAYS)]
    return problems


def rules_date(period_start: date) -> date:
    """The day whose rules in force a round pins: today, or the first day of a period still to come.

    A round of a past period takes today's rules (so a fix applies on recompute), never a
    version scheduled for later.
    """
    return max(today(), period_start)


def create_round(
    commons: Commons,
    *,
    period_start: date,
    period_end: date,
    envelope_cents: int,
    created_by: Person | None,
    reason: str | None = None,
) -> Round:
    """A new open round under the commons' current rules; it adopts the contributions waiting for it.

    Refused: a period ``period_problems`` finds wrong, a period overlapping another round of the
    commons, and an envelope the treasury cannot cover. ``reason`` is kept for a short round. On
    PostgreSQL an exclusion constraint also keeps the periods apart (migration 0003).
    """
    rules = rules_in_force(commons.id, rules_date(period_start))
    reason = (reason or "").strip() or None
    if problems := period_problems(commons, rules, period_start, period_end, reason):
        raise ValidationFailed(_l("The round's period was refused."), fields=problems)
    if envelope_cents < 0:
        raise field_error("envelope_cents", _l("cannot be negative"))
    lock_treasury(commons)
    overlapping = db.session.scalar(
        select(Round)
        .where(Round.commons_id == commons.id, Round.period_start <= period_end, Round.period_end >= period_start)
        .limit(1)
    )
    if overlapping is not None:
        raise Conflict(
            _l(
                "The period overlaps round %(overlapping)s (%(period_start)s to %(period_end)s).",
                overlapping=overlapping.id,
                period_start=later(day, overlapping.period_start),
                period_end=later(day, overlapping.period_end),
            ),
            fields={"period_start": [_l("overlaps round %(overlapping)s", overlapping=overlapping.id)]},
        )
    free = free_treasury_cents(commons)
    if envelope_cents > free:
        raise field_error(
            "envelope_cents",
            _l(
                "the treasury can cover at most %(amount)s (its balance minus what is owed and the envelopes of rounds not "
                "finalized yet)",
                amount=later(money, free),
                cents=free,
            ),
        )
    review_starts_on = period_end + timedelta(days=rules.declaration_days + 1)
    round_ = Round(
        commons_id=commons.id,
        rule_version_id=rules.id,
        period_start=period_start,
        period_end=period_end,
        envelope_cents=envelope_cents,
        state=RoundState.OPEN,
        review_starts_on=review_starts_on,
        allocation_on=review_starts_on + timedelta(days=rules.review_days),
        created_by_id=created_by.id if created_by else None,
        period_reason=reason if (period_end - period_start).days + 1 < MIN_PERIOD_DAYS else None,
    )
    db.session.add(round_)
    db.session.flush()
    adopt_contributions(round_)
    return round_


def adopt_contributions(round_: Round) -> int:
    """Give the round the commons' declared work still waiting for a round: work dated in its
    period, and work carried over from an earlier round (dated before its end)."""
    revisions.bump_at_commit(review_counter(round_.id))
    adopted = db.session.execute(
        update(Contribution)
        .where(
            Contribution.commons_id == round_.commons_id,
            Contribution.round_id.is_(None),
            Contribution.status == ContributionStatus.DECLARED,
            or_(
                and_(Contribution.date >= round_.period_start, Contribution.date <= round_.period_end),
                and_(Contribution.carried_from_round_id.is_not(None), Contribution.date <= round_.period_end),
            ),
        )
        .values(round_id=round_.id)
        .execution_options(**revisions.COUNTED)
    )
    return adopted.rowcount


def routes_of(commons_id: int) -> dict[int, Route]:
    """Each member's payout route; a `cae` route without a CAE falls back to `invoice`."""
    routes = {}
    # Columns, not objects, as plain rows: a commons may have ten thousand members. A member's
    # own contribution rate, when the CAE set one, replaces the CAE's.
    for person_id, route, cae_id, cae_code, cae_rate in execute_plain(
        select(
            Membership.person_id,
            Membership.payout_route,
            Cae.id,
            Cae.code,
            func.coalesce(CaeMembership.contribution_rate, Cae.contribution_rate),
        )
        .outerjoin(Cae, Cae.id == Membership.payout_cae_id)
        .outerjoin(CaeMembership, (CaeMembership.cae_id == Cae.id) & (CaeMembership.person_id == Membership.person_id))
        .where(Membership.commons_id == commons_id)
    ).all():
        if route == "cae" and cae_id is not None:
            routes[person_id] = Route("cae", cae_id, cae_code, Decimal(cae_rate))
        elif route == "cae":
            routes[person_id] = Route("invoice")
        else:
            routes[person_id] = Route(route)
    return routes


def gather(round_: Round, rules, *, store_defaults: bool = True) -> tuple[RoundInput, ReviewTotals]:
    """The allocation's input for ``round_`` under ``rules`` (any object with the rule fields).

    Work comes summed per person and category (the allocation only ever adds hours up), so the
    input stays small however many contributions the round holds.
    """
    review = review_totals(round_.id, rules.min_vouches)
    # Points count only on contributions the review counts; the same SQL conditions decide it.
    points = tuple(
        (giver, receiver, value)
        for giver, receiver, value in db.session.execute(
            select(PeerPoints.giver_id, Contribution.person_id, PeerPoints.points)
            .join(Contribution, Contribution.id == PeerPoints.contribution_id)
            .where(PeerPoints.round_id == round_.id, in_review(round_.id), counts(rules.min_vouches))
            .order_by(PeerPoints.id)
        )
    )
    work = tuple(Work(c.person_id, c.category, c.hours) for c in review.counted)
    return _input(round_, rules, work, points, store_defaults=store_defaults), review


def _input(round_: Round, rules, work: tuple[Work, ...], points: tuple, *, store_defaults: bool = True) -> RoundInput:
    """The allocation's input around the review's part (``work`` and ``points``): the envelope,
    rules, fund terms, routes and requests, all read now."""
    fund_rules = fund_rules_in_force(create=store_defaults)
    return RoundInput(
        envelope_cents=round_.envelope_cents,
        rules=allocation_rules(rules),
        fund=FundTerms(
            Decimal(fund_rules.topup_ratio),
            fund_rules.per_person_cap_cents,
            available_cents(),
            admitted=draws_on_fund(round_.commons),
            cap_left=cap_left(fund_rules, today(), excluding_round=round_.id),
        ),
        work=work,
        routes=routes_of(round_.commons_id),
        requests=dict(
            db.session.execute(
                select(SelfRequest.person_id, SelfRequest.amount_cents).where(SelfRequest.round_id == round_.id)
            ).all()
        ),
        points=points,
    )


@collector.paused()  # a round's many long-lived objects: ledger.collector
def compute(round_: Round) -> Allocation:
    """Compute the round's allocation under its pinned rules and store it as its lines.

    Replaces the previous preview; contributions the review could not settle move on to the next
    round (never lost). Only for a round not finalized yet, or inside its finalization.
    """
    revision = review_revision(round_.id)  # before the review is read: a later change moves it
    inp, review = gather(round_, round_.rule_version)
    carry_over(round_, review.carried_over)
    return _store(round_, inp, revision, review_digest(inp))


def lines_to_finalize(round_: Round) -> list[Line]:
    """The lines a finalization posts: the stored preview's when the fingerprint of its inputs is
    unchanged (ledger.rounds.preview), else computed again (and stored) from today's inputs.

    When the round's review counters still read the revision the preview was gathered at, the
    review is not gathered again: the stored digest of its part stands in, and the rest of the
    input (rules, fund, routes, requests) is read now, as always.
    """
    revision = review_revision(round_.id)
    if revision is not None and revision == round_.preview_review_revision:
        rest = _input(round_, round_.rule_version, (), ())
        if fingerprint(round_.rule_version_id, rest, round_.preview_review_digest) == round_.preview_fingerprint:
            return stored_lines(round_)
    inp, review = gather(round_, round_.rule_version)
    carry_over(round_, review.carried_over)
    digest = review_digest(inp)
    if round_.preview_fingerprint is not None and round_.preview_fingerprint == fingerprint(round_.rule_version_id, inp, digest):
        return stored_lines(round_)
    return _store(round_, inp, revision, digest).lines


def _store(round_: Round, inp: RoundInput, revision: str | None, digest: str) -> Allocation:
    """Allocate ``inp`` and store its lines as the round's preview, with the review revision it
    was gathered at and the digest of its review's part (``review_digest(inp)``)."""
    allocation = allocate(inp)
    db.session.execute(delete(AllocationLine).where(AllocationLine.round_id == round_.id))
    insert_rows(
        AllocationLine.__table__,
        [
            {
                "round_id": round_.id,
                "person_id": line.person_id,
                "hours": line.hours,
                "weighted_hours": line.weighted_hours,
                "claim_cents": line.claim_cents,
                "gross_cents": line.gross_cents,
                "levy_cents": line.levy_cents,
                "topup_cents": line.topup_cents,
                "net_cents": line.net_cents,
                "route": line.route,
                "cae_id": line.cae_id,
                "cae_contribution_cents": line.cae_contribution_cents,
                "salary_budget_cents": line.salary_budget_cents,
                "explanation": to_json(line.steps),
            }
            for line in allocation.lines
        ],
    )
    round_.preview_review_digest, round_.preview_review_revision = digest, revision
    round_.preview_fingerprint = fingerprint(round_.rule_version_id, inp, digest)
    db.session.expire(round_, ["lines"])
    return allocation


def carry_over(round_: Round, contribution_ids: list[int]) -> None:
    """Move unsettled contributions to the commons' next open round, or leave them waiting for it."""
    if not contribution_ids:
        return
    later = db.session.scalar(
        select(Round)
        .where(
            Round.commons_id == round_.commons_id,
            Round.state == "open",
            Round.period_start > round_.period_end,
        )
        .order_by(Round.period_start)
        .limit(1)
    )
    # The round they leave did not count them (that is why they move), so its review's result
    # stands; the round they join reads them from now on. Work left waiting for a round is
    # counted by the round that adopts it.
    if later is not None:
        revisions.bump_at_commit(review_counter(later.id))
    for condition in among(Contribution.id, contribution_ids):
        db.session.execute(
            update(Contribution)
            .where(condition)
            .values(carried_from_round_id=round_.id, round_id=later.id if later else None, status=ContributionStatus.DECLARED)
            .execution_options(**revisions.COUNTED)
        )


def carried_over_from(round_: Round) -> list[Contribution]:
    return list(
        db.session.scalars(select(Contribution).where(Contribution.carried_from_round_id == round_.id).order_by(Contribution.id))
    )


def can_recompute(round_: Round) -> bool:
    """Only a preview can be recomputed: the round is allocated, not yet finalized."""
    return round_.state == RoundState.ALLOCATED


def recompute(round_: Round) -> Allocation:
    """After a rule fix: pin the commons' version in force (see ``rules_date``) and compute the preview again."""
    if not can_recompute(round_):
        raise Conflict(_l("Only an allocated round can be recomputed; this one is %(state)s.", state=ROUND_LABELS[round_.state]))
    round_.rule_version_id = rules_in_force(round_.commons_id, rules_date(round_.period_start)).id
    db.session.flush()
    db.session.expire(round_, ["rule_version"])
    return compute(round_)


# A simulation compares rules on a round whose allocation can still change.
WHAT_IF_STATES = PENDING_STATES


def can_what_if(round_: Round) -> bool:
    """Whether a steward may simulate other rules on this round (not once it is finalized)."""
    return round_.state in WHAT_IF_STATES


def what_if(round_: Round, overrides: dict) -> tuple[Allocation, ReviewTotals]:
    """The allocation the round would get under its rules changed by ``overrides``; writes nothing.

    Refused on a finalized (or paid) round and for weights naming unknown categories. Whatever
    the computation loads or creates on the way (a default fund rule, an account) is rolled back
    here, in a savepoint, so the caller's session is left as it was.
    """
    if not can_what_if(round_):
        raise Conflict(
            _l(
                "Round %(round)s is %(state)s: simulate on a round not finalized yet.",
                round=round_.id,
                state=ROUND_LABELS[round_.state],
            ),
            code="round_finalized",
        )
    return simulate(round_, overrides)


def simulate(round_: Round, overrides: dict) -> tuple[Allocation, ReviewTotals]:
    """The allocation ``round_`` gets under its rules changed by ``overrides``, in any state; writes nothing.

    ``what_if`` is the steward's tool on a live round; a rule proposal uses this directly to show
    what the last round, finalized or not, would have paid under it (docs/governance.md).
    """
    check_category_weights(round_.commons, overrides.get("category_weights"))
    base = round_.rule_version
    settings = {name: getattr(base, name) for name in RULE_FIELDS}
    settings.update({k: v for k, v in overrides.items() if k in RULE_FIELDS})
    if "category_weights" in overrides:
        settings["category_weights"] = {k: str(v) for k, v in (overrides["category_weights"] or {}).items()}
    savepoint = db.session.begin_nested()
    try:
        with db.session.no_autoflush:
            inp, outcome = gather(round_, SimpleNamespace(**settings), store_defaults=False)
        return allocate(inp), outcome
    finally:
        savepoint.rollback()
