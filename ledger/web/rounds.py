"""Pages for rules and rounds: history with what changed, the allocation preview explained, steward actions."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ledger.accounts.receipts import round_entries_of
from ledger.commons import service as commons_service
from ledger.contributions.models import Contribution
from ledger.errors import LedgerError, ValidationFailed
from ledger.extensions import db
from ledger.formatting import money
from ledger.governance.service import direct_change_allowed
from ledger.people.auth import current_person, login_required
from ledger.people.models import Person
from ledger.rounds import lifecycle, participation, service
from ledger.rounds.allocation.model import paid_out_cents, totals
from ledger.rounds.allocation.words import render
from ledger.rounds.models import ALLOCATION_METHODS, CADENCES, AllocationLine, Round
from ledger.rounds.rules import propose_rules, rules_changes, rules_history, rules_in_force
from ledger.rounds.summary import finalization_summary
from ledger.timeutil import today
from ledger.versions import version_state
from ledger.web.fields import DecimalNumberField, EurosField
from ledger.web.labels import METHOD_LABELS, ROUND_LABELS, ROUTE_LABELS
from ledger.web.validators import PlainText

blp = Blueprint("rounds_pages", __name__)


def parse_weights(text: str) -> dict[str, Decimal]:
    """ "care=1.5, maintenance=1.2" → {"care": Decimal("1.5"), ...}."""
    weights = {}
    for part in filter(None, (p.strip() for p in (text or "").replace("\n", ",").split(","))):
        code, sep, value = part.partition("=")
        try:
            weight = Decimal(value.strip())
        except Exception as exc:
            raise ValidationError(_("Write each weight as category=number, for example care=1.5.")) from exc
        if not sep or not code.strip() or not weight.is_finite() or not 0 <= weight <= 10:
            raise ValidationError(_("Write each weight as category=number between 0 and 10, for example care=1.5."))
        weights[code.strip()] = weight
    return weights


class RulesForm(FlaskForm):
    reason = TextAreaField(_l("Why this change"), validators=[DataRequired(), PlainText(required=True), Length(min=3, max=2000)])
    allocation_method = SelectField(
        _l("Allocation method"), choices=[SelectChoice(m, METHOD_LABELS[m]) for m in ALLOCATION_METHODS]
    )
    hourly_value = EurosField(_l("Hourly value (€)"), validators=[InputRequired()], maximum_cents=100_000)
    cap = EurosField(_l("Cap per person and round (€, empty for none)"), validators=[Optional()], minimum_cents=1)
    levy_percent = DecimalNumberField(_l("Solidarity levy (%)"), validators=[InputRequired()])
    category_weights = StringField(_l("Category weights"), validators=[PlainText(), Length(max=500)])
    min_vouches = IntegerField(_l("Vouches needed for work to count"), validators=[NumberRange(0, 50)])
    cadence = SelectField(_l("Round cadence"), choices=[SelectChoice(c, c) for c in CADENCES])
    declaration_days = IntegerField(_l("Days to declare after the period"), validators=[NumberRange(0, 60)])
    review_days = IntegerField(_l("Days of review"), validators=[NumberRange(0, 60)])
    effective_from = DateField(_l("In force from"), validators=[DataRequired()])

    def validate_category_weights(self, field):
        field.parsed = parse_weights(field.data)


class RoundForm(FlaskForm):
    period_start = DateField(_l("First day of the period"), validators=[DataRequired()])
    period_end = DateField(_l("Last day of the period"), validators=[DataRequired()])
    envelope = EurosField(_l("Envelope (€)"), validators=[InputRequired()])
    reason = TextAreaField(_l("Why a round shorter than a week (manual cadence only)"), validators=[Length(max=2000)])


class WhatIfForm(FlaskForm):
    allocation_method = SelectField(
        _l("Allocation method"), choices=[SelectChoice(m, METHOD_LABELS[m]) for m in ALLOCATION_METHODS]
    )
    hourly_value = EurosField(_l("Hourly value (€)"), validators=[InputRequired()], maximum_cents=100_000)
    cap = EurosField(_l("Cap per person and round (€, empty for none)"), validators=[Optional()], minimum_cents=1)
    levy_percent = DecimalNumberField(_l("Solidarity levy (%)"), validators=[InputRequired()])


class ActionForm(FlaskForm):
    pass


class AdvanceForm(FlaskForm):
    reason = TextAreaField(_l("Why move before the window ends"), validators=[Optional(), Length(max=lifecycle.REASON_MAX)])


# The button names the state the round moves to.
NEXT_ACTION = {"open": _l("Open the review"), "review": _l("Compute the allocation"), "allocated": _l("Finalize…")}


class RequestForm(FlaskForm):
    amount = EurosField(_l("The amount you ask for (€)"), validators=[InputRequired()])


# The service names fields as the API does; the pages' fields that hold them.
FORM_FIELDS = {
    "envelope_cents": "envelope",
    "hourly_value_cents": "hourly_value",
    "cap_cents": "cap",
    "levy_rate": "levy_percent",
}


def show_errors(form, error: LedgerError) -> None:
    """A service's refusal beside the fields it names ("category_weights.care" under category_weights)."""
    for name, messages in (error.fields or {"": [error.message]}).items():
        target = getattr(form, FORM_FIELDS.get(name, name.split(".")[0]), None) if name else None
        (target.errors if target is not None else form.form_errors).extend(messages)


