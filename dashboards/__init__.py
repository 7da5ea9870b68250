"""Public transparency dashboards (no login): where the money came from and where it went."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint(
    "dashboards",
    __name__,
    url_prefix="/transparency",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from dashboards import views  # noqa: E402,F401  (registers the routes)
