"""Round lifecycle: open → review → allocated → finalized (→ paid, by the payouts).

Every transition is a conditional UPDATE on the round's state, so that two schedulers, two
stewards or a steward and a scheduler can never perform the same transition twice: the second
finds the state already moved and does nothing (the scheduler) or answers 409 (a steward).

The scheduler stops at `allocated`: money leaves the commons only when a steward finalizes.

A steward may not cut a window short silently: leaving `open` before the declaration window ends,
or `review` before the review window ends, needs a written reason, kept in the round's history
(`RoundEvent`) that members read on the round's page.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ledger import collector
from ledger.accounts import chart, memos
from ledger.accounts.chart import AccountSpec
from ledger.accounts.models import TransactionKind
from ledger.accounts.service import Entry, Leg, post_many
from ledger.commons.models import Commons, PayoutRoute
from ledger.errors import Conflict, ValidationFailed
from ledger.extensions import db
from ledger.fund.service import lock_fund
from ledger.governance.register import record_round
from ledger.governance.service import settle_due
from ledger.payouts.batches import create_batches
from ledger.people.models import Person
from ledger.rounds.allocation.model import Line
from ledger.rounds.models import ROUND_LABELS, Round, RoundEvent, RoundState, SchedulerRun
from ledger.rounds.rules import rules_in_force
from ledger.rounds.service import compute, create_round, free_treasury_cents, lines_to_finalize, lock_treasury
from ledger.timeutil import today, utcnow

NEXT_STATE = {
    RoundState.OPEN: RoundState.REVIEW,
    RoundState.REVIEW: RoundState.ALLOCATED,
    RoundState.ALLOCATED: RoundState.FINALIZED,
}


def move(round_: Round, from_state: str, to_state: str, **stamps) -> bool:
    """Move the round from one state to the next if, and only if, it is still in ``from_state``."""
    result = db.session.execute(
        update(Round)
        .where(Round.id == round_.id, Round.state == from_state)
        .values(state=to_state, **stamps)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(round_)
    return result.rowcount == 1


def can_advance(round_: Round) -> bool:
    """Whether the round has a next state a steward can move it to (none once finalized)."""
    return round_.state in NEXT_STATE


REASON_MAX = 2000


def window_end(round_: Round) -> date | None:
    """The day the current window ends (the next state may begin), or None once past review."""
    return {"open": round_.review_starts_on, "review": round_.allocation_on}.get(round_.state)


def is_early(round_: Round, on: date | None = None) -> bool:
    """True while the round's current window (declarations, then review) has not ended."""
    ends = window_end(round_)
    return ends is not None and (on or today()) < ends


def advance(round_: Round, actor: Person | None = None, reason: str | None = None) -> Round:
    """One step on, as a steward asks; 409 once finalized, or if someone moved it meanwhile.

    Before the current window ends, the step needs ``reason`` (422 naming the field otherwise).
    """
    state = round_.state
    if not can_advance(round_):
        raise Conflict(
            _l("Round %(round)s is already %(state)s; nothing was written.", round=round_.id, state=ROUND_LABELS[state]),
            code="already_" + state,
        )
    reason = (reason or "").strip() or None
    early = is_early(round_)
    if reason is not None and len(reason) > REASON_MAX:
        message = _("Write at most %(n)s characters.", n=REASON_MAX)
        raise ValidationFailed(message, fields={"reason": [message]})
    if early and reason is None:
        ends = window_end(round_).isoformat()
        message = (
            _("The declaration window ends on %(date)s; to open the review before, write why.", date=ends)
            if state == "open"
            else _("The review window ends on %(date)s; to compute the allocation before, write why.", date=ends)
        )
        raise ValidationFailed(message, fields={"reason": [message]}, code="window_not_over")
    if state == "allocated":
        finalize(round_)
    elif not step(round_, state):
        raise Conflict(_l("Round %(round)s moved on meanwhile; nothing was written.", round=round_.id))
    record(round_, state, actor, reason, early=early)
    return round_


def record(round_: Round, from_state: str, actor: Person | None, reason: str | None = None, *, early: bool = False) -> None:
    """Add one step to the round's history."""
    db.session.add(
        RoundEvent(
            round_id=round_.id,
            from_state=from_state,
            to_state=NEXT_STATE[from_state],
            actor_id=actor.id if actor else None,
            early=early,
            reason=reason,
        )
    )
    db.session.flush()


