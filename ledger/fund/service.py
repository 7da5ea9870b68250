"""The solidarity fund: its versioned rules, donations, balances and the limits on top-ups.

The fund's money is in the ledger (``fund:*`` accounts); this module only reads it and posts
donations. Levies and top-ups are written by the round finalization.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ledger.accounts import chart, memos
from ledger.accounts.models import Account, LedgerTransaction, Posting, TransactionKind
from ledger.accounts.service import Leg, balance, post
from ledger.commons.models import FUND_STATUSES, Commons
from ledger.database import advisory_lock
from ledger.errors import N_, Forbidden, field_error
from ledger.extensions import db
from ledger.formatting import later, money
from ledger.fund.models import FundDonation, FundRuleVersion
from ledger.people.models import ROLE_FUND_MANAGER, Person
from ledger.timeutil import today, utcnow
from ledger.versions import in_force

MAX_DONATION_CENTS = 1_000_000_000
DEFAULT_TOPUP_RATIO = "0.5"


def require_fund_manager(person: Person) -> Person:
    """Donations and fund rules are the fund manager's (or an administrator's) to record."""
    if person.is_admin or person.has_role(ROLE_FUND_MANAGER):
        return person
    raise Forbidden(_l("Only the solidarity fund manager or an administrator may do this."))


def set_fund_status(commons: Commons, status: str, *, reason: str, actor: Person | None) -> Commons:
    """Admit a commons to the fund or suspend it: the fund manager's decision, with its reason.

    ``actor`` None is the operator at the command line. Only an admitted commons' rounds get top-ups.
    """
    if actor is not None:
        require_fund_manager(actor)
    if status not in FUND_STATUSES[1:]:
        raise field_error("status", _l("must be admitted or suspended"))
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 2000:
        raise field_error("reason", _l("write 3 to 2000 characters"))
    commons.fund_status, commons.fund_status_reason = status, reason
    commons.fund_status_at, commons.fund_status_by_id = utcnow(), actor.id if actor else None
    db.session.flush()
    return commons


def draws_on_fund(commons: Commons) -> bool:
    """Whether the fund tops up this commons' rounds: once the fund manager admitted it."""
    return commons.fund_status == "admitted"


def fund_commons() -> list[Commons]:
    """Every commons with its standing with the fund (public)."""
    return list(db.session.scalars(select(Commons).order_by(Commons.name)))


def fund_period(on: date) -> tuple[date, date]:
    """The fund's period containing ``on``: the calendar month (the payroll month of SPEC 4.3).

    A top-up belongs to the month it is granted in, the day its round is finalized.
    """
    return on.replace(day=1), on.replace(day=calendar.monthrange(on.year, on.month)[1])


