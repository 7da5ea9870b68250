"""Pages for proposals, votes and consent, colleges, the decision register and democratic health.

They parse, call ``ledger.governance``, and render: every permission is the domain's.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ledger import formatting
from ledger.commons import service as commons_service
from ledger.contributions.models import Category
from ledger.extensions import db
from ledger.formatting import money
from ledger.governance import colleges, health, register, service
from ledger.governance.models import CommentKind, FollowUp, Procedure, ProposalState
from ledger.people.auth import current_person, login_required
from ledger.people.models import Person
from ledger.rounds.models import DECISION_PROCEDURES, RuleVersion
from ledger.rounds.rules import rules_in_force
from ledger.web.fields import DecimalNumberField
from ledger.web.rounds import RulesForm, prefill

blp = Blueprint("governance_pages", __name__)

PROCEDURE_LABELS = {
    Procedure.STEWARD: _l("a steward decides"),
    Procedure.CONSENT: _l("consent: adopted at the deadline unless an objection is left unanswered"),
    Procedure.VOTE: _l("vote: one person one vote, weighted by college, with quorum and majority"),
}
STATE_LABELS = {
    ProposalState.OPEN: _l("open"),
    ProposalState.ADOPTED: _l("adopted"),
    ProposalState.REJECTED: _l("not adopted"),
    ProposalState.WITHDRAWN: _l("withdrawn"),
}
COMMENT_LABELS = {
    CommentKind.PRO: _l("For"),
    CommentKind.CON: _l("Against"),
    CommentKind.QUESTION: _l("Question"),
    CommentKind.OBJECTION: _l("Objection"),
}
FOLLOW_UP_LABELS = {
    FollowUp.NONE: _l("nothing to do"),
    FollowUp.TODO: _l("to do"),
    FollowUp.DONE: _l("done"),
    FollowUp.ABANDONED: _l("abandoned, because…"),
}
KIND_LABELS = {
    "rule_adopted": _l("Rules adopted"),
    "rule_rejected": _l("Rules not adopted"),
    "objection_settled": _l("Objection settled"),
    "round_finalized": _l("Round finalized"),
}
RESULT_LABELS = {
    "upheld": _l("upheld"),
    "dismissed": _l("dismissed"),
    "finalized": _l("finalized"),
    "adopted": _l("adopted"),
    "rejected": _l("not adopted"),
}


def outcome_in_words(proposal) -> str | None:
    """How the proposal was decided, in the reader's language (the stored outcome is the English record)."""
    if proposal.state == ProposalState.OPEN:
        return None
    if proposal.state == ProposalState.WITHDRAWN:
        return _("Withdrawn by its author.")
    if proposal.procedure == Procedure.STEWARD:
        return _("Decided by a steward: %(reason)s", reason=proposal.outcome)
    if proposal.procedure == Procedure.CONSENT:
        if proposal.state == ProposalState.ADOPTED:
            return _("Adopted by consent: no objection was left unanswered.")
        return _(
            "Not adopted: %(n)s objection(s) left unanswered at the deadline.", n=len(service.unanswered_objections(proposal))
        )
    counted = service.result(proposal)
    if not counted.quorum_met:
        return _(
            "Not adopted: the quorum was not reached (%(cast)s of %(eligible)s voted).",
            cast=counted.cast,
            eligible=counted.eligible,
        )
    return _(
        "%(verdict)s: %(yes)s yes, weighted by college; %(cast)s of %(eligible)s voted.",
        verdict=_("Adopted") if counted.adopted else _("Not adopted"),
        yes=formatting.percent(counted.yes_share, places=1),
        cast=counted.cast,
        eligible=counted.eligible,
    )


FIELD_LABELS = {
    "cadence": _l("Round cadence"),
    "declaration_days": _l("Days to declare after the period"),
    "review_days": _l("Days of review"),
    "allocation_method": _l("Allocation method"),
    "hourly_value_cents": _l("Hourly value"),
    "cap_cents": _l("Cap per person and round"),
    "category_weights": _l("Category weights"),
    "min_vouches": _l("Vouches needed"),
    "objection_procedure": _l("How objections are decided"),
    "quorum": _l("Quorum"),
    "levy_rate": _l("Solidarity levy"),
    "hybrid_time_weight": _l("Time share of the hybrid method"),
    "weekly_hours_threshold": _l("Weekly hours threshold"),
    "decision_procedure": _l("How the rules are changed"),
    "majority": _l("Majority"),
    "decision_days": _l("Days to decide a proposal"),
}