def history(round_: Round) -> list[RoundEvent]:
    """The round's steps, oldest first."""
    return db.session.scalars(select(RoundEvent).where(RoundEvent.round_id == round_.id).order_by(RoundEvent.id)).all()


def step(round_: Round, state: str) -> bool:
    """open → review or review → allocated (which computes the allocation preview)."""
    if state == RoundState.OPEN:
        return move(round_, RoundState.OPEN, RoundState.REVIEW, review_at=utcnow())
    if not move(round_, RoundState.REVIEW, RoundState.ALLOCATED, allocated_at=utcnow()):
        return False
    compute(round_)
    return True


@collector.paused()  # a round's many long-lived objects: ledger.collector
def finalize(round_: Round) -> None:
    """Write every ledger entry of the round in the current transaction, then its payout batches.

    The allocation's inputs are gathered once more under the pinned rules, so that top-ups never
    exceed what the fund holds at this moment (the fund's lock serializes finalizations, the one
    writer that spends it); when they are those of the stored preview, its lines are posted as they are.
    The entries go to the ledger as one batch: the statements do not grow with the round's size.
    The commons' treasury lock comes first: a round being opened meanwhile reads the cover either
    before this finalization or after it, never half of each (its envelope leaving the promises
    before its payables count as owed would make the free treasury look larger).
    """
    lock_treasury(round_.commons)
    if not move(round_, RoundState.ALLOCATED, RoundState.FINALIZED, finalized_at=utcnow()):
        raise Conflict(
            _l("Round %(round)s is no longer allocated (finalized meanwhile?); nothing was written.", round=round_.id),
            code="already_finalized",
        )
    lock_fund()
    lines = lines_to_finalize(round_)
    accounts = RoundAccounts.of(round_.commons)
    on = today()
    post_many([entry for line in lines for entry in line_entries(round_.id, accounts, line, on)])
    create_batches(round_)
    record_round(round_, early_reasons(round_))


def early_reasons(round_: Round) -> str | None:
    """Why the round's windows were cut short, as its steps recorded it: the register carries it."""
    reasons = list(dict.fromkeys(event.reason for event in history(round_) if event.early and event.reason))
    return "; ".join(reasons) or None


@dataclass(frozen=True)
class RoundAccounts:
    """The accounts every line of a commons' round writes to, named once per round."""

    commons: Commons
    retributions: AccountSpec
    treasury: AccountSpec
    fund_treasury: AccountSpec
    fund_levies: AccountSpec
    fund_topups: AccountSpec
    fund_donations: AccountSpec

    @classmethod
    def of(cls, commons: Commons) -> RoundAccounts:
        return cls(
            commons,
            chart.commons_retributions(commons),
            chart.commons_treasury(commons),
            chart.fund_treasury(),
            chart.fund_levies(),
            chart.fund_topups(),
            chart.fund_donations(),
        )


def line_entries(round_id: int, accounts: RoundAccounts, line: Line, on: date) -> list[Entry]:
    """The ledger entries of one person's allocation line; each has a ref the database accepts only once."""
    p, r, a = line.person_id, round_id, accounts
    payable = chart.person_payable(p, a.commons)
    common = {"occurred_on": on, "commons_id": a.commons.id, "round_id": r}
    entries = []
    if line.gross_cents:
        legs = [
            Leg(a.retributions, line.gross_cents, "gross retribution"),
            Leg(payable, -line.net_cents, "net retribution"),
            Leg(a.treasury, -line.levy_cents, "solidarity levy"),
            Leg(a.fund_treasury, line.levy_cents, "solidarity levy"),
            Leg(a.fund_levies, -line.levy_cents, "solidarity levy"),
        ]
        entries.append(
            Entry(
                TransactionKind.ROUND_RETRIBUTION,
                tuple(leg for leg in legs if leg.amount_cents),
                memo=memos.record(TransactionKind.ROUND_RETRIBUTION, round=r, person=p),
                ref=f"round:{r}:retribution:{p}",
                **common,
            )
        )
    if line.topup_cents:
        entries.append(
            Entry(
                TransactionKind.ROUND_TOPUP,
                (
                    Leg(a.fund_topups, line.topup_cents, "solidarity top-up"),
                    Leg(chart.fund_payable(p), -line.topup_cents, "solidarity top-up"),
                ),
                memo=memos.record(TransactionKind.ROUND_TOPUP, round=r, person=p),
                ref=f"round:{r}:topup:{p}",
                **common,
            )
        )
    if line.net_cents and line.route == PayoutRoute.WAIVE:
        entries.append(
            Entry(
                TransactionKind.ROUND_WAIVE,
                (
                    Leg(payable, line.net_cents, "left to the commons"),
                    Leg(a.retributions, -line.net_cents, "left to the commons"),
                ),
                memo=memos.record(TransactionKind.ROUND_WAIVE, round=r, person=p),
                ref=f"round:{r}:waive:{p}",
                **common,
            )
        )
    elif line.net_cents and line.route == PayoutRoute.FUND:
        entries.append(
            Entry(
                TransactionKind.ROUND_TO_FUND,
                (
                    Leg(payable, line.net_cents, "given to the solidarity fund"),
                    Leg(a.treasury, -line.net_cents, "given to the solidarity fund"),
                    Leg(a.fund_treasury, line.net_cents, "given by a contributor"),
                    Leg(a.fund_donations, -line.net_cents, "given by a contributor"),
                ),
                memo=memos.record(TransactionKind.ROUND_TO_FUND, round=r, person=p),
                ref=f"round:{r}:to-fund:{p}",
                **common,
            )
        )
    return entries