def is_steward(commons) -> bool:
    return commons_service.can_steward(commons, current_person())


def prefill(form, version) -> None:
    form.allocation_method.data = version.allocation_method
    form.hourly_value.data, form.cap.data = version.hourly_value_cents, version.cap_cents
    form.levy_percent.data = Decimal(version.levy_rate) * 100
    if hasattr(form, "category_weights"):
        form.category_weights.data = ", ".join(f"{k}={v}" for k, v in (version.category_weights or {}).items())
        form.min_vouches.data, form.cadence.data = version.min_vouches, version.cadence
        form.declaration_days.data, form.review_days.data = version.declaration_days, version.review_days
        form.effective_from.data = today()


@blp.route("/commons/<slug>/rules", methods=["GET", "POST"])
def rules(slug):
    """Every version, newest first, with what it changed; stewards propose the next one here."""
    commons = commons_service.get_commons(slug)
    form = RulesForm()
    # Under a `consent` or `vote` procedure nobody records a version directly: proposals decide.
    steward = is_steward(commons) and direct_change_allowed(commons)
    if form.is_submitted() and not steward:
        abort(403)
    if steward and form.validate_on_submit():
        try:
            version = propose_rules(
                commons,
                current_person(),
                form.reason.data,
                form.effective_from.data,
                {
                    "allocation_method": form.allocation_method.data,
                    "hourly_value_cents": form.hourly_value.data,
                    "cap_cents": form.cap.data,
                    "levy_rate": (form.levy_percent.data / 100).normalize(),
                    "category_weights": form.category_weights.parsed,
                    "min_vouches": form.min_vouches.data,
                    "cadence": form.cadence.data,
                    "declaration_days": form.declaration_days.data,
                    "review_days": form.review_days.data,
                },
            )
        except LedgerError as error:
            show_errors(form, error)
        else:
            flash(_("Version %(n)s of the rules is recorded.", n=version.version))
            return redirect(url_for("rounds_pages.rules", slug=slug))
    elif not form.is_submitted():
        prefill(form, rules_in_force(commons.id))
    history = rules_history(commons.id)
    authors = {
        p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_([v.author_id for v in history])))
    }
    in_force_now = rules_in_force(commons.id)
    versions = [
        (v, rules_changes(history[i - 1] if i else None, v), version_state(v, in_force_now)) for i, v in enumerate(history)
    ][::-1]
    return render_template(
        "rounds/rules.html", commons=commons, versions=versions, authors=authors, form=form, steward=steward, money=money
    )


@blp.route("/commons/<slug>/rounds", methods=["GET", "POST"])
def commons_rounds(slug):
    commons = commons_service.get_commons(slug)
    form = RoundForm()
    steward = is_steward(commons)
    if form.is_submitted() and not steward:
        abort(403)
    if steward and form.validate_on_submit():
        try:
            round_ = service.create_round(
                commons,
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                envelope_cents=form.envelope.data,
                created_by=current_person(),
                reason=form.reason.data,
            )
        except LedgerError as error:
            show_errors(form, error)
        else:
            flash(_("Round opened."))
            return redirect(url_for("rounds_pages.round_page", round_id=round_.id))
    rounds = db.session.scalars(select(Round).where(Round.commons_id == commons.id).order_by(Round.period_start.desc())).all()
    return render_template(
        "rounds/list.html",
        commons=commons,
        rounds=rounds,
        form=form,
        steward=steward,
        money=money,
        free_cents=service.free_treasury_cents(commons) if steward else None,
    )


