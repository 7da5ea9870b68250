"""The dashboards' charts, built once per state of what they show.

A chart changes when the ledger gets a transaction (its head moves) or when reviews, rules,
rounds or votes change (the ``dashboards`` revision counter, bumped by the ORM changes listed in
``_changes_dashboards``). Both are read in two indexed lookups; while neither moved, each process
serves the charts (and their figures' JSON) it built last, per commons and language. Memory stays
bounded: one entry per (commons or installation, language), replaced when the state moves.
"""

from __future__ import annotations

from threading import Lock

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import func, select

from dashboards import charts, figures
from ledger import revisions
from ledger.accounts.models import LedgerTransaction
from ledger.commons.models import Commons, Income
from ledger.contributions.models import Category, Contribution, Objection, Vote, Vouch
from ledger.extensions import db
from ledger.rounds.models import AllocationLine, Round, RuleVersion

COUNTER = "dashboards"
_ALWAYS = (Vouch, Objection, Vote, Category, Round, RuleVersion, Income, Commons, AllocationLine)

_lock = Lock()
Built = dict[tuple[int | None, str], tuple[tuple[int, int], list[charts.Chart], dict[str, Markup]]]


def _changes_dashboards(obj: object) -> bool:
    if isinstance(obj, _ALWAYS):
        return True
    # Work in an open round (or in none yet) is not on any chart until its round's review starts,
    # which bumps the counter itself: the declarations' hot path stays free of it.
    return isinstance(obj, Contribution) and obj.round_id is not None and obj.round is not None and obj.round.state != "open"


revisions.watch(COUNTER, _changes_dashboards, tables=tuple(model.__tablename__ for model in (*_ALWAYS, Contribution)))


def state() -> tuple[int, int]:
    """(ledger head, dashboards revision) as this transaction sees them."""
    head = db.session.scalar(select(func.coalesce(func.max(LedgerTransaction.seq), 0)))
    return int(head), revisions.current(COUNTER)


def charts_of(commons_id: int | None) -> tuple[list[charts.Chart], dict[str, Markup]]:
    """Every chart of a dashboard and each figure's JSON by chart key.

    The ledger's charts are built at most once per state; a commons' democratic-health charts are
    built on each request (see ``charts.build_live``)."""
    cached, cached_json = _ledger_charts(commons_id)
    live = charts.build_live(commons_id)
    return [*cached, *live], cached_json | _figures_json(live)


def _figures_json(built: list[charts.Chart]) -> dict[str, Markup]:
    # Safe to mark: figures.to_json escapes <, > and & so the JSON cannot leave its script element.
    return {chart.key: Markup(figures.to_json(chart.figure)) for chart in built if not chart.empty}


def _ledger_charts(commons_id: int | None) -> tuple[list[charts.Chart], dict[str, Markup]]:
    key = (commons_id, str(get_locale()))
    now = state()
    # Per application: each has its own database (tests build many in one process).
    built_charts: Built = current_app.extensions.setdefault("dashboards.charts", {})
    with _lock:
        found = built_charts.get(key)
    if found is not None and found[0] == now:
        return found[1], found[2]
    built = charts.build_all(commons_id)
    figure_json = _figures_json(built)
    with _lock:
        built_charts[key] = (now, built, figure_json)
    return built, figure_json


def chart(key: str, commons_id: int | None) -> charts.Chart:
    """One chart (for its CSV), from the dashboard's cache when it is one of the ledger's."""
    if key in charts.BUILDERS:
        return next(c for c in _ledger_charts(commons_id)[0] if c.key == key)
    return charts.build(key, commons_id)
