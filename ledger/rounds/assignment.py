"""Which round a contribution belongs to."""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from ledger.extensions import db
from ledger.rounds.models import Round


@cache
def _candidates():
    # Both candidates in one query: the round covering the date and the commons' open rounds.
    # Built once (on first use, once every model is mapped), since it runs for every declaration.
    return (
        select(Round)
        .options(joinedload(Round.rule_version))
        .where(
            Round.commons_id == bindparam("commons_id"),
            or_(and_(Round.period_start <= bindparam("on"), Round.period_end >= bindparam("on")), Round.state == "open"),
        )
        .order_by(Round.period_start)
    )


def round_for(commons_id: int, on: date) -> tuple[Round | None, bool]:
    """The open round for work done ``on``, and whether the declaration is late.

    Work dated in an open round's period belongs to it. Work dated in a period whose round is
    already past `open` is late: it goes to the commons' current open round (the earliest one
    still open). With no open round at all, it waits (None) and the next round created adopts it.
    The returned round comes with its rule version loaded (the declaration's care warning reads it).
    """
    candidates = db.session.scalars(_candidates(), {"commons_id": commons_id, "on": on}).all()
    covering = next((r for r in candidates if r.period_start <= on <= r.period_end), None)
    if covering is not None and covering.state == "open":
        return covering, False
    current = next((r for r in candidates if r.state == "open"), None)
    return current, covering is not None
