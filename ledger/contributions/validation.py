"""Pure checks of a declaration: every problem a contributor would expect, reported at once.

The functions take plain values and return messages (translated for the current request), so
the API and the form refuse exactly the same things. Nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from flask_babel import gettext as _

from ledger import text as plain
from ledger.text import CONTROL_RE

MAX_HOURS_PER_DAY = Decimal(24)
HOURS_STEP = Decimal("0.25")
DESCRIPTION_LENGTH = (3, 2000)
REASON_LENGTH = (3, 2000)
EVIDENCE_MAX = 500


@dataclass(frozen=True)
class Draft:
    """What a person asks to record (a new declaration or an edit, already parsed)."""

    on: date
    hours: Decimal
    category: str
    description: str
    evidence_url: str | None


def parse_hours(text: str | None) -> Decimal:
    """Hours typed in a form: "1.5", "1,5" or "2"; raises ValueError with a readable message."""
    cleaned = (text or "").strip().replace(",", ".")
    try:
        hours = plain.parse_decimal(cleaned)  # ASCII digits only: not "１", "٣" nor "1_0"
    except ValueError as exc:
        raise ValueError(_("Enter a number of hours, such as 1.5.")) from exc
    if not hours.is_finite():
        raise ValueError(_("Enter a number of hours, such as 1.5."))
    return hours


def hours_problem(hours: Decimal) -> str | None:
    """Hours are positive, at most 24, in steps of a quarter of an hour."""
    if hours <= 0:
        return _("Hours must be more than 0.")
    if hours > MAX_HOURS_PER_DAY:
        return _("A day has at most 24 hours.")
    if hours % HOURS_STEP != 0:
        return _("Use steps of a quarter of an hour (0.25, 0.5, 0.75…).")
    return None


def text_problem(text: str, bounds: tuple[int, int]) -> str | None:
    """A piece of prose of reasonable length, that others can read as it is (``ledger.text``)."""
    low, high = bounds
    if problem := plain.text_problem(text):
        return problem
    if len(plain.INVISIBLE_RE.sub("", text)) < low:  # zero-width characters are not writing
        return _("Write at least %(n)s characters.", n=low)
    if len(text) > high:
        return _("Write at most %(n)s characters.", n=high)
    return None


def evidence_problem(url: str | None) -> str | None:
    """An optional link, only http(s), to somewhere with a host name."""
    if not url:
        return None
    if len(url) > EVIDENCE_MAX:
        return _("A link has at most %(n)s characters.", n=EVIDENCE_MAX)
    if CONTROL_RE.search(url) or any(c.isspace() for c in url):
        return _("A link cannot contain spaces.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return _("Only web links starting with http:// or https:// are accepted.")
    return None


@dataclass(frozen=True)
class DateBounds:
    """The earliest day work may be dated: the commons' start, and the late-declaration window."""

    started_on: date
    late_from: date


def late_window_start(today: date, cadence: str, late_periods: int) -> date:
    """The first day of the period ``late_periods`` periods before the one containing ``today``.

    Periods are the cadence's: calendar quarters for `quarterly`, calendar months otherwise
    (`manual` included). With 1, the default, work of the previous period may still be declared.
    """
    months = 3 if cadence == "quarterly" else 1
    index = today.year * 12 + (today.month - 1) // months * months - months * max(0, late_periods)
    return date(index // 12, index % 12 + 1, 1)


def date_problem(on: date, *, today: date, bounds: DateBounds | None) -> str | None:
    """Work is dated today or earlier, not before the commons started, and within the late window."""
    if on > today:
        return _("The date cannot be in the future: declare work once it is done.")
    if bounds is None:
        return None
    if on < bounds.started_on:
        return _("The date cannot be before the commons started (%(day)s).", day=bounds.started_on.isoformat())
    if on < bounds.late_from:
        return _(
            "This is too late to declare: the rules accept late work from %(day)s on; ask a steward.",
            day=bounds.late_from.isoformat(),
        )
    return None


def check_draft(
    draft: Draft,
    *,
    today: date,
    other_hours_that_day: Decimal,
    categories: set[str],
    bounds: DateBounds | None = None,
) -> dict[str, list[str]]:
    """Every problem of ``draft``, by field; empty when it may be recorded.

    ``other_hours_that_day`` is what the person already declared that day in all commons
    (withdrawn work excluded, the contribution being edited excluded); ``bounds`` the earliest
    dates the commons and its rules accept.
    """
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str | None) -> None:
        if message:
            problems.setdefault(name, []).append(message)

    add("date", date_problem(draft.on, today=today, bounds=bounds))
    problem = hours_problem(draft.hours)
    add("hours", problem)
    if problem is None and other_hours_that_day + draft.hours > MAX_HOURS_PER_DAY:
        add(
            "hours",
            _(
                "You already declared %(h)s hours on that day across your commons; a day has at most 24 hours.",
                h=f"{other_hours_that_day:.2f}",
            ),
        )
    if draft.category not in categories:
        add("category", _("Choose one of this commons' categories."))
    add("description", text_problem(draft.description, DESCRIPTION_LENGTH))
    add("evidence_url", evidence_problem(draft.evidence_url))
    return problems


def week_bounds(on: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week of ``on``."""
    monday = on - timedelta(days=on.weekday())
    return monday, monday + timedelta(days=6)
