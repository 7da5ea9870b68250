"""The API's readable docs page: Swagger UI served from the installed package, never a CDN."""

from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blp = Blueprint("docs", __name__, url_prefix="/api/v1/docs")


@blp.get("")
def page():
    return render_template("api_docs.html")


@blp.get("/static/<path:filename>")
def static(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
