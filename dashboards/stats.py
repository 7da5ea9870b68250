"""Inequality measures over amounts received: pure functions on integer cents, exact arithmetic.

They describe a distribution and never who is where in it: the callers pass anonymous amounts.
Results are ``Fraction`` (exact); ``as_decimal`` rounds them for display.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

TOP_FRACTION = Fraction(1, 10)


def gini(amounts: Sequence[int]) -> Fraction:
    """The Gini coefficient of non-negative amounts: 0 when everyone received the same, towards 1
    when one person received everything.

    Computed exactly from the sorted amounts x₁ ≤ … ≤ xₙ as
    G = 2·Σ i·xᵢ / (n·Σ xᵢ) − (n + 1)/n, which equals the mean absolute difference between all
    pairs divided by twice the mean. An empty list or a total of zero gives 0 (no inequality).
    """
    values = _checked(amounts)
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return Fraction(0)
    ranked = sum(i * x for i, x in enumerate(sorted(values), start=1))
    return Fraction(2 * ranked, n * total) - Fraction(n + 1, n)


def lorenz_points(amounts: Sequence[int]) -> list[tuple[Fraction, Fraction]]:
    """The Lorenz curve: for the k people who received least (k = 0 … n), the pair
    (share of people k/n, share of the total they received). Starts at (0, 0), ends at (1, 1);
    a straight diagonal means perfect equality. Empty or all-zero input gives the diagonal's ends.
    """
    values = sorted(_checked(amounts))
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return [(Fraction(0), Fraction(0)), (Fraction(1), Fraction(1))]
    points = [(Fraction(0), Fraction(0))]
    running = 0
    for k, value in enumerate(values, start=1):
        running += value
        points.append((Fraction(k, n), Fraction(running, total)))
    return points


def top_count(n: int, fraction: Fraction = TOP_FRACTION) -> int:
    """How many people make up the top ``fraction`` of ``n`` people: at least one, rounded up
    (the top 10% of 25 people are the 3 who received most)."""
    return 0 if n == 0 else max(1, math.ceil(n * fraction))


def top_share(amounts: Sequence[int], fraction: Fraction = TOP_FRACTION) -> Fraction:
    """Share of the total received by the top ``fraction`` of people (see ``top_count``).
    0 for an empty list or a zero total."""
    values = sorted(_checked(amounts), reverse=True)
    total = sum(values)
    if total == 0:
        return Fraction(0)
    return Fraction(sum(values[: top_count(len(values), fraction)]), total)


def as_decimal(value: Fraction, places: int = 3) -> Decimal:
    """An exact ratio rounded half up to ``places`` decimals, for tables and CSV files."""
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, rounding=ROUND_HALF_UP)


def _checked(amounts: Sequence[int]) -> list[int]:
    values = [int(a) for a in amounts]
    if any(a < 0 for a in values):
        raise ValueError("amounts received cannot be negative")
    return values
