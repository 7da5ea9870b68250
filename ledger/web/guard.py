"""Page guards: redirect to the login page rather than answering 401 to a browser."""

from __future__ import annotations

import functools

from flask import redirect, request, url_for

from ledger.people.auth import current_person


def login_required(view):
    """Call ``view(me, ...)`` with the logged-in person, or send the browser to log in."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        me = current_person()
        if me is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(me, *args, **kwargs)

    return wrapper
