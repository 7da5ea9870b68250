"""The SQL behind each chart: aggregations done by the database, returned as plain dicts.

Every function takes ``commons_id`` (``None`` for the whole installation). Rounds count once
they are finalized or paid: previews can still change and are not public figures. Nothing here
returns a person's identity; ``member_retributions`` is the one exception and is only called for
the members' view, where it keeps names of people who did not consent out of its rows.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, case, exists, extract, func, select

from ledger.accounts.monthly import NO_COMMONS, MonthlyTotal
from ledger.commons.models import Commons, Income
from ledger.contributions.categories import category_label
from ledger.contributions.models import Category, Contribution, Objection, Vote, Vouch
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.models import AllocationLine, Round, RuleVersion

DECIDED = ("finalized", "paid")
# Rounds whose review has started: their participation figures are public.
REVIEWED = ("review", "allocated", "finalized", "paid")


def _month(column):
    """(year, month) of a date column, portable between SQLite and PostgreSQL."""
    return extract("year", column).label("year"), extract("month", column).label("month")


def _ym(year, month) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def _scope(column, commons_id: int | None) -> list:
    return [] if commons_id is None else [column == commons_id]


def _monthly_income(column, key: str, commons_id: int | None) -> list[dict]:
    """Income received per month and per value of ``column`` (named ``key``), in cents."""
    year, month = _month(Income.received_on)
    rows = db.session.execute(
        select(year, month, column, func.sum(Income.amount_cents))
        .where(*_scope(Income.commons_id, commons_id))
        .group_by(year, month, column)
        .order_by(year, month, column)
    ).all()
    return [{"month": _ym(y, m), key: value, "amount_cents": int(cents)} for y, m, value, cents in rows]


def income_by_source(commons_id: int | None) -> list[dict]:
    """Income received per month and source, in cents."""
    return _monthly_income(Income.source, "source", commons_id)


def income_by_funder(commons_id: int | None) -> list[dict]:
    """Income received per month and funder, in cents."""
    return _monthly_income(Income.funder, "funder", commons_id)


def income_by_commons_and_funder(commons_id: int | None) -> list[dict]:
    """Total income per commons and funder (all periods), with the earmarks funders gave."""
    rows = db.session.execute(
        select(Commons.id, Commons.name, Income.funder, func.sum(Income.amount_cents), func.count(Income.earmark))
        .join(Commons, Commons.id == Income.commons_id)
        .where(*_scope(Income.commons_id, commons_id))
        .group_by(Commons.id, Commons.name, Income.funder)
        .order_by(Commons.name, Income.funder)
    ).all()
    return [
        {"commons_id": cid, "commons": name, "funder": funder, "amount_cents": int(cents), "earmarked": int(marks)}
        for cid, name, funder, cents, marks in rows
    ]


def spending_by_commons(commons_id: int | None) -> dict[int, dict[str, int]]:
    """What each commons did with its money, in cents, from the ledger's own balances.

    On its contributors' payable accounts: ``paid`` (settled by payouts), ``owed`` (the credit
    balance: finalized, not yet paid, exported or pending), ``waived`` (left to the commons) and
    ``gifts`` (given on to the solidarity fund); ``levies`` are the fund's levy income from the
    commons' transactions.
    """
    # From the ledger's monthly totals (ledger.accounts.monthly), which post_many keeps exact.
    totals = MonthlyTotal
    payable = case((totals.account_kind == "payable:person", totals.amount_cents), else_=0)
    kind = totals.tx_kind
    rows = db.session.execute(
        select(
            totals.commons_id,
            func.sum(case((kind.like("%payout"), payable), else_=0)),
            func.sum(payable),
            func.sum(case((kind.like("%round:waive"), payable), else_=0)),
            func.sum(case((kind.like("%round:to-fund"), payable), else_=0)),
            func.sum(case((totals.account_kind == "fund:levies", totals.amount_cents), else_=0)),
        )
        .where(
            totals.account_kind.in_(("payable:person", "fund:levies")),
            totals.commons_id != NO_COMMONS,
            *_scope(totals.commons_id, commons_id),
        )
        .group_by(totals.commons_id)
    ).all()
    return {
        cid: {"paid": int(paid), "owed": -int(balance), "waived": int(waived), "gifts": int(gifts), "levies": -int(levies)}
        for cid, paid, balance, waived, gifts, levies in rows
    }


def rounds_summary(commons_id: int | None) -> list[dict]:
    """One row per decided round: envelope, validated hours, what was claimed, distributed
    (gross), levied and topped up, and the reference hourly value of its pinned rules."""
    rows = db.session.execute(
        select(
            Round.id,
            Commons.name,
            Round.period_start,
            Round.period_end,
            Round.envelope_cents,
            RuleVersion.version,
            RuleVersion.hourly_value_cents,
            func.count(AllocationLine.id),
            func.coalesce(func.sum(AllocationLine.hours), 0),
            func.coalesce(func.sum(AllocationLine.claim_cents), 0),
            func.coalesce(func.sum(AllocationLine.gross_cents), 0),
            func.coalesce(func.sum(AllocationLine.levy_cents), 0),
            func.coalesce(func.sum(AllocationLine.topup_cents), 0),
        )
        .join(Commons, Commons.id == Round.commons_id)
        .join(RuleVersion, RuleVersion.id == Round.rule_version_id)
        .outerjoin(AllocationLine, AllocationLine.round_id == Round.id)
        .where(Round.state.in_(DECIDED), *_scope(Round.commons_id, commons_id))
        .group_by(
            Round.id,
            Commons.name,
            Round.period_start,
            Round.period_end,
            Round.envelope_cents,
            RuleVersion.version,
            RuleVersion.hourly_value_cents,
        )
        .order_by(Round.period_start, Commons.name, Round.id)
    ).all()
    result = []
    for rid, name, start, end, envelope, version, reference, people, hours, claim, gross, levy, topup in rows:
        result.append(
            {
                "round_id": rid,
                "commons": name,
                "period_start": start,
                "period_end": end,
                "envelope_cents": int(envelope),
                "rule_version": version,
                "reference_hourly_cents": int(reference),
                "people": int(people),
                "hours": Decimal(hours).quantize(Decimal("0.01")),
                "claimed_cents": int(claim),
                "distributed_cents": int(gross),
                "levies_cents": int(levy),
                "topups_cents": int(topup),
                "shortfall_cents": max(0, int(claim) - int(gross)),
            }
        )
    return result


def received_amounts(commons_id: int | None) -> list[int]:
    """What each person received from decided rounds (gross retribution plus top-ups), one
    anonymous amount per person, ascending: the input of the Lorenz curve and Gini coefficient."""
    received = func.sum(AllocationLine.gross_cents + AllocationLine.topup_cents)
    rows = db.session.scalars(
        select(received)
        .join(Round, Round.id == AllocationLine.round_id)
        .where(Round.state.in_(DECIDED), *_scope(Round.commons_id, commons_id))
        .group_by(AllocationLine.person_id)
        .order_by(received)
    ).all()
    return [int(amount) for amount in rows]


def hours_by_category(commons_id: int | None) -> list[dict]:
    """Hours of the decided rounds by category (withdrawn, rejected and upheld-objection work
    left out), with whether the category is invisible work."""
    upheld = exists().where(Objection.contribution_id == Contribution.id, Objection.state == "upheld")
    rows = db.session.execute(
        select(
            Contribution.category,
            func.max(Category.label),
            func.max(case((Category.invisible.is_(True), 1), else_=0)),
            func.sum(Contribution.hours),
            func.count(Contribution.id),
            func.count(func.distinct(Contribution.person_id)),
        )
        .outerjoin(Category, and_(Category.commons_id == Contribution.commons_id, Category.code == Contribution.category))
        .where(
            # The decided rounds first, then their work through the round_id index: joining rounds
            # to every contribution scanned all of them, most of which wait in open rounds.
            Contribution.round_id.in_(select(Round.id).where(Round.state.in_(DECIDED), *_scope(Round.commons_id, commons_id))),
            # An expression, not the column: SQLite would otherwise read every declared row through
            # the status index rather than the few rounds' work through round_id.
            Contribution.status.concat("") == "declared",
            ~upheld,
            *_scope(Contribution.commons_id, commons_id),
        )
        .group_by(Contribution.category)
        .order_by(Contribution.category)
    ).all()
    return [
        {
            "category": code,
            "label": category_label(code, label),
            "invisible": bool(invisible),
            "hours": Decimal(hours).quantize(Decimal("0.01")),
            "contributions": int(count),
            "people": int(people),
        }
        for code, label, invisible, hours, count, people in rows
    ]


def review_participation(commons_id: int | None) -> list[dict]:
    """Per round under or after review: how many contributions, and how many distinct people
    vouched, objected and voted (counts only, never who)."""
    rows = db.session.execute(
        select(
            Round.id,
            Commons.name,
            Round.period_start,
            func.count(func.distinct(Contribution.id)),
            func.count(func.distinct(Vouch.person_id)),
            func.count(func.distinct(Objection.objector_id)),
            func.count(func.distinct(Objection.id)),
            func.count(func.distinct(Vote.person_id)),
        )
        .join(Commons, Commons.id == Round.commons_id)
        .outerjoin(Contribution, and_(Contribution.round_id == Round.id, Contribution.status != "withdrawn"))
        .outerjoin(Vouch, Vouch.contribution_id == Contribution.id)
        .outerjoin(Objection, Objection.contribution_id == Contribution.id)
        .outerjoin(Vote, Vote.objection_id == Objection.id)
        .where(Round.state.in_(REVIEWED), *_scope(Round.commons_id, commons_id))
        .group_by(Round.id, Commons.name, Round.period_start)
        .order_by(Round.period_start, Commons.name, Round.id)
    ).all()
    return [
        {
            "round_id": rid,
            "commons": name,
            "period_start": start,
            "contributions": int(c),
            "vouchers": int(v),
            "objectors": int(o),
            "objections": int(n),
            "voters": int(vt),
        }
        for rid, name, start, c, v, o, n, vt in rows
    ]


FUND_KINDS = ("fund:levies", "fund:donations", "fund:topups")


def fund_flows(commons_id: int | None) -> list[dict]:
    """The solidarity fund per month: levies and donations received, top-ups granted (cents,
    positive), and for the installation the fund's balance at the end of each month, net of
    every top-up granted (paid or owed). For one
    commons: the levies and gifts it sent and the top-ups its contributors received."""
    # The balance ("Solde") is what the fund has left once every top-up granted is counted, paid
    # or still owed: its bank account plus its payables (credit balances), as GET
    # /api/v1/solidarity-fund gives it in ``available_cents``.
    kinds = FUND_KINDS if commons_id is not None else (*FUND_KINDS, "fund:treasury", "fund:payable")
    # From the ledger's monthly totals (ledger.accounts.monthly): a few rows per month, where
    # joining every fund posting to its transaction grew with the ledger.
    totals = MonthlyTotal
    rows = db.session.execute(
        select(totals.month, totals.account_kind, func.sum(totals.amount_cents))
        .where(totals.account_kind.in_(kinds), *_scope(totals.commons_id, commons_id))
        .group_by(totals.month, totals.account_kind)
    ).all()
    months: dict[str, dict] = {}
    for ym, kind, cents in rows:
        row = months.setdefault(ym, {"month": ym, "levies_cents": 0, "donations_cents": 0, "topups_cents": 0, "change_cents": 0})
        cents = int(cents)
        if kind == "fund:levies":
            row["levies_cents"] = -cents  # income accounts are credited: negative postings
        elif kind == "fund:donations":
            row["donations_cents"] = -cents
        elif kind == "fund:topups":
            row["topups_cents"] = cents
        else:
            row["change_cents"] += cents
    result, running = [], 0
    for key in sorted(months):
        row = months.pop(key)
        running += row.pop("change_cents")
        if commons_id is None:
            row["balance_cents"] = running
        result.append(row)
    return result


def member_retributions(commons_id: int) -> dict:
    """For the members' view: per consenting person (by name), hours and amounts received from
    decided rounds; people who did not consent are only counted together, never named."""
    rows = db.session.execute(
        select(
            Person.display_name,
            Person.show_name_publicly,
            func.sum(AllocationLine.hours),
            func.sum(AllocationLine.gross_cents),
            func.sum(AllocationLine.topup_cents),
        )
        .join(AllocationLine, AllocationLine.person_id == Person.id)
        .join(Round, Round.id == AllocationLine.round_id)
        .where(Round.state.in_(DECIDED), Round.commons_id == commons_id)
        .group_by(Person.id, Person.display_name, Person.show_name_publicly)
    ).all()
    named = sorted(
        (
            {
                "name": name,
                "hours": Decimal(hours).quantize(Decimal("0.01")),
                "gross_cents": int(gross),
                "topup_cents": int(topup),
            }
            for name, consent, hours, gross, topup in rows
            if consent
        ),
        key=lambda row: row["name"].casefold(),
    )
    others = [(Decimal(hours), int(gross), int(topup)) for _, consent, hours, gross, topup in rows if not consent]
    return {
        "named": named,
        "others": {
            "people": len(others),
            "hours": sum((h for h, _, _ in others), Decimal(0)).quantize(Decimal("0.01")),
            "gross_cents": sum(g for _, g, _ in others),
            "topup_cents": sum(t for _, _, t in others),
        },
    }
