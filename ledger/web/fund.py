"""The solidarity fund's page for its manager: what it holds, donations, and its rules' versions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ledger.errors import LedgerError
from ledger.formatting import money
from ledger.fund import service
from ledger.people.auth import login_required
from ledger.people.models import Person
from ledger.timeutil import today
from ledger.web.fields import DecimalNumberField, EurosField
from ledger.web.my_account import place_errors

blp = Blueprint("fund_pages", __name__)


class DonationForm(FlaskForm):
    amount = EurosField(_l("Amount (€)"), validators=[InputRequired()], minimum_cents=1)
    donor = StringField(_l("Donor"), validators=[DataRequired(), Length(max=160)])
    received_on = DateField(_l("Received on"), validators=[DataRequired()])


class FundRulesForm(FlaskForm):
    reason = TextAreaField(_l("Why this change"), validators=[DataRequired(), Length(min=3, max=2000)])
    topup_percent = DecimalNumberField(_l("Share of a shortfall the fund covers (%)"), validators=[InputRequired()])
    cap = EurosField(_l("Cap per person and round (€, empty for none)"), validators=[Optional()], minimum_cents=1)


def page(me: Person, donation_form=None, rules_form=None, status=200):
    return render_template(
        "fund/manage.html",
        summary=service.fund_summary(),
        history=service.fund_rules_history()[::-1],
        donation_form=donation_form or DonationForm(formdata=None, received_on=today()),
        rules_form=rules_form or FundRulesForm(formdata=None),
        money=money,
    ), status


@blp.get("/fund/manage")
@login_required
def manage(me: Person):
    service.require_fund_manager(me)
    return page(me)


@blp.post("/fund/donations")
@login_required
def donate(me: Person):
    service.require_fund_manager(me)
    form = DonationForm()
    if form.validate_on_submit():
        try:
            service.donate(
                amount_cents=form.amount.data, donor=form.donor.data, received_on=form.received_on.data, recorded_by=me
            )
        except LedgerError as error:
            place_errors(form, error, {"amount_cents": "amount", "date": "received_on"})
        else:
            flash(_("Donation recorded."))
            return redirect(url_for("fund_pages.manage"))
    return page(me, donation_form=form, status=422)


@blp.post("/fund/rules")
@login_required
def new_rules(me: Person):
    service.require_fund_manager(me)
    form = FundRulesForm()
    if form.validate_on_submit():
        version = service.new_fund_rules(
            me,
            reason=form.reason.data,
            topup_ratio=(form.topup_percent.data / 100).normalize(),
            per_person_cap_cents=form.cap.data,
        )
        flash(_("Version %(n)s of the fund's rules is recorded.", n=version.version))
        return redirect(url_for("fund_pages.manage"))
    return page(me, rules_form=form, status=422)
