"""The numbers of each person's computation, as a list of steps (rendered into words by ``words``)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ledger.accounts.money import round_half_up
from ledger.formatting import plain, to_decimal
from ledger.rounds.allocation.model import Allocation, Line, RoundInput, Step

# Steps keep numbers in their language-neutral form ("57.5", "33.33"); ``words`` formats them
# for each reader.
hours_text = plain


def percent(value: Fraction | Decimal) -> str:
    """A ratio as a percentage number with at most two decimals: 0.05 → "5", 1/3 → "33.33"."""
    return plain(to_decimal(value) * 100)


def hours_by_category(inp: RoundInput) -> dict[int, dict[str, Decimal]]:
    """Each person's counted hours per category, in one pass over the work (not one per person)."""
    by_person: dict[int, dict[str, Decimal]] = {}
    for work in inp.work:
        by_category = by_person.setdefault(work.person_id, {})
        by_category[work.category] = by_category.get(work.category, Decimal(0)) + work.hours
    return by_person


def explain(line: Line, inp: RoundInput, allocation: Allocation, extra: dict, by_category: dict[str, Decimal]) -> list[Step]:
    """The steps of one person's line, in the order they were computed; ``by_category`` holds
    the person's hours per category (from ``hours_by_category``)."""
    rules = inp.rules
    steps: list[Step] = []
    add = lambda key, **params: steps.append(Step(key, params))  # noqa: E731
    if line.hours:
        add("hours", hours=hours_text(line.hours))
        for category, hours in sorted(by_category.items()):
            if rules.weight(category) != 1:
                add(
                    "weight",
                    category=category,
                    weight=hours_text(rules.weight(category)),
                    hours=hours_text(hours),
                    weighted=hours_text(hours * rules.weight(category)),
                )
        if line.weighted_hours != line.hours:
            add("weighted_total", weighted=hours_text(line.weighted_hours))
    elif rules.method in ("time", "hybrid"):
        add("no_hours")
    if rules.method == "self":
        add("self_request", requested=extra["requests"][line.person_id])
    else:
        uncapped = round_half_up(line.weighted_hours * rules.hourly_value_cents)
        add("time_claim", rate=rules.hourly_value_cents, weighted=hours_text(line.weighted_hours), amount=uncapped)
    if rules.cap_cents is not None and line.claim_cents == rules.cap_cents:
        add("cap", cap=rules.cap_cents, claim=line.claim_cents)
    if rules.method in ("time", "self"):
        if allocation.claims_cents <= allocation.envelope_cents:
            add("covered", envelope=allocation.envelope_cents, claims=allocation.claims_cents, gross=line.gross_cents)
        else:
            add(
                "shared",
                envelope=allocation.envelope_cents,
                claims=allocation.claims_cents,
                gross=line.gross_cents,
                share=percent(Fraction(allocation.envelope_cents, allocation.claims_cents)),
            )
    else:
        peer = extra["peer_share"].get(line.person_id, Fraction(0))
        if rules.method == "peer":
            add("peer", share=percent(peer), envelope=allocation.envelope_cents, gross=line.gross_cents)
        else:
            time_share = Fraction(line.claim_cents, allocation.claims_cents) if allocation.claims_cents else Fraction(0)
            add(
                "hybrid",
                time_weight=percent(rules.hybrid_time_weight),
                time_share=percent(time_share),
                peer_share=percent(peer),
                weight=percent(extra["weights"].get(line.person_id, Fraction(0))),
                envelope=allocation.envelope_cents,
                gross=line.gross_cents,
            )
        if rules.cap_cents is not None and line.gross_cents == rules.cap_cents:
            add("share_capped", cap=rules.cap_cents)
    add("levy", rate=percent(rules.levy_rate), levy=line.levy_cents, net=line.net_cents)
    short = line.claim_cents - line.gross_cents
    if short > 0 and line.route in ("cae", "invoice"):
        fund_steps(line, inp, allocation, short, add)
    if line.route == "cae" and line.cae_id is not None:
        route = inp.routes[line.person_id]
        add(
            "route_cae",
            cae=route.cae_code or "",
            paid=line.paid_cents,
            rate=percent(route.cae_rate or 0),
            contribution=line.cae_contribution_cents,
            salary=line.salary_budget_cents,
        )
    elif line.route == "waive":
        add("route_waive", net=line.net_cents)
    elif line.route == "fund":
        add("route_fund", net=line.net_cents)
    else:
        add("route_invoice", paid=line.paid_cents)
    return steps


def fund_steps(line: Line, inp: RoundInput, allocation: Allocation, short: int, add) -> None:
    """Why the fund added what it did to a claim the envelope fell ``short`` of (or nothing),
    naming the limit that decided it: the per-person cap, the fund's means, or its ratio."""
    fund = inp.fund
    if not fund.admitted:
        add("fund_not_admitted", shortfall=short)
        return
    if not line.hours:
        add("no_topup_no_hours", shortfall=short)
        return
    if line.fund_claim_cents < line.claim_cents:
        add(
            "fund_claim_bounded",
            hours=hours_text(line.hours),
            rate=inp.rules.hourly_value_cents,
            amount=line.fund_claim_cents,
        )
        short = max(0, line.fund_claim_cents - line.gross_cents)
    ratio = percent(fund.topup_ratio)
    if line.topup_capped:
        cap = fund.per_person_cap_cents or 0
        already = cap - (fund.cap_for(line.person_id) or 0)
        if already:
            add("topup_capped", shortfall=short, cap=cap, already=already, topup=line.topup_cents)
        else:
            add("topup_cap", shortfall=short, cap=cap, topup=line.topup_cents)
    elif 0 < fund.available_cents < allocation.fund_requested_cents:
        add(
            "topup_means",
            shortfall=short,
            ratio=ratio,
            requested=allocation.fund_requested_cents,
            available=fund.available_cents,
            topup=line.topup_cents,
        )
    elif line.topup_cents:
        add("topup_ratio", shortfall=short, ratio=ratio, topup=line.topup_cents)
    else:
        add("no_topup", shortfall=short)
