"""The session cookie travels with pages, never with static files."""

from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface

# A stylesheet, a script or the icon answers the same to everyone: it neither needs the session
# nor should refresh it. A refreshed cookie on an asset still loading when someone logs out or in
# on the same browser would land after the new one and bring the old session back; and a
# response carrying Set-Cookie is one no shared cache keeps.
ASSET_ENDPOINTS = frozenset({"static", "home.favicon"})


class PageSessionInterface(SecureCookieSessionInterface):
    def should_set_cookie(self, app, session) -> bool:
        if request.endpoint in ASSET_ENDPOINTS:
            return False
        return super().should_set_cookie(app, session)
