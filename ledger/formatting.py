"""One formatter per kind of value a person reads: money, hours (and other decimals), percentages
and dates, in the reader's language through Babel (Flask-Babel picks the locale).

Pages, explanations, charts and captions all use these; exports for machines use
``ledger.accounts.money.format_euros`` instead (fixed form, no locale). Display rounding is half
up, here only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache

from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import current_app, has_app_context
from flask_babel import LazyString, format_currency, format_date, format_decimal, format_percent, format_time, get_locale

from ledger.text import parse_decimal

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


@lru_cache(maxsize=65_536)
def plain(value: Decimal | Fraction | int | str, places: int = 2) -> str:
    """A number in its stored, language-neutral form, trailing zeros dropped: 57.50 → "57.5", 5.00 → "5".

    Cached: the text depends only on the value (equal values, such as 1.50 and 1.5, give the same
    text), and a round's explanations write the same few rates and hours tens of thousands of times.
    """
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
    pattern = locale().percent_formats[None].pattern.replace("#,##0", "#,##0." + "#" * places)
    return format_percent(rounded(to_decimal(ratio) * 100, places) / 100, format=pattern)


def percentage(text: str) -> str:
    """A percentage the API gives as language-neutral text ("38.7", or "—" when there is none),
    as the reader writes it: "38,7 %" in French, "38.7%" in English."""
    try:
        value = parse_decimal(text)
    except ValueError:
        return text
    return percent(value / 100, places=1)


def day(value: date) -> str:
    """A date as a person reads it ("1 décembre 2026", "December 1, 2026")."""
    return format_date(value, format="long")


def moment(value: datetime) -> str:
    """A date and time of day: "1 décembre 2026 14:05", "December 1, 2026 2:05 PM"."""
    return f"{day(value)} {format_time(value, format='short')}"


def month(value: date | str) -> str:
    """A month ("2026-03" or any day in it) as a person names it: "mars 2026", "March 2026"."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:7] + "-01")
    return format_date(value, format="LLLL y")


def locale() -> Locale:
    return get_locale() or Locale("en")


# Forms: what a field shows and reads back. No grouping when shown ("1200,50"), so that what is
# shown is what the person types; money always with its two decimals.


def amount_input(cents: int) -> str:
    """Cents as typed in a euros field: 1500 → "15,00" in French, "15.00" in English."""
    return format_decimal(Decimal(cents) / 100, format="0.00")


def number_input(value: Decimal | Fraction | int | str, places: int = 2) -> str:
    """A decimal as typed in a field, at most ``places`` decimals: 18.50 → "18,5" in French."""
    return format_decimal(rounded(value, places), format="0." + "#" * places if places else "0")


SPACES = re.compile(r"[\s\u202f\xa0]")


def plain_number(text: str) -> str:
    """A number typed by a person, in their language or with a point ("18,5", "18.5", "1 200,50",
    "1,200.50" in English), written plainly: "18.5", "1200.50". ValueError when it has more than
    one decimal mark once the language's grouping is taken out."""
    cleaned = SPACES.sub("", text)
    group = get_group_symbol(locale())
    if "," in cleaned and "." in cleaned and group in (",", "."):
        # Both marks: the locale's group mark is grouping ("1,200.50" in English).
        head, sep, tail = cleaned.rpartition(get_decimal_symbol(locale()))
        cleaned = head.replace(group, "") + sep + tail
    if cleaned.count(",") + cleaned.count(".") > 1:
        raise ValueError(text)
    return cleaned.replace(",", ".")


def parse_number(text: str) -> Decimal:
    """``plain_number`` read as a Decimal: ASCII digits only, ValueError otherwise (never a float)."""
    return parse_decimal(plain_number(text))


def plotly_money(field: str) -> str:
    """A plotly hover template for an amount in euros held in ``field``, placed as the language
    places its currency: "%{y:,.2f} €" in French, "€%{y:,.2f}" in English."""
    pattern = locale().currency_formats["standard"].pattern.split(";")[0]
    symbol = locale().currency_symbols.get(currency(), currency())
    return pattern.replace("#,##0.00", "%{" + field + ":,.2f}").replace("¤", symbol)


def plotly_separators() -> str:
    """plotly's ``layout.separators``: the decimal mark then the group mark of the reader's language."""
    return get_decimal_symbol(locale()) + get_group_symbol(locale())


def later(format_: Callable[..., str], *args) -> LazyString:
    """``format_(*args)`` done when the message holding it is read: errors are raised before the
    edge knows the reader's language, and carry their values (cents, dates) unformatted."""
    return LazyString(format_, *args)
