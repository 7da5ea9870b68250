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
from ledger.errors import ValidationFailed
from ledger.extensions import db
from ledger.formatting import money
from ledger.governance import colleges, health, outcomes, register, service
from ledger.governance.models import STATE_LABELS, CommentKind, FollowUp, Procedure, ProposalState
from ledger.governance.procedure import direct_change_allowed
from ledger.people.auth import current_person, login_required
from ledger.people.models import Person
from ledger.rounds.models import DECISION_PROCEDURES, RuleVersion
from ledger.rounds.rules import rules_in_force
from ledger.web import rule_words
from ledger.web.fields import DecimalNumberField
from ledger.web.rounds import RulesForm, prefill, show_errors

blp = Blueprint("governance_pages", __name__)

PROCEDURE_LABELS = {
    Procedure.STEWARD: _l("a steward decides"),
    Procedure.CONSENT: _l("consent: adopted at the deadline unless an objection is left unanswered"),
    Procedure.VOTE: _l("vote: one person one vote, weighted by college, with quorum and majority"),
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


def in_words(differences, names: dict[str, str]) -> list[str]:
    def value(name, v):
        return rule_words.setting_value(name, v, names, PROCEDURE_LABELS)

    return [
        _(
            "%(setting)s: %(before)s becomes %(after)s.",
            setting=rule_words.setting_label(n),
            before=value(n, a),
            after=value(n, b),
        )
        for n, a, b in differences
    ]


def colleges_in_words(college_changes: dict | None) -> list[str]:
    """A proposal's college changes as sentences: each college as it would read, each member's new college."""
    changes = college_changes or {}
    names = names_of(int(pid) for pid in changes.get("moves", {}))
    return [
        _("College %(code)s: %(name)s, weight %(weight)s.", code=code, name=entry["name"], weight=entry["weight"])
        for code, entry in changes.get("colleges", {}).items()
    ] + [
        _("%(person)s moves to the college %(college)s.", person=names.get(int(pid), pid), college=code)
        for pid, code in changes.get("moves", {}).items()
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

    def settings(self) -> dict:
        return super().settings() | {
            "decision_procedure": self.decision_procedure.data,
            "quorum": (self.quorum_percent.data / 100).normalize(),
            "majority": (self.majority_percent.data / 100).normalize(),
            "decision_days": self.decision_days.data,
        }


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


class CollegeProposalForm(CollegeForm):
    rationale = TextAreaField(_l("Why"), validators=[DataRequired(), Length(min=3, max=5000)])


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


def prefill_proposal(form: ProposalForm, rules, category_names: dict[str, str]) -> None:
    prefill(form, rules, category_names)
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
    names = rule_words.category_names(commons.id)
    form = ProposalForm(category_names=names)
    if form.is_submitted() and member is None:
        abort(403)
    rules = rules_in_force(commons.id)
    if member is not None and form.validate_on_submit():
        try:
            proposal = service.propose(
                commons,
                me,
                title=form.title.data,
                rationale=form.reason.data,
                effective_from=form.effective_from.data,
                values=form.settings(),
            )
        except ValidationFailed as error:  # the service's refusal (unknown category, late window …) beside its field
            show_errors(form, error)
        else:
            flash(_("Your proposal is open until %(date)s.", date=formatting.day(proposal.deadline)))
            return redirect(url_for("governance_pages.proposal_page", proposal_id=proposal.id))
    elif not form.is_submitted():
        prefill_proposal(form, rules, names)
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
        "changes": in_words(
            service.differences(proposal) if open_ else [(n, None, v) for n, v in proposal.changes.items()],
            rule_words.category_names(commons.id),
        )
        + colleges_in_words(proposal.college_changes),
        "open": open_,
        "outcome": outcomes.in_words(proposal),
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


def refused(proposal, **form):
    """The proposal's page again, with the refused form beside its errors."""
    return render_template("governance/proposal.html", **proposal_context(proposal) | form), 422


def back(proposal_id: int, anchor: str = ""):
    return redirect(url_for("governance_pages.proposal_page", proposal_id=proposal_id) + anchor)


@blp.post("/proposals/<int:proposal_id>/comments")
@login_required
def add_comment(me, proposal_id):
    proposal = service.get_proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return refused(proposal, comment_form=form)
    service.comment(proposal, me, form.kind.data, form.body.data)
    flash(_("Your comment is published."))
    return back(proposal_id, "#comments")


@blp.post("/proposals/<int:proposal_id>/comments/<int:comment_id>/answer")
@login_required
def answer(me, proposal_id, comment_id):
    proposal = service.get_proposal(proposal_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return refused(proposal, answer_form=form)
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
        return refused(proposal, decide_form=form)
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
    """The colleges and their weights. Under the `steward` procedure stewards define them; otherwise
    any member proposes a college, decided like the rules. Stewards place members."""
    commons = commons_service.get_commons(slug)
    me = current_person()
    member = commons_service.membership(commons, me) if me else None
    steward = me is not None and (me.is_admin or (member is not None and member.role == "steward"))
    direct = direct_change_allowed(commons)
    form = CollegeForm(prefix="college") if direct else CollegeProposalForm(prefix="college")
    place = PlaceForm(prefix="place")
    place.college.choices = [SelectChoice(c.code, c.name) for c in colleges.colleges_of(commons.id)]
    which = request.form.get("which")
    proposes = which == "college" and not direct  # any member proposes a college
    if request.method == "POST" and not (member is not None if proposes else steward):
        abort(403)
    if which == "college" and form.validate_on_submit():
        entry = {"code": form.code.data.strip(), "name": form.name.data, "weight": typed_number(form.weight.data)}
        if direct:
            colleges.define_college(commons, me, entry["code"], entry["name"], entry["weight"])
            flash(_("The college is recorded."))
            return redirect(url_for("governance_pages.colleges_page", slug=slug))
        proposal = service.propose(
            commons,
            me,
            title=_("College %(code)s: %(name)s, weight %(weight)s.", **entry),
            rationale=form.rationale.data,
            values={},
            college_entries=[entry],
        )
        flash(_("Your proposal is open until %(date)s.", date=formatting.day(proposal.deadline)))
        return redirect(url_for("governance_pages.proposal_page", proposal_id=proposal.id))
    if which == "place" and place.validate_on_submit():
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
        member=member,
        direct=direct,
        form=form,
        place=place,
    )


@blp.get("/commons/<slug>/democratic-health")
def health_page(slug):
    commons = commons_service.get_commons(slug)
    return render_template("governance/health.html", commons=commons, figures=health.figures(commons))
