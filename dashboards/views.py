"""Transparency pages. The charts arrive with the dashboards issue; the public ledger is here now."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from dashboards import blp
from ledger.commons.models import Commons
from ledger.extensions import db


@blp.get("")
def installation():
    commons = db.session.scalars(select(Commons).order_by(Commons.name)).all()
    return render_template("dashboards/installation.html", commons=commons)
