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


@pytest.mark.parametrize(
    ("lang", "typed", "read"),
    [
        ("fr", "18,5", "18.5"),
        ("fr", "1 200,50", "1200.50"),
        ("fr", "1\u202f200,50", "1200.50"),
        ("fr", "18.5", "18.5"),
        ("en", "18.5", "18.5"),
        ("en", "1,200.50", "1200.50"),
        ("en", "18,5", "18.5"),
    ],
)
def test_numbers_typed_by_a_person_are_read_in_their_language(app, lang, typed, read):
    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        assert formatting.parse_number(typed) == Decimal(read)


@pytest.mark.parametrize(("lang", "typed"), [("fr", "1.200,50"), ("fr", "1,2,3"), ("en", "1.2.3"), ("fr", "dix"), ("fr", "1e3")])
def test_ambiguous_or_unreadable_numbers_are_refused(app, lang, typed):
    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        with pytest.raises(ValueError):
            formatting.parse_number(typed)


@pytest.mark.parametrize(
    ("lang", "amount", "number", "share", "month", "moment"),
    [
        ("fr", "15,00", "18,5", "38,7\xa0%", "mars 2026", "1 décembre 2026 15:05"),
        ("en", "15.00", "18.5", "38.7%", "March 2026", "December 1, 2026 3:05\u202fPM"),
    ],
)
def test_form_values_percent_texts_months_and_moments_read_in_the_readers_language(
    app, lang, amount, number, share, month, moment
):
    from datetime import datetime

    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        assert formatting.amount_input(1500) == amount
        assert formatting.number_input(Decimal("18.50")) == number
        assert formatting.percentage("38.7") == share and formatting.percentage("—") == "—"
        assert formatting.month("2026-03") == month == formatting.month(date(2026, 3, 15))
        # Stored in UTC, shown in the installation's time zone (Europe/Paris: UTC+1 in December).
        assert formatting.moment(datetime(2026, 12, 1, 14, 5)) == moment


@pytest.mark.parametrize(
    ("lang", "separators", "hover", "months"),
    [
        ("fr", ",\u202f", "%{y:,.2f}\xa0€", ["janvier 2026", "février 2026"]),
        ("en", ".,", "€%{y:,.2f}", ["January 2026", "February 2026"]),
    ],
)
def test_charts_use_the_languages_marks_named_months_and_whole_number_ticks(app, lang, separators, hover, months):
    from dashboards import figures

    rows = [
        {"month": "2026-01", "source": "Grant", "amount_cents": 3_500_000},
        {"month": "2026-02", "source": "Grant", "amount_cents": 120_050},
    ]
    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        figure = figures.stacked_by_month(rows, "source", y_title="Euros")
    assert figure["layout"]["separators"] == separators
    # plotly's default would write 35000 as "35k": ticks are grouped numbers, at most two decimals.
    assert figure["layout"]["yaxis"]["tickformat"] == ",.2~f"
    [bars] = figure["data"]
    assert bars["x"] == months and hover in bars["hovertemplate"]


def test_explanations_stored_before_the_compact_form_still_read(app):
    from ledger.rounds.allocation.words import from_json, render, to_json

    steps = [Step("hours", {"hours": "12.5"}), Step("route_invoice", {"paid": 28208})]
    assert to_json(steps) == '[["hours",{"hours":"12.5"}],["route_invoice",{"paid":28208}]]'
    old = '[{"key": "hours", "params": {"hours": "12.5"}}, {"key": "route_invoice", "params": {"paid": 28208}}]'
    assert from_json(old) == from_json(to_json(steps)) == steps
    with app.test_request_context("/?lang=en"):
        refresh()
        assert render(old) == "You declared 12.5 hours of counted work in this round. You invoice €282.08."
        assert render(old, "Bob") == "Bob declared 12.5 hours of counted work in this round. Bob invoices €282.08."
