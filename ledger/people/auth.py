"""Who is asking: a bearer token for the API, a session cookie for the web pages."""

from __future__ import annotations

import functools

from flask import g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l

from ledger.errors import Forbidden, NotAuthenticated
from ledger.people.models import Person
from ledger.people.service import person_for_token, session_person


def load_current_person() -> None:
    """Before each request: find the person from the Authorization header or the session."""
    g.person = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.person = person_for_token(header.removeprefix("Bearer ").strip())
        return
    if request.path.startswith("/api/"):
        # The API takes tokens only: a cookie would need CSRF protection the API cannot have.
        return
    person_id = session.get("person_id")
    if isinstance(person_id, int):
        g.person = session_person(person_id, session.get("session_generation", 0))


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def authenticate_api_writes() -> None:
    """Before each request: every API write needs a person, checked before its input is, so that
    an anonymous client learns nothing about the input rules (and gets 401, not 422)."""
    if request.path.startswith("/api/") and request.method in WRITE_METHODS:
        require_person()


def current_person() -> Person | None:
    return g.get("person")


def require_person() -> Person:
    """The authenticated person, or a 401."""
    person = current_person()
    if person is None:
        raise NotAuthenticated(_l("Authentication required: send 'Authorization: Bearer <token>'."))
    return person


def require_admin() -> Person:
    person = require_person()
    if not person.is_admin:
        raise Forbidden(_l("Only an installation administrator may do this."))
    return person


def login_required(view):
    """A page guard: call ``view(me, ...)`` with the logged-in person, or send the browser to log in
    (a page redirects where the API would answer 401)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        me = current_person()
        if me is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(me, *args, **kwargs)

    return wrapper
