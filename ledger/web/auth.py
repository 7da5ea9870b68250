"""Logging in and out with email and password; the language switch."""

from __future__ import annotations

from datetime import timedelta

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
from ledger.people.service import find_by_email
from ledger.timeutil import utcnow

blp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# One address may fail this many times the per-email limit: enough for a shared office or a
# proxy, too few to try one common password against every account (password spraying).
ADDRESS_LIMIT_FACTOR = 5


def _too_many_attempts(email: str) -> bool:
    from flask import current_app

    since = utcnow() - timedelta(minutes=15)
    limit = current_app.config["LEDGER_LOGIN_RATE_LIMIT"]
    recent = select(func.count(LoginAttempt.id)).where(LoginAttempt.attempted_at >= since)
    if db.session.scalar(recent.where(LoginAttempt.email == email)) >= limit:
        return True
    address = request.remote_addr or ""
    return db.session.scalar(recent.where(LoginAttempt.remote_addr == address)) >= limit * ADDRESS_LIMIT_FACTOR


def safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


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
        if _too_many_attempts(email):
            form.email.errors.append(_("Too many failed attempts. Wait 15 minutes and try again."))
            return render_template("auth/login.html", form=form), 429
        person = find_by_email(email)
        if person is not None and check_password(person.password_hash, form.password.data):
            _clear_session_keeping_language()
            if person.locale:  # the language they chose last time, on whatever device
                session["lang"] = person.locale
            session["person_id"] = person.id
            session.permanent = True
            return redirect(safe_next(request.args.get("next")))
        db.session.add(LoginAttempt(email=email, remote_addr=request.remote_addr or ""))
        db.session.commit()  # the failed attempt must count even though the page answers 401
        form.password.errors.append(_("Email or password is wrong."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@blp.post("/logout")
def logout():
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