def topups_in_period(on: date, *, excluding_round: int | None = None) -> dict[int, int]:
    """Per person: the top-ups the fund granted them in the period containing ``on``, from every
    commons, whether already paid or still owed (the grant's entry counts, not the payment)."""
    first, last = fund_period(on)
    query = (
        select(Account.person_id, func.sum(Posting.amount_cents))
        .join(Posting, Posting.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(
            Account.kind == "fund:payable",
            LedgerTransaction.kind == TransactionKind.ROUND_TOPUP,
            LedgerTransaction.occurred_on.between(first, last),
        )
        .group_by(Account.person_id)
    )
    if excluding_round is not None:
        query = query.where(or_(LedgerTransaction.round_id.is_(None), LedgerTransaction.round_id != excluding_round))
    # The top-up credits the person's fund:payable account: its postings are negative.
    return {person_id: -int(total) for person_id, total in db.session.execute(query) if person_id is not None}


def cap_left(rules: FundRuleVersion, on: date, *, excluding_round: int | None = None) -> dict[int, int]:
    """What the per-person cap still allows each person who already had a top-up this period."""
    if rules.per_person_cap_cents is None:
        return {}
    granted = topups_in_period(on, excluding_round=excluding_round)
    return {person_id: max(0, rules.per_person_cap_cents - total) for person_id, total in granted.items()}


def fund_rules_in_force(on: date | None = None, *, create: bool = True) -> FundRuleVersion:
    """The fund's rules in force on ``on`` (default: today; see ``ledger.versions``); version 1
    (half of each shortfall, no cap) is created on first need.

    With ``create=False`` the default version is returned without being stored (for simulations).
    """
    rules = in_force(FundRuleVersion, on=on)
    if rules is None:
        rules = FundRuleVersion(
            version=1,
            author_id=None,
            reason=N_("Default rules: the fund covers half of each shortfall."),  # shown translated ("recorded")
            effective_from=today(),
            topup_ratio=DEFAULT_TOPUP_RATIO,
            per_person_cap_cents=None,
        )
        if create:
            db.session.add(rules)
            db.session.flush()
    return rules


def fund_rules_history() -> list[FundRuleVersion]:
    fund_rules_in_force()
    return list(db.session.scalars(select(FundRuleVersion).order_by(FundRuleVersion.version)))


def new_fund_rules(
    author: Person, *, reason: str, topup_ratio: Decimal, per_person_cap_cents: int | None, effective_from: date | None = None
) -> FundRuleVersion:
    fund_rules_in_force()  # version 1 exists before version 2 follows it
    previous = db.session.scalar(select(FundRuleVersion).order_by(FundRuleVersion.version.desc()).limit(1))
    rules = FundRuleVersion(
        version=previous.version + 1,
        author_id=author.id,
        reason=reason.strip(),
        effective_from=effective_from or today(),
        topup_ratio=str(topup_ratio),
        per_person_cap_cents=per_person_cap_cents,
    )
    db.session.add(rules)
    db.session.flush()
    return rules


def donate(*, amount_cents: int, donor: str, received_on: date, recorded_by: Person) -> FundDonation:
    """Money given to the fund: a donation row and its balanced ledger transaction."""
    if not 0 < amount_cents <= MAX_DONATION_CENTS:
        raise field_error(
            "amount_cents",
            _l(
                "must be between 1 and %(max)s cents (%(amount)s)",
                max=MAX_DONATION_CENTS,
                amount=later(money, MAX_DONATION_CENTS),
            ),
        )
    if received_on > today():
        raise field_error("date", _l("cannot be in the future"))
    tx = post(
        TransactionKind.FUND_DONATION,
        [Leg(chart.fund_treasury(), amount_cents, donor), Leg(chart.fund_donations(), -amount_cents, donor)],
        occurred_on=received_on,
        memo=memos.record(TransactionKind.FUND_DONATION, donor=donor),
    )
    donation = FundDonation(
        amount_cents=amount_cents,
        donor=donor.strip(),
        received_on=received_on,
        transaction_id=tx.id,
        recorded_by_id=recorded_by.id,
    )
    db.session.add(donation)
    db.session.flush()
    return donation


def outstanding_topups_cents() -> int:
    """Top-ups granted and not yet paid out: the fund owes them already."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount_cents), 0)).join(Account).where(Account.kind == "fund:payable")
    )
    return -int(total or 0)


def lock_fund() -> None:
    """Serialize what spends the fund, until the transaction ends (PostgreSQL; SQLite's writer holds
    the write lock anyway): a finalization reads what the fund has and each person's cap left this
    month, then grants top-ups; two at once would both grant the same money. Donations and
    payments of top-ups never lower what is available, so they do not take it."""
    advisory_lock("fund")


def available_cents() -> int:
    """What the fund can still promise: its money minus the top-ups it owes."""
    return max(0, balance(chart.fund_treasury().code) - outstanding_topups_cents())


@dataclass
class FundSummary:
    balance_cents: int
    available_cents: int
    owed_cents: int
    levies_cents: int
    donations_cents: int
    topups_cents: int
    rules: FundRuleVersion
    flows: list[dict]


def recent_flows(limit: int = 20) -> list[dict]:
    """The latest movements of the fund's money: kind, date, amount in or out, and the round."""
    fund_codes = select(Account.id).where(or_(Account.kind == "fund:treasury", Account.kind == "fund:payable"))
    rows = db.session.execute(
        select(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.occurred_on,
            LedgerTransaction.round_id,
            LedgerTransaction.commons_id,
            func.sum(Posting.amount_cents),
        )
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .where(Posting.account_id.in_(fund_codes))
        .group_by(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.occurred_on,
            LedgerTransaction.round_id,
            LedgerTransaction.commons_id,
        )
        .order_by(LedgerTransaction.id.desc())
        .limit(limit)
    ).all()
    return [
        {"transaction_id": r[0], "kind": r[1], "date": r[2], "round_id": r[3], "commons_id": r[4], "amount_cents": int(r[5])}
        for r in rows
    ]


def fund_summary() -> FundSummary:
    """Public figures of the fund: no person is named, only amounts and rounds."""
    return FundSummary(
        balance_cents=balance(chart.fund_treasury().code),
        available_cents=available_cents(),
        owed_cents=outstanding_topups_cents(),
        levies_cents=-balance(chart.fund_levies().code),
        donations_cents=-balance(chart.fund_donations().code),
        topups_cents=balance(chart.fund_topups().code),
        rules=fund_rules_in_force(),
        flows=recent_flows(),
    )
