"""One clock for the whole service, so that tests and the scheduler can agree on 'now'."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC; rounds and declarations are dated by day."""
    return utcnow().date()


def as_utc(moment: datetime) -> datetime:
    """A stored time with its UTC offset: SQLite gives times back without it (all are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
