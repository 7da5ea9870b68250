"""Server-rendered pages: they parse, call a service, and render."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from dashboards import blp as dashboards_blp
    from ledger.contributions import views as contributions
    from ledger.web import account, auth, cae_admin, commons, docs, downloads, fund, health, home, manage, money, my_account
    from ledger.web import glossary as glossary_pages
    from ledger.web import governance as governance_pages
    from ledger.web import payouts as payout_pages
    from ledger.web import rounds as round_pages
    from ledger.web.session_cookie import PageSessionInterface

    for module in (
        health,
        auth,
        account,
        home,
        commons,
        docs,
        contributions,
        payout_pages,
        round_pages,
        money,
        my_account,
        downloads,
        manage,
        cae_admin,
        fund,
        governance_pages,
        glossary_pages,
    ):
        app.register_blueprint(module.blp)
    app.register_blueprint(dashboards_blp)
    app.session_interface = PageSessionInterface()

    @app.context_processor
    def inject_globals():
        from flask_babel import get_locale

        from ledger.accounts.memos import kind_label
        from ledger.inbox.reach import reach_of
        from ledger.people.auth import current_person
        from ledger.web.labels import template_labels

        return {
            "me": current_person(),
            "current_locale": str(get_locale()),
            "reach_of": reach_of,
            "kind_label": kind_label,
            **template_labels(),
        }

    from ledger import formatting

    # Every number, amount and date a page shows goes through one of these (ledger/formatting.py),
    # in the reader's language: 12345|euros → "123,45 €" in French, "€123.45" in English.
    for name, formatter in {
        "euros": formatting.money,
        "hours": formatting.hours,
        "number": formatting.number,
        "percent": formatting.percent,
        "percentage": formatting.percentage,
        "day": formatting.day,
        "moment": formatting.moment,
        "month": formatting.month,
    }.items():
        app.add_template_filter(formatter, name)

    def recorded(text: str | None) -> str | None:
        """A text the service itself stored in English (a default version's reason), in the
        reader's language; a person's own text matches no msgid and shows as written. Plain
        text, escaped like any other (Jinja's ``_`` would mark it safe)."""
        from flask_babel import gettext

        return gettext(text) if text else text

    app.add_template_filter(recorded, "recorded")
