"""Payout pages: my routes and invoice summary; a CAE's accountant pages; a commons' payouts.

Pages only parse, call the payouts services and render; refusals (403, 404) become error pages.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, Regexp

from ledger.commons.models import Membership
from ledger.commons.service import get_commons, require_role
from ledger.errors import ValidationFailed
from ledger.extensions import db
from ledger.formatting import money
from ledger.payouts import batches as batch_service
from ledger.payouts import reconciliation, service
from ledger.payouts.exports import salary_lines
from ledger.payouts.invoices import invoice_summary
from ledger.payouts.models import PayoutBatch
from ledger.people.auth import login_required
from ledger.people.models import Person
from ledger.rounds.models import Round
from ledger.web.auth import safe_next
from ledger.web.cae_admin import AccountantForm, CaeMemberForm
from ledger.web.downloads import check_command, download
from ledger.web.labels import ROUTE_LABELS

blp = Blueprint("payout_pages", __name__)


class RouteForm(FlaskForm):
    route = SelectField(
        _l("Payout route"), choices=[SelectChoice(k, v) for k, v in ROUTE_LABELS.items()], validators=[DataRequired()]
    )
    cae = SelectField(_l("CAE"), choices=[], validate_choice=False, validators=[Optional()])


class PaidForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[Optional()])
    bank_reference = StringField(_l("Bank reference"), validators=[Optional()])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download: nothing is changed that a forged link could abuse beyond an export record

    period = StringField(
        _l("Payroll month (YYYY-MM)"), validators=[DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Use YYYY-MM."))]
    )
    form = SelectField(
        _l("What to download"),
        choices=[
            SelectChoice("zip", _l("The file and its signature (zip)")),
            SelectChoice("file", _l("The file only")),
            SelectChoice("sig", _l("Its signature only (.sig)")),
        ],
        validators=[Optional()],
    )
    # As the API's `analytic`: SPEC 4.3's columns alone unless asked.
    analytic = BooleanField(_l("Add each member's analytic code and contribution rate after the usual columns"))


def _cae_choices(person_id: int) -> list[tuple[str, str]]:
    from ledger.payouts.models import Cae, CaeMembership

    rows = db.session.execute(
        select(Cae.code, Cae.name, CaeMembership.contract_type)
        .join(CaeMembership, CaeMembership.cae_id == Cae.id)
        .where(CaeMembership.person_id == person_id)
        .order_by(Cae.code)
    ).all()
    return [SelectChoice("", _("— none —"))] + [SelectChoice(code, f"{name} ({contract})") for code, name, contract in rows]


@blp.route("/account/payouts")
@login_required
def my_routes(me: Person):
    """My payout route in each commons, and what I may invoice."""
    memberships = db.session.scalars(select(Membership).where(Membership.person_id == me.id).order_by(Membership.id)).all()
    choices = _cae_choices(me.id)
    rows = []
    for member in memberships:
        view = service.route_view(member)
        form = RouteForm(prefix=f"m{member.id}", formdata=None, route=member.payout_route, cae=view.cae.code if view.cae else "")
        form.cae.choices = choices
        rows.append((member, view, form))
    return render_template(
        "payouts/my_routes.html",
        rows=rows,
        summary=invoice_summary(me),
        euros=money,
        labels=ROUTE_LABELS,
        caes=service.accountant_caes(me),
    )


@blp.post("/account/payouts/<slug>")
@login_required
def set_my_route(me: Person, slug: str):
    commons = get_commons(slug)
    member = db.session.scalar(select(Membership).where(Membership.commons_id == commons.id, Membership.person_id == me.id))
    form = RouteForm(prefix=f"m{member.id}" if member else "m0")
    form.cae.choices = _cae_choices(me.id)
    if form.validate_on_submit():
        try:
            choice = service.set_route(commons, me.id, form.route.data, form.cae.data or None, me)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                getattr(form, name, form.route).errors = list(messages)
            return render_template("payouts/route_form.html", form=form, commons=commons), 422
        flash(
            _(
                "Payout route for %(name)s saved: %(route)s.",
                name=commons.name,
                route=str(ROUTE_LABELS[choice.membership.payout_route]),
            )
        )
        for warning in choice.warnings:
            flash(warning)
        return redirect(url_for("payout_pages.my_routes"))
    return render_template("payouts/route_form.html", form=form, commons=commons), 422


@blp.route("/caes/<code>")
@login_required
def cae_page(me: Person, code: str):
    """The accountant's page: members, batches to pay, and the salary-lines export."""
    cae = service.get_cae(code)
    service.require_cae_access(me, cae)
    batches = db.session.scalars(
        select(PayoutBatch).where(PayoutBatch.route == "cae", PayoutBatch.cae_id == cae.id).order_by(PayoutBatch.id.desc())
    ).all()
    members = [(m, service.employee_ref(m) if service.is_accountant(me, cae) else None) for m in service.cae_members(cae)]
    return render_template(
        "payouts/cae.html",
        cae=cae,
        members=members,
        batches=batches,
        euros=money,
        total=batch_service.batch_total,
        period_form=PeriodForm(request.args),
        paid_form=PaidForm(),
        rounds={b.round_id: db.session.get(Round, b.round_id) for b in batches},
        can_export=service.is_accountant(me, cae),
        check_command=check_command,
        member_form=CaeMemberForm(formdata=None),
        accountant_form=AccountantForm(formdata=None) if me.is_admin else None,
    )


