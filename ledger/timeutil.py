"""One clock for the whole service, so that tests and the scheduler can agree on 'now'."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC; rounds and declarations are dated by day."""
    return utcnow().date()
