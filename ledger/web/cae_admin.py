"""Adding a CAE's members (its accountant or an admin) and accountants (an admin), from its page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ledger.errors import LedgerError
from ledger.payouts import service
from ledger.payouts.models import CONTRACT_TYPES
from ledger.people.auth import login_required
from ledger.people.models import Person

blp = Blueprint("cae_admin_pages", __name__)


class CaeMemberForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    employee_ref = StringField(_l("Employee reference"), validators=[DataRequired(), Length(max=64)])
    contract_type = SelectField(_l("Contract"), choices=lambda: [SelectChoice(c, c) for c in CONTRACT_TYPES])
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=120)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=120)])
    # No length or pattern here: add_cae_member holds the rule, as it does for the API.
    analytic_code = StringField(_l("Analytic code"), validators=[Optional()])


class AccountantForm(FlaskForm):
    # Its own id: the member form on the same page has an "email" field too, and a label must
    # name one input only.
    email = EmailField(_l("Email"), id="accountant-email", validators=[DataRequired(), Length(max=254)])


def refused(form) -> str:
    return " ".join(f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items() if name in form)


@blp.post("/caes/<code>/members")
@login_required
def add_member(me: Person, code: str):
    cae = service.get_cae(code)
    service.require_cae_access(me, cae)
    form = CaeMemberForm()
    if not form.validate_on_submit():
        flash(refused(form))
    else:
        try:
            service.add_cae_member(
                cae,
                form.email.data,
                form.employee_ref.data,
                form.contract_type.data,
                first_name=form.first_name.data or None,
                last_name=form.last_name.data or None,
                analytic_code=form.analytic_code.data or "",
            )
        except LedgerError as error:
            flash(" ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.fields.items()) or error.message)
        else:
            flash(_("%(email)s is now a member of %(cae)s.", email=form.email.data, cae=cae.name))
    return redirect(url_for("payout_pages.cae_page", code=code) + "#members")


@blp.post("/caes/<code>/accountants")
@login_required
def add_accountant(me: Person, code: str):
    if not me.is_admin:
        abort(403)
    cae = service.get_cae(code)
    form = AccountantForm()
    if not form.validate_on_submit():
        flash(refused(form))
    else:
        try:
            service.grant_accountant(cae, form.email.data)
        except LedgerError as error:
            flash(" ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.fields.items()) or error.message)
        else:
            flash(_("%(email)s is now an accountant of %(cae)s.", email=form.email.data, cae=cae.name))
    return redirect(url_for("payout_pages.cae_page", code=code) + "#members")