def plain(name: str, value) -> str:
    """A setting's value as a person reads it."""
    if value is None:
        return _("none")
    if name in ("hourly_value_cents", "cap_cents"):
        return money(value)
    if name in ("levy_rate", "quorum", "majority", "hybrid_time_weight"):
        return formatting.percent(Decimal(str(value)))
    if name == "category_weights":
        return ", ".join(f"{k} × {formatting.number(v)}" for k, v in value.items()) or _("all 1")
    if name == "decision_procedure":
        return str(PROCEDURE_LABELS.get(value, value))
    return str(value)


def in_words(differences) -> list[str]:
    return [
        _("%(setting)s: %(before)s becomes %(after)s.", setting=FIELD_LABELS.get(n, n), before=plain(n, a), after=plain(n, b))
        for n, a, b in differences
    ]


class ProposalForm(RulesForm):
    title = StringField(_l("Title of the proposal"), validators=[DataRequired(), Length(min=3, max=200)])
    decision_procedure = SelectField(
        _l("How the rules are changed"), choices=[SelectChoice(p, PROCEDURE_LABELS[p]) for p in DECISION_PROCEDURES]
    )
    quorum_percent = DecimalNumberField(_l("Quorum (percentage of members who must vote)"), validators=[InputRequired()])
    majority_percent = DecimalNumberField(
        _l("Majority (percentage of yes needed, strictly above)"), validators=[InputRequired()], maximum=99
    )
    decision_days = IntegerField(_l("Days to decide a proposal"), validators=[NumberRange(1, 90)])
    effective_from = DateField(_l("In force from"), validators=[Optional()])


class CommentForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, COMMENT_LABELS[k]) for k in CommentKind])
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(min=3, max=5000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(min=3, max=5000)])


class VoteForm(FlaskForm):
    pass


class DecideForm(FlaskForm):
    adopt = BooleanField(_l("Adopt (unticked: reject)"))
    reason = TextAreaField(_l("Why"), validators=[DataRequired(), Length(min=3, max=2000)])


class CollegeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    weight = StringField(_l("Weight"), validators=[DataRequired(), Length(max=12)])


class PlaceForm(FlaskForm):
    email = StringField(_l("Member's email"), validators=[DataRequired(), Length(max=254)])
    college = SelectField(_l("College"), choices=[])


class FollowUpForm(FlaskForm):
    follow_up = SelectField(_l("Follow-up"), choices=[SelectChoice(f.value, FOLLOW_UP_LABELS[f]) for f in FollowUp])
    note = StringField(_l("Note (why, when abandoned)"), validators=[Optional(), Length(max=2000)])


def typed_number(text: str) -> str:
    """A number typed the reader's way ("1,5") as the service reads it ("1.5"); anything else is
    passed on as typed, for the service to say what is wrong with it."""
    try:
        return formatting.plain_number(text)
    except ValueError:
        return text


def names_of(ids) -> dict[int, str]:
    return {p.id: p.public_name for p in db.session.scalars(select(Person).where(Person.id.in_(set(ids))))}


def prefill_proposal(form: ProposalForm, rules) -> None:
    prefill(form, rules)
    form.decision_procedure.data = rules.decision_procedure
    form.quorum_percent.data = Decimal(rules.quorum) * 100
    form.majority_percent.data = Decimal(rules.majority) * 100
    form.decision_days.data = rules.decision_days
    form.effective_from.data = None


