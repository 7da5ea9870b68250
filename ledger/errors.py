"""One error type for the whole service, rendered as the API envelope or an HTML page.

Every refused request answers ``{"error": {"code", "message", "fields"}}`` under /api/ and a
readable page elsewhere; the request's session is rolled back so nothing refused is stored.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from ledger.extensions import db

log = logging.getLogger(__name__)


class LedgerError(Exception):
    """A refusal with an HTTP status, a stable code, a message and per-field messages.

    Services raise it with lazy messages (``lazy_gettext(msgid, **params)``): the msgid and its
    parameters travel with the error and become text only when the edge reads ``message`` or
    ``fields``, in the language of the request (or of the CLI's default locale).
    """

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str | LazyString,
        *,
        fields: dict[str, list[str | LazyString]] | None = None,
        code: str | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self._message = message
        self._fields = fields or {}
        if code:
            self.code = code
        if status:
            self.status = status

    @property
    def message(self) -> str:
        return str(self._message)

    @property
    def fields(self) -> dict[str, list[str]]:
        return {name: [str(m) for m in messages] for name, messages in self._fields.items()}

    @property
    def params(self) -> dict:
        """The message's parameters (a round's id, an amount in cents…), unformatted, for logs
        and tests; a field's problem contributes its own."""

        def of(message) -> dict:
            found = {}
            for name, value in getattr(message, "_kwargs", {}).items():
                if isinstance(value, LazyString) and value._kwargs:  # a nested message
                    found |= of(value)
                elif isinstance(value, LazyString) and value._args:  # a value formatted later
                    found[name] = value._args[0]
                elif not isinstance(value, LazyString):
                    found[name] = value
            return found

        return of(self._message)

    def __str__(self) -> str:
        return self.message


class ValidationFailed(LedgerError):
    status, code = 422, "validation_failed"


class NotAuthenticated(LedgerError):
    status, code = 401, "not_authenticated"


class Forbidden(LedgerError):
    status, code = 403, "forbidden"


class NotFound(LedgerError):
    status, code = 404, "not_found"


class Conflict(LedgerError):
    status, code = 409, "conflict"


def field_error(field: str, message: str | LazyString) -> ValidationFailed:
    """A 422 naming one field (by its name in the API, which the envelope's ``fields`` also uses)."""
    return ValidationFailed(_l("%(field)s: %(problem)s", field=field, problem=message), fields={field: [message]})


HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    503: "unavailable",
}


# What each refusal the framework makes (no such page, wrong method…) says to a person.
HTTP_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Sign in to see this page."),
    403: _l("You are not allowed to do this."),
    404: _l("There is no page at this address."),
    405: _l("This address does not accept this kind of request."),
    409: _l("This conflicts with the current state; nothing was saved."),
    413: _l("The request is too large."),
    415: _l("The request's format is not accepted."),
    422: _l("The request could not be processed."),
    429: _l("Too many requests; wait a moment and try again."),
    503: _l("The service is briefly unavailable; nothing was saved. Try again shortly."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def N_(message: str) -> str:
    """Marks a msgid for the catalogue without translating it here."""
    return message


# marshmallow's own messages, written in English with their values filled in: each template is
# also a msgid (French keeps the {placeholders}), and the envelope translates a message that
# matches one. Ours are translated where they are raised.
FRAMEWORK_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid email address."),
    N_("Not a valid integer."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid number."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Must be one of: {choices}."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Longer than maximum length {max}."),
    N_("Shorter than minimum length {min}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be greater than {min}."),
    N_("Must be less than {max}."),
)


def _template_pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)) + r"\Z", re.S
    )


FRAMEWORK_PATTERNS = tuple((template, _template_pattern(template)) for template in FRAMEWORK_MESSAGES)


def translated(message: str) -> str:
    """A framework message in the reader's language (others pass through unchanged)."""
    for template, pattern in FRAMEWORK_PATTERNS:
        if found := pattern.match(message):
            return _(template).format(**found.groupdict())
    return message


