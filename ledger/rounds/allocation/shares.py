"""How each method turns counted work, requests or points into gross amounts."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from ledger.accounts.money import round_half_up, split_largest_remainder
from ledger.rounds.allocation.model import RoundInput


def weighted_hours(inp: RoundInput) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Per person: plain hours and hours weighted by category (H_i of SPEC 3.1)."""
    hours: dict[int, Decimal] = defaultdict(Decimal)
    weighted: dict[int, Decimal] = defaultdict(Decimal)
    for work in inp.work:
        hours[work.person_id] += work.hours
        weighted[work.person_id] += work.hours * inp.rules.weight(work.category)
    return dict(hours), dict(weighted)


def capped(amount: int, cap: int | None) -> int:
    return amount if cap is None else min(amount, cap)


def time_claims(inp: RoundInput, weighted: dict[int, Decimal]) -> dict[int, int]:
    """claim_i = min(round_half_up(H_i × R), K)."""
    return {p: capped(round_half_up(h * inp.rules.hourly_value_cents), inp.rules.cap_cents) for p, h in weighted.items()}


def pay_claims(envelope: int, claims: dict[int, int]) -> dict[int, int]:
    """Claims in full when the envelope covers them, else the envelope split by claim."""
    if sum(claims.values()) <= envelope:
        return dict(claims)
    return split_largest_remainder(envelope, claims)


def capped_split(total: int, weights: dict[int, Fraction], cap: int | None) -> dict[int, int]:
    """Split ``total`` by ``weights``; a part above ``cap`` is held at the cap and the rest re-split.

    When every share reaches the cap, what remains stays unallocated.
    """
    parts = {key: 0 for key in weights}
    active = {key: w for key, w in weights.items() if w > 0}
    remaining = total
    while active and remaining > 0:
        split = split_largest_remainder(remaining, active)
        over = [key for key, part in split.items() if cap is not None and part > cap]
        if not over:
            parts.update(split)
            break
        for key in over:
            parts[key] = cap
            remaining -= cap
            del active[key]
    return parts


def peer_received(inp: RoundInput) -> dict[int, Fraction]:
    """Each giver's points count as their share of a single voice, so every giver weighs the same."""
    given: dict[int, int] = defaultdict(int)
    for giver, receiver, points in inp.points:
        if giver != receiver and points > 0:
            given[giver] += points
    received: dict[int, Fraction] = defaultdict(Fraction)
    for giver, receiver, points in inp.points:
        if giver != receiver and points > 0:
            received[receiver] += Fraction(points, given[giver])
    return dict(received)


def shares(inp: RoundInput, people: list[int], weighted: dict[int, Decimal]) -> tuple[dict[int, int], dict[int, int], dict]:
    """(claims, gross, extra numbers for the explanation) for the round's method.

    The claim is what the person would have been due in full: for `peer` and `hybrid` it is the
    `time` claim, which is what a shortfall (and so a top-up) is measured against.
    """
    rules = inp.rules
    time = time_claims(inp, {p: weighted.get(p, Decimal(0)) for p in people})
    if rules.method == "time":
        return time, pay_claims(inp.envelope_cents, time), {}
    if rules.method == "self":
        claims = {p: capped(inp.requests.get(p, 0), rules.cap_cents) for p in people}
        return claims, pay_claims(inp.envelope_cents, claims), {"requests": {p: inp.requests.get(p, 0) for p in people}}
    received = peer_received(inp)
    received_total = sum(received.values(), Fraction(0))
    peer_share = {p: (received.get(p, Fraction(0)) / received_total if received_total else Fraction(0)) for p in people}
    if rules.method == "peer":
        weights = peer_share
    elif rules.method == "hybrid":
        alpha = Fraction(rules.hybrid_time_weight)
        time_total = sum(time.values())
        time_share = {p: (Fraction(time[p], time_total) if time_total else Fraction(0)) for p in people}
        weights = {p: alpha * time_share[p] + (1 - alpha) * peer_share[p] for p in people}
    else:
        raise ValueError(f"unknown allocation method {rules.method!r}")
    gross = capped_split(inp.envelope_cents, weights, rules.cap_cents)
    return time, gross, {"peer_share": peer_share, "weights": weights}
