"""Pages: declare a contribution, my contributions, edit/withdraw, one contribution's review, a round's review.

Views parse a form, call the services, and render; a refused submission re-renders the form
with each error beside its field (status 422, so the request stores nothing).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from ledger.commons.models import Commons
from ledger.commons.service import get_commons
from ledger.contributions import peer, rules_text, service
from ledger.contributions.categories import categories_of, label_of
from ledger.contributions.forms import HINTS, ActionForm, AnswerForm, DeclareForm, EditForm, ObjectionForm, ResolveForm, VoteForm
from ledger.contributions.models import Category, Contribution, Objection
from ledger.contributions.validation import Draft, parse_hours
from ledger.errors import Forbidden, ValidationFailed
from ledger.extensions import db
from ledger.formatting import number_input
from ledger.people.auth import login_required
from ledger.people.models import Person
from ledger.rounds.models import Round
from ledger.timeutil import today

blp = Blueprint("contribution_pages", __name__)

STATUS_LABELS = {
    "declared": _l("declared"),
    "under_objection": _l("under objection"),
    "carried_over": _l("carried over"),
    "counted": _l("counted"),
    "paid": _l("paid"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
}
OBJECTION_LABELS = {"open": _l("open"), "withdrawn": _l("withdrawn"), "upheld": _l("upheld"), "dismissed": _l("dismissed")}


@blp.context_processor
def labels():
    return {"status_labels": STATUS_LABELS, "objection_labels": OBJECTION_LABELS, "status_of": service.status_of, "hints": HINTS}


def category_labels(commons_ids) -> dict[tuple[int, str], str]:
    rows = db.session.scalars(select(Category).where(Category.commons_id.in_(set(commons_ids)))) if commons_ids else []
    return {(c.commons_id, c.code): label_of(c) for c in rows}


def apply_errors(form, error: ValidationFailed, rename: dict[str, str] | None = None) -> None:
    """Put the service's field errors beside the form's fields; others go to the summary's top."""
    for name, messages in error.fields.items():
        name = (rename or {}).get(name, name)
        if name in form:
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            flash(" ".join(messages))


def _parse_hours_into(form, field_name: str):
    """Read a hours field, putting a parse error beside it; None when unreadable."""
    try:
        return parse_hours(form[field_name].data)
    except ValueError as exc:
        form[field_name].errors = [*form[field_name].errors, str(exc)]
        return None


def _draft(form) -> Draft | None:
    hours = _parse_hours_into(form, "hours")
    if form.errors or hours is None:
        return None
    return Draft(
        on=form.date.data,
        hours=hours,
        category=form.category.data or "",
        description=(form.description.data or "").strip(),
        evidence_url=(form.evidence_url.data or "").strip() or None,
    )


def _tell_late_and_care(saved: service.Saved) -> None:
    """Say where a late declaration went, and any kind warning about the week's hours."""
    round_ = saved.contribution.round
    if saved.late and round_ is not None:
        flash(
            _(
                "Its period was already closed, so it went to the current open round (%(start)s – %(end)s).",
                start=round_.period_start.isoformat(),
                end=round_.period_end.isoformat(),
            )
        )
    for warning in saved.warnings:
        flash(warning)


@blp.route("/contributions/new", methods=["GET", "POST"])
@login_required
def new(me):
    memberships = service.memberships_of(me)
    if not memberships:
        return render_template("contributions/new.html", memberships=[], form=None)
    chosen_slug = request.values.get("commons") or memberships[0].commons.slug
    chosen = next((m.commons for m in memberships if m.commons.slug == chosen_slug), memberships[0].commons)
    form = DeclareForm()
    categories = categories_of(chosen.id)
    form.category.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(c.code, label_of(c)) for c in categories]
    status = 200
    if request.method == "GET":
        form.commons.data, form.nonce.data, form.date.data = chosen.slug, secrets.token_urlsafe(18), today()
    elif form.validate_on_submit():
        draft = _draft(form)
        if draft is not None:
            nonce = (form.nonce.data or "")[:60]
            try:
                saved = service.declare(me, chosen, draft, idempotency_key=f"form:{nonce}" if nonce else None)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                flash(
                    _("Your contribution was recorded. Thank you!")
                    if not saved.replayed
                    else _("This contribution was already recorded; it was not saved twice.")
                )
                _tell_late_and_care(saved)
                return redirect(url_for("contribution_pages.mine", highlight=saved.contribution.id))
        status = 422
    else:
        status = 422
    rules = service.rules_for(chosen.id)
    return render_template(
        "contributions/new.html",
        memberships=memberships,
        chosen=chosen,
        form=form,
        rules_lines=rules_text.summary(rules, categories),
        legitimacy=rules_text.legitimacy(),
    ), status