@blp.route("/caes/<code>/salary-lines")
@login_required
def cae_salary_lines(me: Person, code: str):
    """Download the month's salary lines (the same signed bytes as the API)."""
    cae = service.get_cae(code)
    service.require_cae_access(me, cae, admin_ok=False)
    form = PeriodForm(request.args)
    if not form.validate():
        raise ValidationFailed(_("Use a month as YYYY-MM."), fields={"period": form.period.errors})
    if not salary_lines.has_lines(cae, form.period.data):
        flash(_("No salary line for %(period)s: there is nothing to download for this month.", period=form.period.data))
        return redirect(url_for("payout_pages.cae_page", code=code))
    return download(salary_lines.export(cae, form.period.data, me, form.analytic.data), form.form.data or "file")


@blp.route("/caes/<code>/reconciliation")
@login_required
def cae_reconciliation(me: Person, code: str):
    cae = service.get_cae(code)
    service.require_cae_access(me, cae)
    report = reconciliation.for_cae(cae, _late_days())
    return render_template("payouts/reconciliation.html", title=cae.name, report=report, euros=money)


@blp.route("/commons/<slug>/payouts")
@login_required
def commons_payouts(me: Person, slug: str):
    """A steward's view of the commons' batches and their reconciliation."""
    commons = get_commons(slug)
    require_role(commons, me, "steward")
    report = reconciliation.for_commons(commons, _late_days())
    return render_template(
        "payouts/reconciliation.html",
        title=commons.name,
        report=report,
        euros=money,
        paid_form=PaidForm(),
        payable_invoice=True,
    )


@blp.post("/payout-batches/<int:batch_id>/paid")
@login_required
def mark_paid(me: Person, batch_id: int):
    batch = batch_service.get_batch(batch_id)
    form = PaidForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("Invalid payment date."), fields={"paid_on": form.paid_on.errors or ["invalid"]})
    try:
        batch_service.mark_paid(batch, me, form.paid_on.data, form.bank_reference.data)
    except ValidationFailed as error:
        flash(error.message, "error")
        return redirect(safe_next(request.form.get("next")))
    flash(_("Batch %(id)s marked paid; its ledger transaction is written.", id=batch.id))
    return redirect(safe_next(request.form.get("next")))


def _late_days() -> int:
    value = request.args.get("late_after_days", type=int)
    return value if value is not None and 0 <= value <= 3650 else reconciliation.DEFAULT_LATE_AFTER_DAYS
