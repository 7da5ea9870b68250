"""The steps every method shares: levy, solidarity top-up, payout routing (SPEC 3.1, 4 to 6)."""

from __future__ import annotations

from decimal import Decimal

from ledger.accounts.money import apply_rate, round_half_up, split_largest_remainder
from ledger.rounds.allocation.explain import explain, hours_by_category
from ledger.rounds.allocation.model import PAID_ROUTES, Allocation, FundTerms, Line, RoundInput, Route, Rules
from ledger.rounds.allocation.shares import shares, weighted_hours


def allocate(inp: RoundInput) -> Allocation:
    """Compute a round's allocation: one line per person, each with the steps that explain it.

    Pure: the same input gives the same output whatever its order, and nothing is written.
    """
    hours, weighted = weighted_hours(inp)
    people = sorted(
        set(hours)
        | set(inp.requests if inp.rules.method == "self" else ())
        | {receiver for _, receiver, _ in inp.points if inp.rules.method in ("peer", "hybrid")}
    )
    claims, gross, extra = shares(inp, people, weighted)
    lines = [
        Line(
            person_id=p,
            hours=hours.get(p, Decimal(0)),
            weighted_hours=weighted.get(p, Decimal(0)),
            claim_cents=claims[p],
            gross_cents=gross[p],
            route=inp.routes.get(p, Route()).route,
        )
        for p in people
    ]
    for line in lines:
        line.levy_cents = apply_rate(line.gross_cents, inp.rules.levy_rate)
        line.net_cents = line.gross_cents - line.levy_cents
    requested, granted = apply_topups(lines, inp.fund, inp.rules)
    for line in lines:
        route_line(line, inp.routes.get(line.person_id, Route()))
    allocation = Allocation(
        method=inp.rules.method,
        envelope_cents=inp.envelope_cents,
        lines=lines,
        claims_cents=sum(claims.values()),
        distributed_cents=sum(gross.values()),
        fund_requested_cents=requested,
        fund_granted_cents=granted,
    )
    by_person = hours_by_category(inp)
    for line in lines:
        line.steps = explain(line, inp, allocation, extra, by_person.get(line.person_id, {}))
    return allocation


def fund_claim(line: Line, rules: Rules) -> int:
    """The part of a claim the fund may cover: validated work only.

    No counted hours, nothing. Under `self` and `peer` the claim is not the time claim of the
    person's own work (an amount asked, a share of points), so the fund covers it only up to the
    counted hours at the reference hourly value.
    """
    if not line.hours:
        return 0
    if rules.method in ("self", "peer"):
        return min(line.claim_cents, round_half_up(line.hours * rules.hourly_value_cents))
    return line.claim_cents


def shortfall(line: Line) -> int:
    """What the envelope could not pay of the claim the fund covers, for people whose money is paid to them."""
    return max(0, line.fund_claim_cents - line.gross_cents) if line.route in PAID_ROUTES else 0


def apply_topups(lines: list[Line], fund: FundTerms, rules: Rules) -> tuple[int, int]:
    """Share the fund's grant by shortfall; returns (asked of the fund, granted).

    The grant is the shortfall times the fund's ratio, never more than the fund has available,
    and nothing for a commons the fund has not admitted. The per-person cap counts what the fund
    already granted the person in its period (``FundTerms.cap_left``): it holds a part down and
    the excess stays in the fund (it is not redistributed).
    """
    for line in lines:
        line.fund_claim_cents = fund_claim(line, rules)
    shortfalls = {line.person_id: shortfall(line) for line in lines}
    requested = round_half_up(sum(shortfalls.values()) * fund.topup_ratio)
    grant = max(0, min(requested, fund.available_cents)) if fund.admitted else 0
    parts = split_largest_remainder(grant, shortfalls) if grant else {}
    granted = 0
    for line in lines:
        part = parts.get(line.person_id, 0)
        cap = fund.cap_for(line.person_id)
        if cap is not None and part > cap:
            line.topup_capped, part = True, cap
        line.topup_cents = part
        granted += part
    return requested, granted


def route_line(line: Line, route: Route) -> None:
    """Where net + top-up goes; for a CAE, its contribution comes off and the rest is salary budget."""
    if route.route == "cae" and route.cae_rate is not None:
        line.cae_id = route.cae_id
        line.cae_contribution_cents = apply_rate(line.paid_cents, route.cae_rate)
        line.salary_budget_cents = line.paid_cents - line.cae_contribution_cents
