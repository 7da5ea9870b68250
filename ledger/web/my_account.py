"""My account: profile and language, password (change, reset by mail), and invitations' links."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from ledger import notify
from ledger.errors import LedgerError
from ledger.inbox import notifications
from ledger.people import links
from ledger.people.auth import login_required
from ledger.people.profile import update_profile
from ledger.people.service import find_by_email

blp = Blueprint("account_pages", __name__)


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    pseudonym = StringField(_l("Pseudonym (shown publicly instead of your name)"), validators=[DataRequired(), Length(max=60)])
    show_name_publicly = BooleanField(_l("Show my name publicly instead of my pseudonym"))
    mail_opt_in = BooleanField(_l("Mail me what waits for me (objections, votes, a daily digest)"))
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("fr", "Français", render_kw={"lang": "fr"}),
            SelectChoice("en", "English", render_kw={"lang": "en"}),
        ],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=200)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=200)])


class ForgotForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


def place_errors(form, error: LedgerError, rename: dict[str, str] | None = None) -> None:
    """Put a refusal's field messages beside the fields (``rename``: service name → form field),
    the rest in ``form.top_errors``, shown above the form."""
    form.top_errors = getattr(form, "top_errors", [])
    for name, messages in error.fields.items():
        target = getattr(form, (rename or {}).get(name, name), None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            form.top_errors.extend(messages)
    if not error.fields:
        form.top_errors.append(error.message)


@blp.route("/account", methods=["GET", "POST"])
@login_required
def profile(me):
    form = ProfileForm(obj=me)  # on a POST the submitted values win
    if form.validate_on_submit():
        try:
            update_profile(
                me,
                display_name=form.display_name.data,
                pseudonym=form.pseudonym.data,
                show_name_publicly=form.show_name_publicly.data,
                locale=form.locale.data,
            )
        except LedgerError as error:
            place_errors(form, error)
        else:
            notifications.set_opt_out(me, not form.mail_opt_in.data)
            session["lang"] = me.locale
            flash(_("Your profile is saved."))
            return redirect(url_for("account_pages.profile"))
    if not form.is_submitted():
        form.locale.data = me.locale or session.get("lang") or "fr"
        form.mail_opt_in.data = notifications.wants_mail(me)
    return render_template("account/profile.html", form=form)


@blp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password(me):
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            links.change_password(me, form.current.data, form.password.data, form.confirm.data)
        except LedgerError as error:
            place_errors(form, error)
        else:
            flash(_("Your password is changed."))
            return redirect(url_for("account_pages.profile"))
    return render_template("account/password.html", form=form, title=_("Change my password"))


@blp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Always the same answer, so that the page does not tell who has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        person = find_by_email(form.email.data)
        if person is not None and links.may_send_reset(person):
            notify.password_reset(person, links.issue(person, "reset"))
        flash(_("If an account has this address, a link to choose a new password is on its way."))
        return redirect(url_for("auth.login"))
    return render_template("account/forgot.html", form=form)


def use_link(token: str, purpose: str, title: str, done: str):
    form = NewPasswordForm()
    try:
        links.find(token, purpose)
    except LedgerError as error:
        return render_template("account/link_refused.html", message=error.message), 410
    if form.validate_on_submit():
        try:
            links.set_password_with(token, purpose, form.password.data, form.confirm.data)
        except LedgerError as error:
            place_errors(form, error)
        else:
            flash(done)
            return redirect(url_for("auth.login"))
    return render_template("account/password.html", form=form, title=title)


@blp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return use_link(token, "reset", _("Choose a new password"), _("Your new password is set; log in with it."))


@blp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return use_link(token, "invite", _("Choose your password"), _("Your password is set; log in with it."))