@blp.get("/contributions")
@login_required
def mine(me):
    rows = service.list_contributions(me, service.Filters(limit=500))
    memberships = service.memberships_of(me)
    return render_template(
        "contributions/mine.html",
        rows=rows,
        memberships=memberships,
        labels=category_labels([c.commons_id for c in rows]),
        highlight=request.args.get("highlight", type=int),
        action_form=ActionForm(),
        can_edit={c.id for c in rows if service.can_edit(c, me)},
    )


def _own(contribution_id: int, me) -> Contribution:
    """The contribution ``me`` may still change, else the service's refusal (403 or 409)."""
    contribution = service.get_contribution(contribution_id)
    refusal = service.edit_refusal(contribution, me)
    if refusal is not None:
        raise refusal
    return contribution


@blp.route("/contributions/<int:contribution_id>/edit", methods=["GET", "POST"])
@login_required
def edit(me, contribution_id: int):
    contribution = _own(contribution_id, me)
    form = EditForm(obj=None if request.method == "POST" else contribution)
    if request.method == "GET":
        form.hours.data = number_input(contribution.hours)
    choices = [SelectChoice(c.code, label_of(c)) for c in categories_of(contribution.commons_id)]
    if contribution.category not in {choice.value for choice in choices}:
        choices.append(SelectChoice(contribution.category))
    form.category.choices = choices
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit() and (draft := _draft(form)) is not None:
            try:
                saved = service.update(
                    contribution,
                    me,
                    {
                        "on": draft.on,
                        "hours": draft.hours,
                        "category": draft.category,
                        "description": draft.description,
                        "evidence_url": draft.evidence_url,
                    },
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                flash(_("Your changes were saved."))
                _tell_late_and_care(saved)
                return redirect(url_for("contribution_pages.mine", highlight=contribution.id))
    return render_template(
        "contributions/edit.html",
        contribution=contribution,
        form=form,
        label=category_labels([contribution.commons_id]).get((contribution.commons_id, contribution.category)),
    ), status


@blp.route("/contributions/<int:contribution_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(me, contribution_id: int):
    contribution = _own(contribution_id, me)
    form = ActionForm()
    if form.validate_on_submit():
        service.withdraw(contribution, me)
        flash(_("Your contribution was withdrawn. It stays in the history, marked withdrawn."))
        return redirect(url_for("contribution_pages.mine"))
    return render_template(
        "contributions/withdraw.html",
        contribution=contribution,
        form=form,
        label=category_labels([contribution.commons_id]).get((contribution.commons_id, contribution.category)),
    )


# --- Review of one contribution ------------------------------------------------------------


def _visible(contribution_id: int, me) -> Contribution:
    contribution = service.get_contribution(contribution_id)
    if not service.can_see(me, contribution):
        raise Forbidden(_("Only people of this commons can see this contribution."))
    return contribution


def render_detail(contribution: Contribution, me, *, bound: dict | None = None, status: int = 200):
    """The contribution, its vouches and objections, and the forms this person may use."""
    bound = bound or {}
    rules = service.rules_for(contribution)
    objections = sorted(contribution.objections, key=lambda o: o.id)
    forms = {}
    for objection in objections:
        prefix = f"o{objection.id}"
        forms[objection.id] = {
            "answer": bound.get(("answer", objection.id)) or AnswerForm(prefix=prefix + "a", formdata=None),
            "vote": bound.get(("vote", objection.id)) or VoteForm(prefix=prefix + "v", formdata=None),
            "resolve": bound.get(("resolve", objection.id)) or ResolveForm(prefix=prefix + "r", formdata=None),
        }
    people_ids = {o.objector_id for o in objections} | {v.person_id for v in contribution.vouches}
    names = (
        {
            p.id: (p.display_name if p.id == me.id else p.public_name)
            for p in db.session.scalars(select(Person).where(Person.id.in_(people_ids)))
        }
        if people_ids
        else {}
    )
    return render_template(
        "contributions/detail.html",
        contribution=contribution,
        objections=objections,
        forms=forms,
        rules=rules,
        is_author=contribution.person_id == me.id,
        can_review=peer.reviewer_rights(contribution, me),
        can_mediate=peer.can_mediate(contribution, me),
        vouched=any(v.person_id == me.id for v in contribution.vouches),
        tallies={o.id: peer.tally(o) for o in objections},
        names=names,
        my_votes={o.id: next((v.keep for v in o.votes if v.person_id == me.id), None) for o in objections},
        objection_form=bound.get("object") or ObjectionForm(formdata=None),
        action_form=ActionForm(),
        label=category_labels([contribution.commons_id]).get((contribution.commons_id, contribution.category)),
        can_edit=service.can_edit(contribution, me),
    ), status


@blp.get("/contributions/<int:contribution_id>")
@login_required
def detail(me, contribution_id: int):
    return render_detail(_visible(contribution_id, me), me)


@blp.post("/contributions/<int:contribution_id>/vouch")
@login_required
def vouch(me, contribution_id: int):
    contribution = _visible(contribution_id, me)
    if not ActionForm().validate_on_submit():
        abort(400)
    peer.vouch(contribution, me)
    flash(_("You vouched for this contribution."))
    return redirect(url_for("contribution_pages.detail", contribution_id=contribution.id))


@blp.post("/contributions/<int:contribution_id>/object")
@login_required
def object_to(me, contribution_id: int):
    contribution = _visible(contribution_id, me)
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            peer.object_to(contribution, me, form.reason.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(_("Your objection was recorded. The contributor can answer it."))
            return redirect(url_for("contribution_pages.detail", contribution_id=contribution.id))
    return render_detail(contribution, me, bound={"object": form}, status=422)


def _objection(objection_id: int, me) -> Objection:
    objection = peer.get_objection(objection_id)
    _visible(objection.contribution_id, me)
    return objection


@blp.post("/objections/<int:objection_id>/answer")
@login_required
def answer(me, objection_id: int):
    objection = _objection(objection_id, me)
    form = AnswerForm(prefix=f"o{objection.id}a")
    if form.validate_on_submit():
        amended = _parse_hours_into(form, "amended_hours") if (form.amended_hours.data or "").strip() else None
        if not form.errors:
            try:
                peer.answer(objection, me, form.answer.data, amended)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                flash(_("Your answer was recorded."))
                return redirect(url_for("contribution_pages.detail", contribution_id=objection.contribution_id))
    return render_detail(objection.contribution, me, bound={("answer", objection.id): form}, status=422)


@blp.post("/objections/<int:objection_id>/vote")
@login_required
def vote(me, objection_id: int):
    objection = _objection(objection_id, me)
    form = VoteForm(prefix=f"o{objection.id}v")
    if form.validate_on_submit():
        peer.vote(objection, me, form.vote.data == "keep")
        flash(_("Your vote was recorded."))
        if objection.state != "open":
            flash(_("The vote reached its quorum: the objection is %(state)s.", state=OBJECTION_LABELS[objection.state]))
        return redirect(url_for("contribution_pages.detail", contribution_id=objection.contribution_id))
    return render_detail(objection.contribution, me, bound={("vote", objection.id): form}, status=422)


@blp.post("/objections/<int:objection_id>/resolve")
@login_required
def resolve(me, objection_id: int):
    objection = _objection(objection_id, me)
    form = ResolveForm(prefix=f"o{objection.id}r")
    if form.validate_on_submit():
        try:
            peer.resolve(objection, me, form.decision.data, form.resolution.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(_("The objection is %(state)s.", state=OBJECTION_LABELS[objection.state]))
            return redirect(url_for("contribution_pages.detail", contribution_id=objection.contribution_id))
    return render_detail(objection.contribution, me, bound={("resolve", objection.id): form}, status=422)


@blp.post("/objections/<int:objection_id>/withdraw")
@login_required
def withdraw_objection(me, objection_id: int):
    objection = _objection(objection_id, me)
    if not ActionForm().validate_on_submit():
        abort(400)
    peer.withdraw_objection(objection, me)
    flash(_("Your objection was withdrawn."))
    return redirect(url_for("contribution_pages.detail", contribution_id=objection.contribution_id))


# --- What is under review in a commons or a round -------------------------------------------


@blp.get("/commons/<slug>/review")
@blp.get("/commons/<slug>/rounds/<int:round_id>/review")
@login_required
def review(me, slug: str, round_id: int | None = None):
    commons: Commons = get_commons(slug)
    peer.require_commons_viewer(commons, me)
    round_ = None
    if round_id is not None:
        round_ = db.session.scalar(select(Round).where(Round.id == round_id, Round.commons_id == commons.id))
        if round_ is None:
            abort(404)
    rows = peer.under_review(commons, round_)
    rounds = db.session.scalars(select(Round).where(Round.commons_id == commons.id).order_by(Round.period_start.desc())).all()
    return render_template(
        "contributions/review.html",
        commons=commons,
        round=round_,
        rows=rows,
        rounds=rounds,
        labels=category_labels([commons.id]),
        me_id=me.id,
        open_objections=[(c, o) for c in rows for o in c.objections if o.state == "open"],
    )
