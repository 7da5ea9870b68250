"""One clock for the whole service, so that tests and the scheduler can agree on 'now'.

Every date rule asks `today()` or `utcnow()`. An application built for tests with
``LEDGER_TEST_CLOCK`` may move its own clock (`test_clock(app).move_to(day)`), so that a browser
test can live through a round's windows; nothing else can. The flag is never read from the
environment (`ledger.config`), is refused without ``TESTING``, and no route or command moves the
clock: a production server always reads the real time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Flask, current_app, has_app_context

CLOCK_EXTENSION = "ledger.test_clock"


@dataclass
class TestClock:
    """The real time moved by ``offset``; shared by the app's request and scheduler threads."""

    __test__ = False  # not a pytest test class
    offset: timedelta = timedelta(0)

    def move_to(self, day: date) -> None:
        """From now on, today is ``day`` (the time of day keeps running)."""
        real = datetime.now(UTC)
        self.offset = timedelta(days=(day - real.date()).days)

    def reset(self) -> None:
        self.offset = timedelta(0)


def install_test_clock(app: Flask) -> None:
    """Give ``app`` a movable clock if, and only if, its configuration asks for one in tests."""
    if not app.config.get("LEDGER_TEST_CLOCK"):
        return
    if not app.config.get("TESTING"):
        raise RuntimeError("LEDGER_TEST_CLOCK moves the service's clock and is for tests only (TESTING).")
    app.extensions[CLOCK_EXTENSION] = TestClock()


def test_clock(app: Flask) -> TestClock:
    """The movable clock of a test application; an error for any other."""
    clock = app.extensions.get(CLOCK_EXTENSION)
    if clock is None:
        raise RuntimeError("This application's clock cannot be moved (no LEDGER_TEST_CLOCK).")
    return clock


test_clock.__test__ = False  # not a pytest test function


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    now = datetime.now(UTC)
    if has_app_context() and (clock := current_app.extensions.get(CLOCK_EXTENSION)) is not None:
        return now + clock.offset
    return now


def today() -> date:
    """Today's date in UTC; rounds and declarations are dated by day."""
    return utcnow().date()


def as_utc(moment: datetime) -> datetime:
    """A stored time with its UTC offset: SQLite gives times back without it (all are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
