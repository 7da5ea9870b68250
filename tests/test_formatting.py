"""One formatter per kind of value, in the reader's language, rounding half up in one place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from flask_babel import refresh

from ledger import formatting
from ledger.rounds.allocation.explain import percent as step_percent
from ledger.rounds.allocation.model import Step
from ledger.rounds.allocation.words import sentence


@pytest.mark.parametrize(
    ("lang", "money", "hours", "share", "day"),
    [
        ("en", "€1,234.56", "57.5", "33.33%", "March 1, 2026"),
        ("fr", "1\u202f234,56\xa0€", "57,5", "33,33\xa0%", "1 mars 2026"),
    ],
)
def test_each_kind_of_value_reads_in_the_readers_language(app, lang, money, hours, share, day):
    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        assert formatting.money(123_456) == money
        assert formatting.hours(Decimal("57.50")) == hours
        assert formatting.percent(Fraction(1, 3)) == share
        assert formatting.day(date(2026, 3, 1)) == day


def test_display_rounding_is_half_up_and_the_currency_follows_the_configuration(make_app):
    app = make_app(LEDGER_CURRENCY="CHF")
    with app.test_request_context("/?lang=en"):
        refresh()
        assert formatting.number(Decimal("0.125")) == "0.13"  # Babel alone would give 0.12
        assert formatting.percent(Decimal("0.00125")) == "0.13%"
        assert formatting.money(150) == "CHF1.50"
        assert step_percent(Fraction(1, 8)) == "12.5"


def test_explanations_write_percentages_the_french_way_too(app):
    with app.test_request_context("/"):
        refresh()
        assert "33,33 %" in sentence(Step("levy", {"rate": "33.33", "levy": 100, "net": 200}))