def page(round_, *, what_if_form=None, simulated=None, status=200, request_form=None, points_errors=None):
    commons = round_.commons
    me = current_person()
    member = commons_service.membership(commons, me) if me else None
    can_see = me is not None and (member is not None or me.is_admin)
    stored = []
    if can_see and round_.state not in ("open", "review"):
        stored = db.session.scalars(
            select(AllocationLine).where(AllocationLine.round_id == round_.id).order_by(AllocationLine.person_id)
        ).all()
    ids = {line.person_id for line in [*stored, *(simulated.lines if simulated else [])]}
    names = {p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_(ids)))}

    def words(line, steps) -> str:
        # Your own line speaks to you; anyone else's speaks of them, by their public name.
        return render(steps, None if me is not None and line.person_id == me.id else names.get(line.person_id, ""))

    lines = [(line, words(line, line.explanation)) for line in stored]
    simulated_lines = [(line, words(line, line.steps)) for line in simulated.lines] if simulated else []
    steward = is_steward(commons)
    if what_if_form is None and steward and service.can_what_if(round_):
        what_if_form = WhatIfForm(formdata=None)
        prefill(what_if_form, round_.rule_version)
    return render_template(
        "rounds/round.html",
        round=round_,
        commons=commons,
        lines=lines,
        names=names,
        me=me,
        can_see=can_see,
        steward=steward,
        can_advance=steward and lifecycle.can_advance(round_),
        can_recompute=steward and service.can_recompute(round_),
        action_form=ActionForm(),
        what_if_form=what_if_form,
        simulated=simulated,
        simulated_lines=simulated_lines,
        line_totals=totals(stored),
        simulated_totals=totals(simulated.lines) if simulated else None,
        paid_out=paid_out_cents,
        money=money,
        carried=service.carried_over_from(round_) if can_see else [],
        advance_form=AdvanceForm(formdata=None),
        next_action=NEXT_ACTION.get(round_.state),
        window_end=lifecycle.window_end(round_),
        early=lifecycle.is_early(round_),
        history=history_view(round_) if can_see else [],
        my_entries=round_entries_of(round_.id, me.id) if me and round_.state in ("finalized", "paid") else [],
        **participation_view(round_, me, member, request_form=request_form, points_errors=points_errors),
    ), status


def history_view(round_: Round) -> list[tuple]:
    """The round's steps with the name of who took each (None: the scheduler)."""
    events = lifecycle.history(round_)
    ids = {e.actor_id for e in events if e.actor_id}
    names = {p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_(ids)))}
    return [(event, names.get(event.actor_id)) for event in events]


def participation_view(round_: Round, me: Person | None, member, *, request_form=None, points_errors=None) -> dict:
    """What the `self` and `peer` methods ask of this person on this round, if anything."""
    method = round_.rule_version.allocation_method
    view: dict = {"requests": [], "request_form": None, "point_choices": [], "points_errors": points_errors or {}}
    if member is None:
        return view
    if method == "self":
        rows = participation.self_requests(round_)
        people = {
            p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_([r.person_id for r in rows])))
        }
        view["requests"] = [(people[r.person_id], r.amount_cents) for r in rows]
        if round_.state in ("open", "review"):
            if request_form is None:
                mine = next((r.amount_cents for r in rows if r.person_id == me.id), None)
                request_form = RequestForm(formdata=None, amount=mine)
            view["request_form"] = request_form
    if method in ("peer", "hybrid") and round_.state == "review" and member.can_review:
        given = participation.points_given(round_, me)
        others = db.session.scalars(
            select(Contribution)
            .where(Contribution.round_id == round_.id, Contribution.status == "declared", Contribution.person_id != me.id)
            .order_by(Contribution.date, Contribution.id)
        ).all()
        authors = {
            p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_({c.person_id for c in others})))
        }
        view["point_choices"] = [(c, authors[c.person_id], given.get(c.id, 0)) for c in others]
        view["points_total"] = participation.PEER_POINTS
    return view


@blp.get("/rounds/<int:round_id>")
def round_page(round_id):
    return page(service.get_round(round_id))


