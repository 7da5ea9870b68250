"""Gini, Lorenz curve, top-10% share and the funder attribution rule: exact, on any input."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards import flows, stats
from dashboards.csv import to_csv
from ledger.accounts.money import split_largest_remainder

amounts = st.lists(st.integers(min_value=0, max_value=10_000_000), max_size=60)


def test_known_values():
    assert stats.gini([100, 100, 100, 100]) == 0
    assert stats.gini([0, 0, 0, 400]) == Fraction(3, 4)  # one of four has everything: (n-1)/n
    assert stats.gini([1, 2, 3, 4]) == Fraction(1, 4)
    assert stats.gini([]) == 0 and stats.gini([0, 0]) == 0
    assert stats.top_share([5] * 20) == Fraction(1, 10)
    assert stats.top_share([1] * 24 + [76]) == Fraction(78, 100)  # top 10% of 25 people = 3 people: 76 + 1 + 1
    assert stats.top_count(25) == 3 and stats.top_count(1) == 1 and stats.top_count(10) == 1 and stats.top_count(0) == 0
    assert stats.lorenz_points([3, 1]) == [(0, 0), (Fraction(1, 2), Fraction(1, 4)), (1, 1)]
    assert str(stats.as_decimal(Fraction(2, 3))) == "0.667"


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        stats.gini([1, -1])


@given(amounts)
def test_gini_equals_the_mean_absolute_difference_and_lies_between_0_and_1(values):
    g = stats.gini(values)
    n, total = len(values), sum(values)
    if total:
        pairs = 2 * sum(abs(a - b) for a, b in combinations(values, 2))
        assert g == Fraction(pairs, n * n) / (2 * Fraction(total, n))
        assert 0 <= g <= Fraction(n - 1, n)
    else:
        assert g == 0
    assert stats.gini(list(reversed(values))) == g  # order does not matter: nobody's place counts


@given(amounts)
def test_lorenz_curve_runs_from_0_to_1_convex_and_below_the_diagonal(values):
    points = stats.lorenz_points(values)
    assert points[0] == (0, 0) and points[-1] == (1, 1)
    assert all(share <= people for people, share in points)
    steps = [b[1] - a[1] for a, b in zip(points, points[1:])]
    assert steps == sorted(steps)  # the least paid come first: each step is at least the previous one


@given(amounts)
def test_top_share_is_at_least_the_top_fraction_of_people(values):
    share = stats.top_share(values)
    if sum(values):
        # the k who received most hold at least k/n of the total: their mean is at least the mean
        assert Fraction(stats.top_count(len(values)), len(values)) <= share <= 1
    else:
        assert share == 0


@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), st.integers(1, 10_000_000)), min_size=1, max_size=8),
    st.integers(0, 50_000_000),
    st.integers(0, 5_000_000),
    st.integers(0, 5_000_000),
)
def test_attribution_gives_back_exactly_what_each_funder_gave_and_each_use_exactly(incomes, paid, levies, gifts):
    income = [{"commons_id": 1, "commons": "C", "funder": funder, "amount_cents": cents} for funder, cents in incomes]
    spending = {1: {"paid": paid, "owed": paid // 3, "waived": gifts // 2, "levies": levies, "gifts": gifts}}
    rows = flows.attribute(income, spending)
    for funder in {f for f, _ in incomes}:
        assert sum(r["amount_cents"] for r in rows if r["funder"] == funder) == sum(c for f, c in incomes if f == funder)
    total = sum(c for _, c in incomes)
    uses = {"paid": paid, "owed": paid // 3, "waived": gifts // 2, "fund": levies + gifts}
    if sum(uses.values()) <= total:
        for use, cents in {**uses, "treasury": total - sum(uses.values())}.items():
            assert sum(r["amount_cents"] for r in rows if r["use"] == use) == cents
    assert all(r["amount_cents"] > 0 for r in rows)


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=6), st.lists(st.integers(1, 10_000), min_size=1, max_size=5))
def test_controlled_rounding_keeps_both_margins_and_each_cell_within_a_cent(rows, weights):
    split = split_largest_remainder(sum(rows), dict(enumerate(weights)))
    columns = [split[j] for j in range(len(weights))]
    table = flows.controlled_round(rows, columns)
    assert [sum(r) for r in table] == rows and [sum(c) for c in zip(*table)] == columns
    total = sum(rows)
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            assert abs(Fraction(table[i][j]) - (Fraction(r * c, total) if total else 0)) < 1


def test_csv_neutralises_formulas_and_keeps_raw_values():
    body = to_csv(["funder", "amount_cents", "invisible"], [{"funder": "=HYPERLINK(1)", "amount_cents": -5, "invisible": True}])
    assert body == "\ufefffunder,amount_cents,invisible\r\n'=HYPERLINK(1),-5,true\r\n".encode()
