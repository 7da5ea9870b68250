"""A person's own account page: API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from ledger.extensions import db
from ledger.people.auth import login_required
from ledger.people.models import ApiToken
from ledger.people.service import create_token, revoke_token
from ledger.web.validators import PlainText

blp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    label = StringField(_l("Label"), validators=[PlainText(), Length(max=80)])


class RevokeForm(FlaskForm):
    pass


@blp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens(me):
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = create_token(me, form.label.data or "")
    rows = db.session.scalars(select(ApiToken).where(ApiToken.person_id == me.id).order_by(ApiToken.id.desc())).all()
    return render_template("account/tokens.html", form=form, tokens=rows, new_token=new_token, revoke_form=RevokeForm())


@blp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(me, token_id: int):
    if RevokeForm().validate_on_submit() and revoke_token(me, token_id):
        flash(_("Token revoked."))
    return redirect(url_for("account.tokens"))
