"""Democratic health on a commons' dashboard: turnout, activity, concentration of work, time to settle objections.

The figures are ``ledger.governance.health``'s (counts and distributions, never a named person);
here they become charts, each with its table and CSV like every other chart. The page
``/commons/<slug>/democratic-health`` keeps them as tables too.
"""

from __future__ import annotations

from fractions import Fraction

from flask_babel import gettext as _

from dashboards import figures
from dashboards.charts import Chart
from ledger import formatting
from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.governance import health


def _figures(commons_id: int) -> dict:
    return health.figures(db.session.get(Commons, commons_id))


def _share(cast: int, eligible: int) -> Fraction | None:
    return Fraction(cast, eligible) if eligible else None


def _turnout_rows(rows: list[dict], label: str) -> list[dict]:
    """Rows with cast and eligible, the turnout as an exact share and its percentage for the chart."""
    result = []
    for row in rows:
        share = _share(row["cast"], row["eligible"])
        result.append(
            {
                label: row[label],
                "cast": row["cast"],
                "eligible": row["eligible"],
                "turnout_percent": None if share is None else formatting.rounded(share * 100, 1),
            }
        )
    return result


def _turnout_chart(key: str, title: str, caption: str, rows: list[dict], label: str, header: str) -> Chart:
    return Chart(
        key,
        title,
        caption,
        [(label, header), ("cast", _("Voted")), ("eligible", _("Could vote")), ("turnout_percent", _("Turnout (%)"))],
        rows,
        figures.bars(
            [f"#{r[label]}" if label == "proposal" else str(r[label]) for r in rows],
            [r["turnout_percent"] or 0 for r in rows],
            name=_("Turnout"),
            y_title=_("Share of those who could vote"),
            percent=True,
        ),
    )


def turnout_votes(commons_id: int) -> Chart:
    found = _figures(commons_id)
    rows = _turnout_rows(found["votes"], "proposal")
    return _turnout_chart(
        "turnout-votes",
        _("Turnout in each vote"),
        _(
            "The share of the members who could vote who did, for each proposal decided by vote. %(active)s of "
            "%(members)s members took part in the commons' life in the last three months (declared, vouched, voted "
            "or commented): %(share)s %%.",
            active=found["active_3_months"],
            members=found["members"],
            share=found["active_share"],
        ),
        rows,
        "proposal",
        _("Proposal"),
    )


def turnout_colleges(commons_id: int) -> Chart:
    rows = _turnout_rows(_figures(commons_id)["turnout_by_college"], "college")
    return _turnout_chart(
        "turnout-colleges",
        _("Turnout by college"),
        _("Ballots cast in each college over all votes, against the members of the college who could vote."),
        rows,
        "college",
        _("College"),
    )


def turnout_months(commons_id: int) -> Chart:
    rows = _turnout_rows(_figures(commons_id)["turnout_by_month"], "month")
    return _turnout_chart(
        "turnout-months",
        _("Turnout over time"),
        _("Ballots cast in the votes that closed each month, against those who could vote."),
        rows,
        "month",
        _("Month"),
    )


def _distribution_chart(key: str, title: str, caption: str, distribution: list[dict], header: str, y_title: str) -> Chart:
    rows = [{"range": d["range"], "count": d["count"]} for d in distribution] if any(d["count"] for d in distribution) else []
    return Chart(
        key,
        title,
        caption,
        [("range", header), ("count", y_title)],
        rows,
        figures.bars([r["range"] for r in rows], [r["count"] for r in rows], name=y_title, y_title=y_title),
    )


def declared_work(commons_id: int) -> Chart:
    found = _figures(commons_id)["declared_concentration"]
    return _distribution_chart(
        "declared-work",
        _("How declared work is spread"),
        _(
            "How many people declared how many hours in all. The most active fifth of the %(people)s people who "
            "declared work declared %(share)s %% of the hours.",
            people=found["people"],
            share=found["top_fifth_share"],
        ),
        found["distribution"],
        _("Hours declared"),
        _("People"),
    )


def review_work(commons_id: int) -> Chart:
    found = _figures(commons_id)["review_concentration"]
    return _distribution_chart(
        "review-work",
        _("How review work is spread"),
        _(
            "How many people vouched or voted on objections how many times. The most active fifth of the %(people)s "
            "reviewers did %(share)s %% of the reviews.",
            people=found["people"],
            share=found["top_fifth_share"],
        ),
        found["distribution"],
        _("Reviews (vouches and objection votes)"),
        _("People"),
    )


def objection_days(commons_id: int) -> Chart:
    found = _figures(commons_id)["objection_days"]
    return _distribution_chart(
        "objection-days",
        _("How long objections take to settle"),
        _(
            "Days from an objection to its settlement. %(settled)s settled, %(open)s still open.",
            settled=found["settled"],
            open=found["open"],
        ),
        found["distribution"],
        _("Days to settle"),
        _("Objections"),
    )


BUILDERS = {
    "turnout-votes": turnout_votes,
    "turnout-colleges": turnout_colleges,
    "turnout-months": turnout_months,
    "declared-work": declared_work,
    "review-work": review_work,
    "objection-days": objection_days,
}
