"""Which version of a set of rules is in force on a date: one answer for commons and fund rules.

A version applies from its ``effective_from`` on; the one in force on a day is the latest version
effective by then. Before a commons' (or the fund's) first version, that first version applies:
the rules were set when the commons was founded, and they are the only ones it ever had.
A version whose date has not come yet is *scheduled*.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, select

from ledger.extensions import db
from ledger.timeutil import today

IN_FORCE, SCHEDULED, SUPERSEDED = "in_force", "scheduled", "superseded"


def in_force_order(model, on):
    """An ORDER BY putting first the version in force on ``on`` (a date or a bind parameter)."""
    return case((model.effective_from <= on, model.version), else_=-model.version).desc()


def in_force(model, *criteria, on: date | None = None):
    """The version of ``model`` (a versioned rules table) matching ``criteria`` in force on ``on`` (default: today)."""
    query = select(model).where(*criteria).order_by(in_force_order(model, on or today())).limit(1)
    return db.session.scalar(query)


def version_state(version, in_force_now, on: date | None = None) -> str:
    """``scheduled`` (its date is to come), ``in_force`` (the one applying on ``on``) or ``superseded``."""
    if version.effective_from > (on or today()) and (in_force_now is None or version.version > in_force_now.version):
        return SCHEDULED
    return IN_FORCE if in_force_now is not None and version.id == in_force_now.id else SUPERSEDED
