"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ledger.database import database_ready

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is alive (nothing else is checked)."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz():
    """The database answers and is migrated: safe to send traffic."""
    ready, detail = database_ready()
    return jsonify({"status": "ok" if ready else "unavailable", "detail": detail}), 200 if ready else 503
