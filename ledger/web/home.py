"""The front page: what this installation is, and where to go."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import select

from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.inbox.todo import todo_for
from ledger.people.auth import current_person

blp = Blueprint("home", __name__)


@blp.get("/")
def index():
    commons = db.session.scalars(select(Commons).order_by(Commons.name)).all()
    me = current_person()
    return render_template("home.html", commons=commons, todo=todo_for(me) if me else [])


@blp.get("/favicon.ico")
def favicon():
    """The icon, for what a browser shows without an HTML head naming it (JSON, a download)."""
    return redirect(url_for("static", filename="img/icon.svg"), 301)
