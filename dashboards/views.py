"""Transparency pages: the installation's and each commons' dashboards, chart CSVs, the public
ledger, and plotly.js served from the installed plotly package (no CDN)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from dashboards import blp, cache, charts, ledger_page, plotly_asset, queries
from dashboards.csv import to_csv
from ledger.accounts import memos
from ledger.accounts.checkpoints import latest as latest_checkpoint
from ledger.accounts.signing import current_key
from ledger.commons.models import Commons
from ledger.commons.service import get_commons, membership
from ledger.extensions import db
from ledger.formatting import money
from ledger.people.auth import current_person

# Nothing external, ever: plotly.js draws with inline styles, and figures travel as JSON data blocks.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@blp.context_processor
def helpers() -> dict:
    return {
        "euros": money,
        "kind_label": memos.kind_label,
        "memo_shown": memos.shown,
        "statuses": {
            "verified": _("verified"),
            "altered": _("altered: content does not match its hash"),
            "unlinked": _("not linked to the previous transaction"),
            "unsigned": _("not covered by a valid signature"),
            "unbalanced": _("postings do not balance"),
        },
    }


@blp.after_request
def strict_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


@blp.get(f"/plotly-{plotly_asset.VERSION}.min.js")
def plotly_js():
    return plotly_asset.response(request)


@blp.get("")
def installation():
    commons = db.session.scalars(select(Commons).order_by(Commons.name)).all()
    built, figure_json = cache.charts_of(None)
    return render_template(
        "dashboards/dashboard.html", commons=None, all_commons=commons, charts=built, figure_json=figure_json, members=None
    )


@blp.get("/<slug>")
def commons_page(slug: str):
    commons = get_commons(slug)
    me = current_person()
    # Members of this commons also see the names of the people who agreed to show them.
    members = queries.member_retributions(commons.id) if me is not None and membership(commons, me) else None
    built, figure_json = cache.charts_of(commons.id)
    response = Response(
        render_template(
            "dashboards/dashboard.html",
            commons=commons,
            all_commons=None,
            charts=built,
            figure_json=figure_json,
            members=members,
        )
    )
    if members is not None:
        response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


@blp.get("/<key>.csv")
def installation_csv(key: str):
    return _csv(key, None, "installation")


@blp.get("/<slug>/<key>.csv")
def commons_csv(slug: str, key: str):
    commons = get_commons(slug)
    return _csv(key, commons.id, commons.slug)


def _csv(key: str, commons_id: int | None, prefix: str) -> Response:
    if key not in charts.builders(commons_id):
        abort(404)
    chart = cache.chart(key, commons_id)
    body = to_csv([column for column, _ in chart.columns], chart.rows)
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{prefix}-{key}.csv"'})


@blp.get("/ledger")
def ledger():
    messages = {
        "commons": _("No commons has this short name."),
        "kind": _("Choose a kind from the list."),
        "date": _("Use a date such as 2026-01-31."),
        "order": _("The end date is before the start date."),
        "page": _("The page number is a whole number from 1."),
    }
    filters = ledger_page.parse_filters(request.args, messages)
    key = current_key()
    total, rows = ledger_page.page_of(filters, key.public_pem, key.key_id)
    all_commons = db.session.scalars(select(Commons).order_by(Commons.name)).all()
    pages = max(1, -(-total // ledger_page.PER_PAGE))
    checkpoint = latest_checkpoint()
    html = render_template(
        "dashboards/ledger.html",
        filters=filters,
        rows=rows,
        total=total,
        pages=pages,
        kinds=ledger_page.kinds(),
        all_commons=all_commons,
        key_id=key.key_id,
        checkpoint=checkpoint,
        args=request.args,
    )
    return html, (422 if filters.errors else 200)


@blp.get("/ledger/checkpoint.txt")
def ledger_checkpoint():
    """The latest signed checkpoint as a file to keep (``ledger verify --against`` reads it)."""
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        abort(404)
    return Response(
        checkpoint.note,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="ledger-checkpoint-{checkpoint.size}.txt"'},
    )