def flatten_webargs(messages: dict) -> dict[str, list[str]]:
    """webargs nests errors by location ({"json": {"hours": [...]}}); the contract does not."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields.setdefault(prefix or "_schema", []).extend(translated(v) for v in value)
        else:
            fields.setdefault(prefix or "_schema", []).append(str(value))

    for location, errors in messages.items():
        walk("" if location in ("json", "query", "form", "view_args", "path") else location, errors)
    return fields


def envelope(status: int, code: str, message: str, fields: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def render_error(status: int, code: str, message: str, fields: dict | None = None):
    db.session.rollback()
    if wants_json():
        return envelope(status, code, message, fields)
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def handle_ledger_error(error: LedgerError):
    return render_error(error.status, error.code, error.message, error.fields)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    fields = flatten_webargs(data["messages"]) if "messages" in data else {}
    if fields:
        message = _("Invalid input: %(names)s", names=", ".join(sorted(fields)))
    else:
        message = str(HTTP_MESSAGES.get(status) or error.name)  # werkzeug's descriptions are English
    response = render_error(status, HTTP_CODES.get(status, "error"), message, fields)
    if status == 405 and getattr(error, "valid_methods", None):
        # The methods this URL takes, as HTTP requires of a 405 (the envelope replaced werkzeug's page).
        if isinstance(response, tuple):
            response = current_app.make_response(response)
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


# What the database answers to the loser of a race: a unique or exclusion constraint another
# transaction satisfied first, a serialization failure, a deadlock. SQLite serializes writers, so
# there only a unique constraint can speak (a service check missed), and it means the same.
RACE_SQLSTATES = frozenset({"23505", "23P01", "40001", "40P01"})
SQLITE_RACE_ERRORS = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


def lost_race(error: DBAPIError) -> bool:
    """Whether the database refused this statement because a concurrent request got there first."""
    orig = error.orig
    return getattr(orig, "sqlstate", None) in RACE_SQLSTATES or getattr(orig, "sqlite_errorname", None) in SQLITE_RACE_ERRORS


def handle_lost_race(error: DBAPIError):
    """The one place a database race becomes the domain's conflict: 409, nothing saved."""
    log.info("request lost a race: %s", getattr(error.orig, "sqlstate", error.orig.__class__.__name__))
    conflict = Conflict(_("Someone made the same change at the same moment; nothing was saved. Reload and try again."))
    return handle_ledger_error(conflict)


def handle_integrity_error(error: IntegrityError):
    return handle_lost_race(error) if lost_race(error) else handle_unexpected(error)


def handle_database_unavailable(error: Exception):
    """The database went away (restart, network, disk): say so, and let the client retry."""
    if isinstance(error, OperationalError) and lost_race(error):
        return handle_lost_race(error)  # a serialization failure or a deadlock: the database is fine
    log.error("database unavailable: %s", error.__class__.__name__)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the pool will replace it
        db.session.remove()
    if wants_json():
        response = envelope(503, "unavailable", _("The database is unavailable; nothing was saved. Try again shortly."))
    else:
        response = (
            render_template(
                "error.html",
                status=503,
                message=_("The service is briefly unavailable; nothing was saved. Try again shortly."),
                fields={},
            ),
            503,
        )
    return response


def handle_out_of_range(error: Exception):
    """A number the database cannot hold slipped past validation: still the client's input."""
    log.warning("number out of range reached the database: %s", error)
    return render_error(422, "validation_failed", _("A number in the request is out of range."))


def handle_statement_error(error: StatementError):
    if isinstance(error.orig, OverflowError) or isinstance(error, DataError):
        return handle_out_of_range(error)
    return handle_unexpected(error)


def handle_unexpected(error: Exception):
    log.exception("unhandled error")
    db.session.rollback()
    return render_error(500, "internal_error", _("Something went wrong on our side; nothing was saved."))


def register(app: Flask) -> None:
    app.register_error_handler(LedgerError, handle_ledger_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(StatementError, handle_statement_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
