"""Setting up and running a commons in pages: create it (admins), invite members, change roles,
add categories, record income, and export its FEC. Every rule is the domain's; pages only render."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ledger.commons import invitations
from ledger.commons import service as commons_service
from ledger.commons.models import INCOME_SOURCES, ROLES, Income, Membership
from ledger.contributions.categories import add_category, categories_of, label_of
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.legal import commons_identity
from ledger.payouts.exports import fec
from ledger.people.auth import login_required
from ledger.people.models import Person
from ledger.timeutil import today
from ledger.web.downloads import check_command, download
from ledger.web.fields import EurosField
from ledger.web.my_account import place_errors

blp = Blueprint("manage_pages", __name__)

ROLE_LABELS = {"contributor": _l("contributor"), "member": _l("member"), "steward": _l("steward")}
SOURCE_LABELS = {
    "grant": _l("grant"),
    "sale": _l("sale"),
    "donation": _l("donation"),
    "membership_fee": _l("membership fee"),
    "public_contract": _l("public contract"),
    "subscription": _l("subscription"),
}


def role_choices():
    return [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]


class CommonsForm(FlaskForm):
    slug = StringField(
        _l("Short name in addresses (lowercase letters, digits, dashes)"), validators=[DataRequired(), Length(max=64)]
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    started_on = DateField(
        _l("Started on (nothing of the commons may be dated earlier; default: the first of this month)"),
        validators=[Optional()],
    )


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=role_choices)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=120)])
    invisible = BooleanField(_l("Invisible work (care, maintenance, welcoming)"))


class IncomeForm(FlaskForm):
    amount = EurosField(_l("Amount (€)"), validators=[InputRequired()], minimum_cents=1)
    source = SelectField(_l("Source"), choices=lambda: [SelectChoice(s, SOURCE_LABELS[s]) for s in INCOME_SOURCES])
    funder = StringField(_l("Funder"), validators=[DataRequired(), Length(max=160)])
    earmark = StringField(_l("Earmark (what it is for, if restricted)"), validators=[Optional(), Length(max=200)])
    received_on = DateField(_l("Received on"), validators=[DataRequired()])


class FecForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download

    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To"), validators=[DataRequired()])
    form = SelectField(
        _l("What to download"),
        choices=[
            SelectChoice("zip", _l("The file and its signature (zip)")),
            SelectChoice("file", _l("The file only")),
            SelectChoice("sig", _l("Its signature only (.sig)")),
        ],
        validators=[Optional()],
    )


@blp.route("/commons/new", methods=["GET", "POST"])
@login_required
def new_commons(me: Person):
    if not commons_service.may_create_commons(me):
        abort(403)
    form = CommonsForm()
    if form.validate_on_submit():
        try:
            commons = commons_service.create_commons(
                form.slug.data.strip(), form.name.data, form.description.data or "", me, started_on=form.started_on.data
            )
        except LedgerError as error:
            place_errors(form, error)
        else:
            flash(_("The commons %(name)s is created; you are its steward. Invite its members.", name=commons.name))
            return redirect(url_for("manage_pages.manage", slug=commons.slug))
    return render_template("manage/new_commons.html", form=form)


def manage_page(commons, *, invite_form=None, category_form=None, income_form=None, status=200):
    members = db.session.execute(
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.commons_id == commons.id)
        .order_by(Person.display_name)
    ).all()
    incomes = db.session.scalars(
        select(Income).where(Income.commons_id == commons.id).order_by(Income.received_on.desc(), Income.id.desc()).limit(20)
    ).all()
    income_form = income_form or IncomeForm(formdata=None, received_on=today())
    return render_template(
        "manage/commons.html",
        commons=commons,
        members=[(m, p, RoleForm(formdata=None, prefix=f"m{p.id}", role=m.role)) for m, p in members],
        invite_form=invite_form or InviteForm(formdata=None),
        category_form=category_form or CategoryForm(formdata=None),
        income_form=income_form,
        categories=[(c, label_of(c)) for c in categories_of(commons.id, active_only=False)],
        incomes=incomes,
        role_labels=ROLE_LABELS,
        source_labels=SOURCE_LABELS,
    ), status


def stewarded(me: Person, slug: str):
    commons = commons_service.get_commons(slug)
    commons_service.require_role(commons, me, "steward")
    return commons


@blp.get("/commons/<slug>/manage")
@login_required
def manage(me: Person, slug: str):
    return manage_page(stewarded(me, slug))


@blp.post("/commons/<slug>/invite")
@login_required
def invite(me: Person, slug: str):
    commons = stewarded(me, slug)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitations.invite(commons, me, form.email.data, form.name.data, form.role.data, str(ROLE_LABELS[form.role.data]))
        except LedgerError as error:
            place_errors(form, error)
        else:
            flash(
                _(
                    "%(email)s is invited as %(role)s; an email is on its way.",
                    email=form.email.data,
                    role=ROLE_LABELS[form.role.data],
                )
            )
            return redirect(url_for("manage_pages.manage", slug=slug) + "#members")
    return manage_page(commons, invite_form=form, status=422)


@blp.post("/commons/<slug>/members/<int:person_id>/role")
@login_required
def change_role(me: Person, slug: str, person_id: int):
    commons = stewarded(me, slug)
    form = RoleForm(prefix=f"m{person_id}")
    if form.validate_on_submit():
        try:
            invitations.change_role(commons, me, person_id, form.role.data)
        except LedgerError as error:
            flash(error.message)
        else:
            flash(_("Role changed."))
    return redirect(url_for("manage_pages.manage", slug=slug) + "#members")


@blp.post("/commons/<slug>/categories")
@login_required
def new_category(me: Person, slug: str):
    commons = stewarded(me, slug)
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            add_category(commons, code=form.code.data, label=form.label.data, invisible=form.invisible.data)
        except LedgerError as error:
            place_errors(form, error)
        else:
            flash(_("Category added."))
            return redirect(url_for("manage_pages.manage", slug=slug) + "#categories")
    return manage_page(commons, category_form=form, status=422)


@blp.post("/commons/<slug>/income")
@login_required
def record_income(me: Person, slug: str):
    commons = stewarded(me, slug)
    form = IncomeForm()
    if form.validate_on_submit():
        try:
            commons_service.record_income(
                commons,
                amount_cents=form.amount.data,
                source=form.source.data,
                funder=form.funder.data.strip(),
                received_on=form.received_on.data,
                earmark=(form.earmark.data or "").strip() or None,
                recorded_by=me,
            )
        except LedgerError as error:
            place_errors(form, error, {"amount_cents": "amount", "date": "received_on"})
        else:
            flash(_("Income recorded."))
            return redirect(url_for("manage_pages.manage", slug=slug) + "#income")
    return manage_page(commons, income_form=form, status=422)


@blp.get("/commons/<slug>/fec")
@login_required
def fec_page(me: Person, slug: str):
    """The commons' FEC: a form, then the signed file (or its signature, or both in a zip)."""
    commons = commons_service.get_commons(slug)
    fec.require_may_export(me, commons)
    form = FecForm(request.args)
    if request.args and form.validate():
        identity = commons_identity(commons)
        try:
            if form.end.data < form.start.data:
                form.end.errors.append(_("Choose an end on or after the start."))
            elif not fec.rows(identity, form.start.data, form.end.data):
                flash(_("No entry between these dates: there is nothing to download."))
            else:
                files = fec.export(identity, form.start.data, form.end.data, me)
                return download(files.fec, form.form.data or "file")
        except LedgerError as error:  # e.g. no SIREN yet: the FEC is named after it
            flash(error.message)
    return render_template("manage/fec.html", commons=commons, form=form, check=check_command("SIRENFECAAAAMMJJ.txt"))
