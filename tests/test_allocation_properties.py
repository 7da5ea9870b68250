"""Property tests of the pure allocation over random rounds (Hypothesis)."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.rounds.allocation import FundTerms, RoundInput, Route, Rules, Work, allocate

CATEGORIES = ("production", "care", "maintenance", "governance")
ROUTES = ("invoice", "cae", "waive", "fund")

hours = st.decimals(min_value=Decimal("0.25"), max_value=Decimal("24"), places=2)
work_items = st.lists(st.tuples(st.integers(1, 12), st.sampled_from(CATEGORIES), hours), min_size=1, max_size=30)


@st.composite
def rounds(draw, method=None):
    method = method or draw(st.sampled_from(("time", "self", "peer", "hybrid")))
    work = tuple(Work(p, c, h, i) for i, (p, c, h) in enumerate(draw(work_items), start=1))
    people = sorted({w.person_id for w in work})
    rules = Rules(
        method=method,
        hourly_value_cents=draw(st.integers(0, 10_000)),
        cap_cents=draw(st.none() | st.integers(1, 500_000)),
        levy_rate=draw(st.decimals(min_value=0, max_value=1, places=3)),
        category_weights={"care": draw(st.decimals(min_value=0, max_value=3, places=2))},
        hybrid_time_weight=draw(st.decimals(min_value=0, max_value=1, places=2)),
    )
    fund = FundTerms(
        draw(st.decimals(min_value=0, max_value=1, places=2)),
        draw(st.none() | st.integers(0, 50_000)),
        draw(st.integers(0, 1_000_000)),
    )
    routes = {
        p: Route(r, 1 if r == "cae" else None, "CAE" if r == "cae" else None, Decimal("0.1") if r == "cae" else None)
        for p in people
        for r in [draw(st.sampled_from(ROUTES))]
    }
    requests = {p: draw(st.integers(0, 300_000)) for p in people if draw(st.booleans())}
    points = tuple((draw(st.sampled_from(people)), w.person_id, draw(st.integers(1, 100))) for w in work if draw(st.booleans()))
    return RoundInput(
        envelope_cents=draw(st.integers(0, 2_000_000)),
        rules=rules,
        fund=fund,
        work=work,
        routes=routes,
        requests=requests,
        points=points,
    )


def numbers(allocation):
    return [
        (
            l.person_id,
            l.claim_cents,
            l.gross_cents,
            l.levy_cents,
            l.net_cents,
            l.topup_cents,
            l.cae_contribution_cents,
            l.salary_budget_cents,
            [(s.key, s.params) for s in l.steps],
        )
        for l in allocation.lines
    ]


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_amounts_are_exact_non_negative_and_within_the_envelope_cap_and_fund(inp):
    allocation = allocate(inp)
    lines = allocation.lines
    assert sum(l.gross_cents for l in lines) == allocation.distributed_cents <= inp.envelope_cents
    for l in lines:
        assert (
            min(
                l.claim_cents,
                l.gross_cents,
                l.levy_cents,
                l.net_cents,
                l.topup_cents,
                l.cae_contribution_cents,
                l.salary_budget_cents,
            )
            >= 0
        )
        assert l.levy_cents + l.net_cents == l.gross_cents
        if inp.rules.cap_cents is not None:
            assert l.claim_cents <= inp.rules.cap_cents and l.gross_cents <= inp.rules.cap_cents
        if inp.fund.per_person_cap_cents is not None:
            assert l.topup_cents <= inp.fund.per_person_cap_cents
        if l.route in ("waive", "fund"):
            assert l.topup_cents == 0
        assert l.topup_cents <= max(0, l.claim_cents - l.gross_cents)
        assert l.cae_contribution_cents + l.salary_budget_cents == (l.net_cents + l.topup_cents if l.route == "cae" else 0)
        assert l.steps, "every line is explained"
    assert sum(l.topup_cents for l in lines) <= inp.fund.available_cents


@settings(max_examples=200, deadline=None)
@given(rounds(method="time"))
def test_time_gross_is_the_claim_or_within_one_cent_of_its_exact_share_and_sums_exactly(inp):
    allocation = allocate(inp)
    claims = {l.person_id: l.claim_cents for l in allocation.lines}
    total = sum(claims.values())
    for l in allocation.lines:
        if total <= inp.envelope_cents:
            assert l.gross_cents == l.claim_cents
        else:
            exact = Fraction(inp.envelope_cents * l.claim_cents, total)
            assert abs(l.gross_cents - exact) < 1
    assert allocation.distributed_cents == min(total, inp.envelope_cents)


@settings(max_examples=200, deadline=None)
@given(rounds(method="peer"))
def test_peer_without_cap_splits_the_envelope_within_one_cent_of_the_points_share(inp):
    inp = RoundInput(**{**vars(inp), "rules": Rules(**{**vars(inp.rules), "cap_cents": None})})
    allocation = allocate(inp)
    if not allocation.lines or all(l.gross_cents == 0 for l in allocation.lines):
        return
    assert allocation.distributed_cents == inp.envelope_cents
    given_by: dict[int, int] = {}
    for giver, receiver, pts in inp.points:
        if giver != receiver:
            given_by[giver] = given_by.get(giver, 0) + pts
    received: dict[int, Fraction] = {}
    for giver, receiver, pts in inp.points:
        if giver != receiver:
            received[receiver] = received.get(receiver, Fraction(0)) + Fraction(pts, given_by[giver])
    total = sum(received.values())
    for l in allocation.lines:
        assert abs(l.gross_cents - inp.envelope_cents * received.get(l.person_id, Fraction(0)) / total) < 1


@settings(max_examples=150, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_the_input(inp, rnd):
    work = list(inp.work)
    rnd.shuffle(work)
    points = list(inp.points)
    rnd.shuffle(points)
    routes = dict(sorted(inp.routes.items(), key=lambda _: rnd.random()))
    requests = dict(sorted(inp.requests.items(), key=lambda _: rnd.random()))
    shuffled = RoundInput(
        envelope_cents=inp.envelope_cents,
        rules=inp.rules,
        fund=inp.fund,
        work=tuple(work),
        routes=routes,
        requests=requests,
        points=tuple(points),
    )
    assert numbers(allocate(shuffled)) == numbers(allocate(inp))


def test_a_seeded_large_round_sums_exactly():
    rnd = random.Random(4)
    work = tuple(Work(rnd.randint(1, 400), rnd.choice(CATEGORIES), Decimal(rnd.randint(25, 2400)) / 100, i) for i in range(3000))
    inp = RoundInput(
        envelope_cents=12_345_678,
        rules=Rules("time", 1733, 250_000, Decimal("0.07"), {"care": Decimal("1.5")}),
        fund=FundTerms(Decimal("0.5"), 10_000, 1_000_000),
        work=work,
    )
    allocation = allocate(inp)
    assert allocation.distributed_cents == 12_345_678
    assert sum(l.topup_cents for l in allocation.lines) <= 1_000_000