@blp.route("/commons/<slug>/proposals", methods=["GET", "POST"])
def proposals(slug):
    """Every proposal, open and decided; members propose here."""
    commons = commons_service.get_commons(slug)
    me = current_person()
    member = commons_service.membership(commons, me) if me else None
    form = ProposalForm()
    if form.is_submitted() and member is None:
        abort(403)
    rules = rules_in_force(commons.id)
    if member is not None and form.validate_on_submit():
        weights = form.category_weights.parsed
        known = set(db.session.scalars(select(Category.code).where(Category.commons_id == commons.id)))
        unknown = sorted(set(weights) - known)
        if unknown:
            form.category_weights.errors.append(_("Unknown categories: %(names)s.", names=", ".join(unknown)))
        else:
            proposal = service.propose(
                commons,
                me,
                title=form.title.data,
                rationale=form.reason.data,
                effective_from=form.effective_from.data,
                values={
                    "allocation_method": form.allocation_method.data,
                    "hourly_value_cents": form.hourly_value.data,
                    "cap_cents": form.cap.data,
                    "levy_rate": (form.levy_percent.data / 100).normalize(),
                    "category_weights": weights,
                    "min_vouches": form.min_vouches.data,
                    "cadence": form.cadence.data,
                    "declaration_days": form.declaration_days.data,
                    "review_days": form.review_days.data,
                    "decision_procedure": form.decision_procedure.data,
                    "quorum": (form.quorum_percent.data / 100).normalize(),
                    "majority": (form.majority_percent.data / 100).normalize(),
                    "decision_days": form.decision_days.data,
                },
            )
            flash(_("Your proposal is open until %(date)s.", date=proposal.deadline.isoformat()))
            return redirect(url_for("governance_pages.proposal_page", proposal_id=proposal.id))
    elif not form.is_submitted():
        prefill_proposal(form, rules)
    items = service.proposals_of(commons.id)
    return render_template(
        "governance/proposals.html",
        commons=commons,
        proposals=items,
        authors=names_of(p.author_id for p in items),
        form=form,
        member=member,
        rules=rules,
        procedure_labels=PROCEDURE_LABELS,
        state_labels=STATE_LABELS,
    ), (422 if form.errors else 200)


def proposal_context(proposal) -> dict:
    from ledger.commons.models import Commons

    commons = db.session.get(Commons, proposal.commons_id)
    me = current_person()
    member = commons_service.membership(commons, me) if me else None
    comments = service.comments_of(proposal)
    votes = service.votes_of(proposal)
    what_if = service.what_if_last_round(proposal) if member is not None and proposal.state == ProposalState.OPEN else None
    names = names_of([proposal.author_id, *(c.author_id for c in comments)])
    if what_if:
        names.update(names_of([line.person_id for line in what_if[1]] + [line.person_id for line in what_if[2]]))
    open_ = proposal.state == ProposalState.OPEN
    voters = colleges.eligible_voters(commons.id)
    return {
        "commons": commons,
        "proposal": proposal,
        "me": me,
        "member": member,
        "changes": in_words(service.differences(proposal) if open_ else [(n, None, v) for n, v in proposal.changes.items()]),
        "open": open_,
        "outcome": outcome_in_words(proposal),
        "comments": comments,
        "names": names,
        "result": service.result(proposal) if proposal.procedure == Procedure.VOTE else None,
        # A share not known yet (nobody eligible) reads "—".
        "percent": lambda share: "—" if share is None else formatting.percent(share, places=1),
        "my_vote": next((v for v in votes if me and v.person_id == me.id), None),
        "can_vote": open_ and proposal.procedure == Procedure.VOTE and me is not None and me.id in voters,
        "can_answer": open_
        and me is not None
        and (me.id == proposal.author_id or (member is not None and member.role == "steward")),
        "can_decide": open_ and proposal.procedure == Procedure.STEWARD and member is not None and member.role == "steward",
        "unanswered": len(service.unanswered_objections(proposal)),
        "what_if": what_if,
        "money": money,
        "comment_form": CommentForm(formdata=None),
        "answer_form": AnswerForm(formdata=None),
        "vote_form": VoteForm(),
        "decide_form": DecideForm(formdata=None),
        "procedure_labels": PROCEDURE_LABELS,
        "state_labels": STATE_LABELS,
        "comment_labels": COMMENT_LABELS,
        "adopted_version": db.session.get(RuleVersion, proposal.rule_version_id) if proposal.rule_version_id else None,
    }


@blp.get("/proposals/<int:proposal_id>")
def proposal_page(proposal_id):
    return render_template("governance/proposal.html", **proposal_context(service.get_proposal(proposal_id)))


def back(proposal_id: int, anchor: str = ""):
    return redirect(url_for("governance_pages.proposal_page", proposal_id=proposal_id) + anchor)


@blp.post("/proposals/<int:proposal_id>/comments")
@login_required
def add_comment(me, proposal_id):
    proposal = service.get_proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        context = proposal_context(proposal)
        context["comment_form"] = form
        return render_template("governance/proposal.html", **context), 422
    service.comment(proposal, me, form.kind.data, form.body.data)
    flash(_("Your comment is published."))
    return back(proposal_id, "#comments")


