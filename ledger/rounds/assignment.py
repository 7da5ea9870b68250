"""Which round a contribution belongs to."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ledger.extensions import db
from ledger.rounds.models import Round


def round_for(commons_id: int, on: date) -> tuple[Round | None, bool]:
    """The open round for work done ``on``, and whether the declaration is late.

    Work dated in an open round's period belongs to it. Work dated in a period whose round is
    already past `open` is late: it goes to the commons' current open round (the earliest one
    still open). With no open round at all, it waits (None) and the next round created adopts it.
    """
    covering = db.session.scalar(
        select(Round).where(Round.commons_id == commons_id, Round.period_start <= on, Round.period_end >= on)
    )
    if covering is not None and covering.state == "open":
        return covering, False
    current = db.session.scalar(
        select(Round).where(Round.commons_id == commons_id, Round.state == "open").order_by(Round.period_start).limit(1)
    )
    return current, covering is not None
