"""Contributive budget and co-remuneration ledger.

``create_app()`` is the WSGI application factory: ``gunicorn 'ledger:create_app()'``.
"""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.routing import IntegerConverter

from ledger.config import load_config
from ledger.extensions import babel, csrf, db


class DatabaseIntConverter(IntegerConverter):
    """``<int:…>`` limited to the 64-bit integers both databases store."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def select_locale() -> str:
    """Pages speak the first of ``LEDGER_LANGUAGES`` (French) unless another was chosen (kept in
    the session); the API follows Accept-Language, English by default; outside a request (CLI,
    demo) English."""
    from flask import current_app, has_request_context, session

    if not has_request_context():
        return "en"
    languages = current_app.config["LEDGER_LANGUAGES"]
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or ("en" if "en" in languages else languages[0])
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return chosen
    return languages[0]


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests use it)."""
    settings = load_config(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_DIR"], instance_relative_config=False)
    app.config.update(settings)
    # An id in a path beyond what the database can store cannot exist: 404, not a driver overflow.
    app.url_map.converters["int"] = DatabaseIntConverter

    from ledger import errors, models  # noqa: F401  (models registers every table)
    from ledger.accounts.checkpoints import install as install_checkpoints
    from ledger.api import register_api
    from ledger.api.json_guard import check_json_body
    from ledger.database import configure_engine
    from ledger.logs import configure_logging
    from ledger.people.auth import authenticate_api, load_current_person
    from ledger.revisions import install as install_revisions
    from ledger.timeutil import install_test_clock
    from ledger.web import register_web

    configure_logging(app)
    install_test_clock(app)
    db.init_app(app)
    configure_engine(app)
    install_checkpoints()
    install_revisions()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(load_current_person)
    app.before_request(authenticate_api)
    app.before_request(check_json_body)
    register_api(app)
    register_web(app)
    errors.register(app)

    @app.after_request
    def personal_data_not_cached(response):
        # An answer built from decrypted personal data (an employee reference) stays out of
        # browser and proxy caches, and out of the back button's history.
        if request.environ.get("ledger.personal_data"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        return response

    @app.after_request
    def commit_or_rollback(response):
        # The single commit point of a request: handlers only flush. Registered last so that it
        # runs first: a commit that fails (disk full, database gone) answers 503 with the
        # envelope, and the answer still gets the headers below.
        from ledger import mail

        if response.status_code >= 400:
            db.session.rollback()
            mail.discard_queued()
            return response
        if not db.session().in_transaction():
            # Nothing read or written since the last commit (a declaration commits its own write).
            mail.deliver_queued()
            return response
        try:
            db.session.commit()
        except (OperationalError, InterfaceError) as exc:
            mail.discard_queued()
            return app.make_response(errors.handle_database_unavailable(exc))
        mail.deliver_queued()  # only what a committed request asked to send
        return response

    return app
