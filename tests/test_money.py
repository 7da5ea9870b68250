"""The money arithmetic: exact splits and half-up rounding, proven over random inputs."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounts.money import apply_rate, format_euros, parse_rate, round_half_up, split_largest_remainder

weights_strategy = st.dictionaries(
    st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40
)


@given(total=st.integers(min_value=0, max_value=10**10), weights=weights_strategy)
def test_split_parts_sum_exactly_and_stay_within_one_cent_of_exact_share(total, weights):
    parts = split_largest_remainder(total, weights)
    weight_sum = sum(weights.values())
    assert set(parts) == set(weights)
    if weight_sum == 0:
        assert all(v == 0 for v in parts.values())
        return
    assert sum(parts.values()) == total
    for key, part in parts.items():
        exact = Fraction(total * weights[key], weight_sum)
        assert abs(part - exact) < 1
        assert part >= 0


@given(total=st.integers(min_value=0, max_value=10**8), weights=weights_strategy, seed=st.randoms())
def test_split_does_not_depend_on_input_order(total, weights, seed):
    items = list(weights.items())
    seed.shuffle(items)
    assert split_largest_remainder(total, dict(items)) == split_largest_remainder(total, weights)


def test_split_ties_go_to_the_smaller_key():
    assert split_largest_remainder(1, {7: 1, 3: 1, 5: 1}) == {7: 0, 3: 1, 5: 0}
    assert split_largest_remainder(2, {7: 1, 3: 1, 5: 1}) == {7: 0, 3: 1, 5: 1}


def test_split_of_known_amounts():
    assert split_largest_remainder(100, {1: 1, 2: 1, 3: 1}) == {1: 34, 2: 33, 3: 33}
    assert split_largest_remainder(1000, {1: Fraction(2, 3), 2: Fraction(1, 3)}) == {1: 667, 2: 333}


def test_split_refuses_a_negative_total():
    with pytest.raises(ValueError):
        split_largest_remainder(-1, {1: 1})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("0.5"), 1), (Decimal("1.49"), 1), (Decimal("2.5"), 3), (Decimal("-0.5"), -1), (Fraction(5, 2), 3)],
)
def test_round_half_up(value, expected):
    assert round_half_up(value) == expected


def test_apply_rate_rounds_half_up_to_the_cent():
    assert apply_rate(1010, Decimal("0.05")) == 51  # 50.5 → 51
    assert apply_rate(1009, Decimal("0.05")) == 50  # 50.45 → 50
    assert apply_rate(0, Decimal("0.10")) == 0


@pytest.mark.parametrize("bad", ["abc", "-0.1", "1.5", "NaN", "0.1234567"])
def test_parse_rate_refuses_bad_rates(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_format_euros_uses_a_decimal_comma():
    assert format_euros(123456) == "1234,56"
    assert format_euros(-5) == "-0,05"
    assert format_euros(7, decimal_sep=".") == "0.07"
