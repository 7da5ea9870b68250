"""One formatter per kind of value a person reads: money, hours (and other decimals), percentages
and dates, in the reader's language through Babel (Flask-Babel picks the locale).

Pages, explanations, charts and captions all use these; exports for machines use
``ledger.accounts.money.format_euros`` instead (fixed form, no locale). Display rounding is half
up, here only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from babel import Locale
from flask import current_app, has_app_context
from flask_babel import LazyString, format_currency, format_date, format_decimal, format_percent, get_locale

DEFAULT_CURRENCY = "EUR"


def currency() -> str:
    """The installation's currency (``LEDGER_CURRENCY``): how amounts are shown, never converted."""
    return current_app.config.get("LEDGER_CURRENCY", DEFAULT_CURRENCY) if has_app_context() else DEFAULT_CURRENCY


def to_decimal(value: Decimal | Fraction | int | str) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def rounded(value: Decimal | Fraction | int | str, places: int = 2) -> Decimal:
    """``value`` rounded half up (0.125 → 0.13) to ``places`` decimals, for display."""
    return to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def plain(value: Decimal | Fraction | int | str, places: int = 2) -> str:
    """A number in its stored, language-neutral form, trailing zeros dropped: 57.50 → "57.5", 5.00 → "5"."""
    text = f"{rounded(value, places):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(cents: int) -> str:
    """12345 → "123,45 €" in French, "€123.45" in English."""
    return format_currency(Decimal(cents) / 100, currency())


def number(value: Decimal | Fraction | int | str, places: int = 2) -> str:
    """Hours, weights and other decimals with at most ``places`` decimals: 57.5 → "57,5" in French."""
    return format_decimal(rounded(value, places), format="#,##0." + "#" * places if places else "#,##0")


hours = number


def percent(ratio: Decimal | Fraction | int | str, places: int = 2) -> str:
    """A ratio as a percentage: 0.05 → "5 %" in French, "5%" in English; 1/3 → "33,33 %"."""
    # The locale's own pattern ("#,##0\u00a0%" in French), with room for the decimals.
    pattern = (get_locale() or Locale("en")).percent_formats[None].pattern.replace("#,##0", "#,##0." + "#" * places)
    return format_percent(rounded(to_decimal(ratio) * 100, places) / 100, format=pattern)


def day(value: date) -> str:
    """A date as a person reads it ("1 mars 2026", "Mar 1, 2026")."""
    return format_date(value, format="medium")


def later(format_: Callable[..., str], *args) -> LazyString:
    """``format_(*args)`` done when the message holding it is read: errors are raised before the
    edge knows the reader's language, and carry their values (cents, dates) unformatted."""
    return LazyString(format_, *args)
