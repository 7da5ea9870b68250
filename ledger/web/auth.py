"""Logging in and out with email and password; the language switch."""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from ledger.extensions import db
from ledger.people.auth import current_person
from ledger.people.models import LoginAttempt
from ledger.people.passwords import check_password
from ledger.people.service import end_sessions, find_by_email
from ledger.timeutil import as_utc, utcnow

blp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# One address may fail this many times the per-email limit: enough for a shared office or a
# proxy, too few to try one common password against every account (password spraying).
ADDRESS_LIMIT_FACTOR = 5
WINDOW = timedelta(minutes=15)
FIRST_DELAY_SECONDS = 2


def login_delay(email: str, address: str) -> int:
    """Seconds this address must still wait before trying this email again (0: it may try now).

    Failures are counted per email *and* address: a guesser elsewhere never locks the owner out.
    Past the free attempts each further failure doubles the wait (2 s, 4 s, 8 s … up to the
    window), which makes guessing slow without ever refusing the right password outright.
    """
    from flask import current_app

    limit = current_app.config["LEDGER_LOGIN_RATE_LIMIT"]
    now = utcnow()
    recent = select(func.count(LoginAttempt.id), func.max(LoginAttempt.attempted_at)).where(
        LoginAttempt.attempted_at >= now - WINDOW, LoginAttempt.remote_addr == address
    )
    wait = 0.0
    for (failures, last), free in (
        (db.session.execute(recent.where(LoginAttempt.email == email)).one(), limit),
        (db.session.execute(recent).one(), limit * ADDRESS_LIMIT_FACTOR),
    ):
        if failures >= free:
            delay = min(FIRST_DELAY_SECONDS * 2 ** (failures - free), WINDOW.total_seconds())
            wait = max(wait, delay - (now - as_utc(last)).total_seconds())
    return max(0, math.ceil(wait))


def safe_next(target: str | None) -> str:
    """The one check of every redirect target a request supplies: a path on this site, or home.

    Browsers drop tabs and line breaks from URLs and read a backslash as a slash, so "/<tab>/evil"
    would become "//evil" (another site); control characters also cannot go in a header.
    """
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() or c == "\\" for c in target):
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


def _clear_session_keeping_language() -> None:
    """A new session at login and logout, in the language the person chose."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@blp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = request.remote_addr or ""
        if wait := login_delay(email, address):
            form.email.errors.append(_("Too many failed attempts. Wait %(seconds)s seconds and try again.", seconds=wait))
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        person = find_by_email(email)
        # Hashed even for an unknown email (check_password does), so that timing tells nothing.
        if check_password(person.password_hash if person else None, form.password.data) and person is not None:
            _clear_session_keeping_language()
            if person.locale:  # the language they chose last time, on whatever device
                session["lang"] = person.locale
            session["person_id"] = person.id
            session["session_generation"] = person.session_generation
            session.permanent = True
            return redirect(safe_next(request.args.get("next")))
        db.session.add(LoginAttempt(email=email, remote_addr=address))
        db.session.commit()  # the failed attempt must count even though the page answers 401
        form.password.errors.append(_("Email or password is wrong."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@blp.post("/logout")
def logout():
    if (person := current_person()) is not None:
        end_sessions(person)  # a copy of the cookie, kept or stolen, no longer logs anyone in
    _clear_session_keeping_language()
    flash(_("You are logged out."))
    return redirect(url_for("home.index"))


@blp.get("/lang/<code>")
def switch_language(code: str):
    if code in current_app.config["LEDGER_LANGUAGES"]:
        session["lang"] = code
        if (person := current_person()) is not None:
            person.locale = code
    return redirect(safe_next(request.args.get("next")))