def tick(on: date | None = None, holder: str = "tick") -> dict:
    """Advance every round whose dates have passed, and open the period's round where the cadence asks.

    Safe to run twice, or from two processes at once: each transition happens once.
    """
    on = on or today()
    advanced: list[dict] = []
    for from_state, date_column in ((RoundState.OPEN, Round.review_starts_on), (RoundState.REVIEW, Round.allocation_on)):
        due = db.session.scalars(select(Round).where(Round.state == from_state, date_column <= on).order_by(Round.id)).all()
        for round_ in due:
            if step(round_, from_state):
                record(round_, from_state, None)
                advanced.append({"round": round_.id, "from": from_state, "to": NEXT_STATE[from_state]})
    created = open_cadence_rounds(on)
    settled = settle_due(on)
    summary = {"advanced": advanced, "created": created, "proposals_settled": settled}
    if advanced or created or settled:
        db.session.add(SchedulerRun(holder=holder, summary=describe(summary)))
        db.session.flush()
    return summary


def describe(summary: dict) -> str:
    parts = [f"round {a['round']}: {a['from']} → {a['to']}" for a in summary["advanced"]]
    parts += [
        f"round {c['round']} created for {c['commons']} ({c['period_start']} to {c['period_end']})" for c in summary["created"]
    ]
    parts += [f"proposal {p} settled" for p in summary.get("proposals_settled", [])]
    return "; ".join(parts) or "nothing to do"


def period_around(on: date, cadence: str) -> tuple[date, date]:
    """The calendar month or quarter containing ``on``."""
    first_month = on.month if cadence == "monthly" else 3 * ((on.month - 1) // 3) + 1
    last_month = first_month if cadence == "monthly" else first_month + 2
    return date(on.year, first_month, 1), date(on.year, last_month, calendar.monthrange(on.year, last_month)[1])


def open_cadence_rounds(on: date) -> list[dict]:
    """For monthly and quarterly commons with no round covering ``on``: open the period's round.

    Its envelope repeats the previous round's, capped by what the treasury can cover. A commons
    that never had a round waits for a steward to open the first one.
    """
    created = []
    for commons in db.session.scalars(select(Commons).order_by(Commons.id)):
        rules = rules_in_force(commons.id, on)
        if rules is None or rules.cadence not in ("monthly", "quarterly"):
            continue
        start, end = period_around(on, rules.cadence)
        lock_treasury(commons)  # a steward may be opening a round right now: the envelope must still fit
        overlapping = db.session.scalar(
            select(Round.id).where(Round.commons_id == commons.id, Round.period_start <= end, Round.period_end >= start).limit(1)
        )
        previous = db.session.scalar(
            select(Round).where(Round.commons_id == commons.id).order_by(Round.period_start.desc()).limit(1)
        )
        if overlapping is not None or previous is None:
            continue
        envelope = max(0, min(previous.envelope_cents, free_treasury_cents(commons)))
        try:
            with db.session.begin_nested():  # another scheduler may have just created it
                round_ = create_round(commons, period_start=start, period_end=end, envelope_cents=envelope, created_by=None)
        except IntegrityError:
            continue
        created.append(
            {"round": round_.id, "commons": commons.slug, "period_start": start.isoformat(), "period_end": end.isoformat()}
        )
    return created
