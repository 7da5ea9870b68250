"""Money arithmetic: integer cents, exact ratios, largest-remainder splits.

Nothing here touches a float. Amounts are ``int`` cents; ratios (rates, hours, weights)
are ``Decimal`` and every conversion back to cents is explicit.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeVar

from flask_babel import gettext as _

K = TypeVar("K", bound=Hashable)

CENT = Decimal(1)


def round_half_up(value: Decimal | Fraction | int) -> int:
    """Round a ratio to a whole number of cents, halves away from zero (0.5 → 1, −0.5 → −1)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def apply_rate(amount_cents: int, rate: Decimal) -> int:
    """A single amount times a rate, rounded half up to the cent (a levy, a CAE contribution)."""
    return round_half_up(Fraction(amount_cents) * Fraction(rate))


def parse_rate(text: str | Decimal | int) -> Decimal:
    """A rate between 0 and 1 given as a decimal string ("0.05"); raises ValueError saying why otherwise."""
    try:
        rate = Decimal(str(text))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(_("must be a decimal number such as 0.05")) from exc
    if not rate.is_finite() or rate < 0 or rate > 1:
        raise ValueError(_("must be between 0 and 1"))
    if rate.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValueError(_("has at most 6 decimal places"))
    return rate


class AmountError(ValueError):
    """An amount typed by a person that is not a number of euros (``reason``: ``number`` or ``cents``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_euros(text: str) -> int:
    """An amount typed in euros ("18.50", "18,50", "1 200 €") as integer cents, exactly.

    Refused (``AmountError``): anything that is not a finite decimal number (``number``), and an
    amount with a fraction of a cent such as 18.005 (``cents``): it is never rounded silently.
    """
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").removesuffix("€").removeprefix("€")
    if cleaned.count(",") + cleaned.count(".") > 1:
        raise AmountError("number")
    try:
        euros = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:
        raise AmountError("number") from exc
    if not euros.is_finite() or abs(euros) >= 10**12:
        raise AmountError("number")
    cents = euros * 100
    if cents != cents.to_integral_value():
        raise AmountError("cents")
    return int(cents)


def split_largest_remainder(total_cents: int, weights: Mapping[K, Fraction | Decimal | int]) -> dict[K, int]:
    """Split ``total_cents`` in proportion to ``weights`` so that the parts add up exactly.

    Each key first gets the floor of its exact share; the cents left over go one by one to the
    largest fractional remainders. Ties go to the smaller key (the smaller person id), so the
    result does not depend on the order of the input. Zero or negative weights get nothing;
    when every weight is zero the whole amount stays unallocated and every part is 0.
    """
    if total_cents < 0:
        raise ValueError("cannot split a negative amount")
    if all(type(weight) is int for weight in weights.values()):
        return _split_by_ints(total_cents, weights)
    exact: dict[K, Fraction] = {}
    positive = {key: Fraction(weight) for key, weight in weights.items() if Fraction(weight) > 0}
    weight_sum = sum(positive.values(), Fraction(0))
    if weight_sum == 0:
        return {key: 0 for key in weights}
    for key, weight in positive.items():
        exact[key] = total_cents * weight / weight_sum
    parts = {key: share.numerator // share.denominator for key, share in exact.items()}
    leftover = total_cents - sum(parts.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - parts[key]), key))
    for key in by_remainder[:leftover]:
        parts[key] += 1
    return {key: parts.get(key, 0) for key in weights}


def _split_by_ints(total_cents: int, weights: Mapping[K, int]) -> dict[K, int]:
    """``split_largest_remainder`` for whole-number weights (claims, shortfalls), in integers.

    Every exact share is total × weight / sum, so its fractional remainder is (total × weight
    mod sum) / sum: comparing the integer remainders gives the same order as comparing the
    Fractions, for a fraction of the cost (a round splits among ten thousand people).
    """
    positive = {key: weight for key, weight in weights.items() if weight > 0}
    weight_sum = sum(positive.values())
    if weight_sum == 0:
        return {key: 0 for key in weights}
    parts: dict[K, int] = {}
    remainders: dict[K, int] = {}
    for key, weight in positive.items():
        parts[key], remainders[key] = divmod(total_cents * weight, weight_sum)
    leftover = total_cents - sum(parts.values())
    for key in sorted(remainders, key=lambda key: (-remainders[key], key))[:leftover]:
        parts[key] += 1
    return {key: parts.get(key, 0) for key in weights}


def format_euros(cents: int, *, decimal_sep: str = ",") -> str:
    """12345 → "123,45" (no thousands separator: exports are read by machines too)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}{decimal_sep}{cents % 100:02d}"