@blp.post("/rounds/<int:round_id>/request")
@login_required
def state_request(me, round_id):
    """The `self` method: what I ask for in this round."""
    round_ = service.get_round(round_id)
    form = RequestForm()
    if not form.validate_on_submit():
        return page(round_, request_form=form, status=422)
    participation.state_request(round_, me, form.amount.data)
    flash(_("Your request is recorded; every member of the commons can see it."))
    return redirect(url_for("rounds_pages.round_page", round_id=round_id) + "#participation")


@blp.post("/rounds/<int:round_id>/points")
@login_required
def give_points(me, round_id):
    """The `peer` method: my points over others' contributions, from a plain form (no script)."""
    round_ = service.get_round(round_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    points, errors = {}, {}
    for key, value in request.form.items():
        if not key.startswith("points-"):
            continue
        value = value.strip()
        if not value or value == "0":
            continue
        if not value.isdigit() or not key.removeprefix("points-").isdigit():
            errors[key] = [_("Give a whole number of points.")]
            continue
        points[int(key.removeprefix("points-"))] = int(value)
    try:
        if errors:
            raise ValidationFailed(_("Some points cannot be given."), fields=errors)
        participation.give_points(round_, me, points)
    except ValidationFailed as error:
        fields = {(k.replace("points.", "points-") if k.startswith("points.") else k): v for k, v in error.fields.items()}
        return page(round_, points_errors=fields or {"points": [error.message]}, status=422)
    flash(_("Your points are recorded."))
    return redirect(url_for("rounds_pages.round_page", round_id=round_id) + "#participation")


@blp.post("/rounds/<int:round_id>/advance")
@login_required
def advance(me, round_id):
    """Open the review or compute the allocation; finalizing goes through its confirmation page."""
    round_ = service.get_round(round_id)
    commons_service.require_role(round_.commons, me, "steward")
    if round_.state == "allocated":
        return redirect(url_for("rounds_pages.confirm_finalize", round_id=round_id))
    form = AdvanceForm()
    if form.validate_on_submit():
        try:
            lifecycle.advance(round_, me, form.reason.data)
        except ValidationFailed as error:
            flash(error.message, "error")
        else:
            flash(_("The round is now %(state)s.", state=ROUND_LABELS[round_.state]))
    return redirect(url_for("rounds_pages.round_page", round_id=round_id))


@blp.route("/rounds/<int:round_id>/finalize", methods=["GET", "POST"])
@login_required
def confirm_finalize(me, round_id):
    """What finalizing will write, stated in full; the entries are written only from this page."""
    round_ = service.get_round(round_id)
    commons_service.require_role(round_.commons, me, "steward")
    if round_.state != "allocated":
        flash(_("Only a round whose allocation is computed can be finalized."), "error")
        return redirect(url_for("rounds_pages.round_page", round_id=round_id))
    form = ActionForm()
    if form.validate_on_submit():
        lifecycle.advance(round_, me)
        flash(_("The round is finalized: its entries are written to the ledger."))
        return redirect(url_for("rounds_pages.round_page", round_id=round_id))
    return render_template(
        "rounds/finalize.html",
        round=round_,
        commons=round_.commons,
        summary=finalization_summary(round_),
        form=form,
        money=money,
        route_names=ROUTE_LABELS,
    )


@blp.post("/rounds/<int:round_id>/recompute")
@login_required
def recompute(me, round_id):
    round_ = service.get_round(round_id)
    commons_service.require_role(round_.commons, me, "steward")
    if ActionForm().validate_on_submit():
        service.recompute(round_)
        flash(_("Allocation recomputed under rules version %(n)s.", n=round_.rule_version.version))
    return redirect(url_for("rounds_pages.round_page", round_id=round_id))


@blp.post("/rounds/<int:round_id>/what-if")
@login_required
def what_if(me, round_id):
    round_ = service.get_round(round_id)
    commons_service.require_role(round_.commons, me, "steward")
    form = WhatIfForm()
    if not form.validate_on_submit():
        return page(round_, what_if_form=form, status=422)
    allocation, _outcome = service.what_if(
        round_,
        {
            "allocation_method": form.allocation_method.data,
            "hourly_value_cents": form.hourly_value.data,
            "cap_cents": form.cap.data,
            "levy_rate": (form.levy_percent.data / 100).normalize(),
        },
    )
    return page(round_, what_if_form=form, simulated=allocation)
