"""Who is asking: a bearer token for the API, a session cookie for the web pages."""

from __future__ import annotations

import functools

from flask import current_app, g, redirect, request, session, url_for
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


def public(view_method):
    """Mark an API read anyone may call without a token (every other API operation needs one)."""
    view_method.public = True  # read by authenticate_api and by ledger.api.openapi
    return view_method


def is_public(view, method: str) -> bool:
    """Whether the API operation ``method`` (lower case) of the ``view`` function is marked public.

    A view that is no resource of the API (the OpenAPI document itself) is public.
    """
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return True
    function = getattr(view_class, "get" if method == "head" else method, None)
    return function is None or getattr(function, "public", False)


def authenticate_api() -> None:
    """Before each request: every API operation not marked ``public`` needs a person, checked
    before its input is (query string or body), so that an anonymous client learns nothing about
    the input rules and gets 401, not 422."""
    if not request.path.startswith("/api/") or request.url_rule is None:
        return  # a page, or an unknown API path (its 404 or 405 says nothing about input)
    if not is_public(current_app.view_functions[request.endpoint], request.method.lower()):
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