@blp.post("/proposals/<int:proposal_id>/comments/<int:comment_id>/answer")
@login_required
def answer(me, proposal_id, comment_id):
    proposal = service.get_proposal(proposal_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        context = proposal_context(proposal)
        context["answer_form"] = form
        return render_template("governance/proposal.html", **context), 422
    service.answer_objection(proposal, service.get_comment(proposal, comment_id), me, form.answer.data)
    flash(_("Your answer is published."))
    return back(proposal_id, "#comments")


@blp.post("/proposals/<int:proposal_id>/vote/<choice>")
@login_required
def cast_vote(me, proposal_id, choice):
    if choice not in ("yes", "no") or not VoteForm().validate_on_submit():
        abort(400)
    service.vote(service.get_proposal(proposal_id), me, choice == "yes")
    flash(_("Your vote is recorded."))
    return back(proposal_id, "#vote")


@blp.post("/proposals/<int:proposal_id>/decision")
@login_required
def decide(me, proposal_id):
    proposal = service.get_proposal(proposal_id)
    form = DecideForm()
    if not form.validate_on_submit():
        context = proposal_context(proposal)
        context["decide_form"] = form
        return render_template("governance/proposal.html", **context), 422
    service.steward_decides(proposal, me, form.adopt.data, form.reason.data)
    flash(_("The decision is recorded in the register."))
    return back(proposal_id)


@blp.post("/proposals/<int:proposal_id>/withdrawal")
@login_required
def withdraw(me, proposal_id):
    if not VoteForm().validate_on_submit():
        abort(400)
    service.withdraw(service.get_proposal(proposal_id), me)
    flash(_("The proposal is withdrawn; it stays in the history."))
    return back(proposal_id)


@blp.get("/commons/<slug>/decisions")
def register_page(slug):
    commons = commons_service.get_commons(slug)
    me = current_person()
    member = commons_service.membership(commons, me) if me else None
    steward = me is not None and (me.is_admin or (member is not None and member.role == "steward"))
    return render_template(
        "governance/register.html",
        commons=commons,
        entries=register.register_of(commons.id),
        steward=steward,
        follow_up_form=FollowUpForm(formdata=None),
        kind_labels=KIND_LABELS,
        follow_up_labels=FOLLOW_UP_LABELS,
        result_labels=RESULT_LABELS,
        procedure_names={"steward": _("steward"), "consent": _("consent"), "vote": _("vote"), "mediation": _("mediation")},
    )


@blp.post("/commons/<slug>/decisions/<int:decision_id>/follow-up")
@login_required
def follow_up(me, slug, decision_id):
    commons = commons_service.get_commons(slug)
    form = FollowUpForm()
    if not form.validate_on_submit():
        abort(400)
    register.set_follow_up(commons, register.get_decision(commons, decision_id), me, form.follow_up.data, form.note.data)
    flash(_("The follow-up is updated."))
    return redirect(url_for("governance_pages.register_page", slug=slug) + f"#decision-{decision_id}")


@blp.route("/commons/<slug>/colleges", methods=["GET", "POST"])
def colleges_page(slug):
    """The colleges and their weights; stewards define them and place members."""
    commons = commons_service.get_commons(slug)
    me = current_person()
    member = commons_service.membership(commons, me) if me else None
    steward = me is not None and (me.is_admin or (member is not None and member.role == "steward"))
    form, place = CollegeForm(prefix="college"), PlaceForm(prefix="place")
    place.college.choices = [SelectChoice(c.code, c.name) for c in colleges.colleges_of(commons.id)]
    if (form.is_submitted() or place.is_submitted()) and not steward:
        abort(403)
    which = request.form.get("which")
    if steward and which == "college" and form.validate_on_submit():
        colleges.define_college(commons, me, form.code.data.strip(), form.name.data, typed_number(form.weight.data))
        flash(_("The college is recorded."))
        return redirect(url_for("governance_pages.colleges_page", slug=slug))
    if steward and which == "place" and place.validate_on_submit():
        colleges.assign(commons, me, place.email.data.strip(), place.college.data)
        flash(_("The member is placed in the college."))
        return redirect(url_for("governance_pages.colleges_page", slug=slug))
    sizes = colleges.college_sizes(commons.id)
    return render_template(
        "governance/colleges.html",
        commons=commons,
        colleges=colleges.colleges_of(commons.id),
        sizes=sizes,
        steward=steward,
        form=form,
        place=place,
    )


@blp.get("/commons/<slug>/democratic-health")
def health_page(slug):
    commons = commons_service.get_commons(slug)
    return render_template("governance/health.html", commons=commons, figures=health.figures(commons))
