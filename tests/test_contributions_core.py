"""The pure core of contributions: validation, derived status, vote decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.contributions.status import display_status
from ledger.contributions.validation import Draft, check_draft, evidence_problem, hours_problem, parse_hours, week_bounds
from ledger.contributions.voting import decide

TODAY = date(2025, 3, 12)


def draft(**overrides) -> Draft:
    values = {"on": TODAY, "hours": Decimal("2"), "category": "care", "description": "Soin du collectif", "evidence_url": None}
    values.update(overrides)
    return Draft(**values)


def check(d: Draft, other: str = "0") -> dict:
    return check_draft(d, today=TODAY, other_hours_that_day=Decimal(other), categories={"care", "production"})


def test_a_sound_draft_has_no_problem():
    assert check(draft(evidence_url="https://example.org/x")) == {}


@given(quarters=st.integers(min_value=1, max_value=96))
def test_every_quarter_hour_up_to_a_day_is_accepted(quarters):
    assert hours_problem(Decimal(quarters) / 4) is None


@given(hundredths=st.integers(min_value=-5000, max_value=5000).filter(lambda n: n % 25 != 0 or n <= 0 or n > 2400))
def test_anything_else_is_refused(hundredths):
    assert hours_problem(Decimal(hundredths) / 100) is not None


def test_the_day_limit_counts_what_was_declared_elsewhere():
    assert check(draft(hours=Decimal("4")), other="20") == {}
    assert list(check(draft(hours=Decimal("4.25")), other="20")) == ["hours"]


def test_all_problems_at_once():
    problems = check(draft(on=date(2025, 3, 13), hours=Decimal("0"), category="x", description="ab", evidence_url="ftp://x"))
    assert set(problems) == {"date", "hours", "category", "description", "evidence_url"}


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://example.org/a?b=c#d", True),
        ("http://example.org", True),
        ("HTTPS://EXAMPLE.ORG", True),
        ("javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("https://", False),
        ("//example.org", False),
        ("https://exa mple.org", False),
        ("https://example.org/\x00", False),
        ("https://e.org/" + "a" * 490, False),
    ],
)
def test_only_http_links_with_a_host(url, ok):
    assert (evidence_problem(url) is None) is ok


@pytest.mark.parametrize("typed, hours", [("1.5", "1.5"), ("1,5", "1.5"), (" 2 ", "2"), ("0,25", "0.25")])
def test_hours_typed_in_french_or_english(typed, hours):
    assert parse_hours(typed) == Decimal(hours)


@pytest.mark.parametrize("typed", ["", "abc", "1,5,5", "NaN", "Infinity"])
def test_unreadable_hours(typed):
    with pytest.raises(ValueError):
        parse_hours(typed)


def test_iso_week_bounds():
    assert week_bounds(date(2025, 3, 12)) == (date(2025, 3, 10), date(2025, 3, 16))
    assert week_bounds(date(2025, 3, 16)) == (date(2025, 3, 10), date(2025, 3, 16))


@pytest.mark.parametrize(
    "stored, round_state, objections, carried, expected",
    [
        ("declared", None, [], None, "declared"),
        ("declared", "open", [], None, "declared"),
        ("declared", "review", ["open"], None, "under_objection"),
        ("declared", "review", ["dismissed", "open"], None, "under_objection"),
        ("declared", "allocated", ["dismissed"], None, "counted"),
        ("declared", "finalized", [], None, "counted"),
        ("declared", "paid", [], None, "paid"),
        ("declared", "open", ["upheld"], None, "rejected"),
        ("rejected", "finalized", [], None, "rejected"),
        ("carried_over", "finalized", [], None, "carried_over"),
        ("declared", "open", [], 7, "carried_over"),
        ("declared", "allocated", [], 7, "counted"),
        ("withdrawn", "paid", ["open", "upheld"], None, "withdrawn"),
    ],
)
def test_display_status(stored, round_state, objections, carried, expected):
    assert (
        display_status(stored=stored, round_state=round_state, objection_states=objections, carried_from_round_id=carried)
        == expected
    )


@pytest.mark.parametrize(
    "keep, reject, eligible, quorum, expected",
    [
        (0, 1, 4, "0.5", None),  # 1 of 4: below quorum
        (0, 2, 4, "0.5", "upheld"),
        (1, 1, 4, "0.5", "dismissed"),  # a tie keeps the contribution
        (2, 1, 4, "0.5", "dismissed"),
        (1, 1, 4, "0.75", None),  # 2 of 4: below a 75 % quorum
        (1, 2, 4, "0.75", "upheld"),
        (1, 2, 3, "1", "upheld"),
        (0, 0, 3, "0", None),  # nobody voted: nothing to decide
        (0, 1, 0, "0.5", None),
    ],
)
def test_vote_decision(keep, reject, eligible, quorum, expected):
    assert decide(keep=keep, reject=reject, eligible=eligible, quorum=Decimal(quorum)) == expected


@given(keep=st.integers(0, 50), reject=st.integers(0, 50), extra=st.integers(0, 50))
def test_a_reached_quorum_is_decided_by_majority_only(keep, reject, extra):
    eligible = keep + reject + extra
    outcome = decide(keep=keep, reject=reject, eligible=eligible, quorum=Decimal("0.5"))
    if keep + reject == 0 or 2 * (keep + reject) < eligible:
        assert outcome is None
    else:
        assert outcome == ("upheld" if reject > keep else "dismissed")
