"""Rule proposals, their comments and votes, colleges, and the decision register of a commons."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ledger.api.fields import UtcDateTime
from ledger.api.idempotency import idempotent
from ledger.api.rules import RuleSettings
from ledger.commons import service as commons_service
from ledger.extensions import db
from ledger.governance import colleges, health, outcomes, register, service
from ledger.governance.models import CommentKind, FollowUp, Outcome
from ledger.governance.tally import percent
from ledger.people.auth import public, require_person

blp = Blueprint(
    "governance", __name__, url_prefix="/api/v1", description="Rule proposals, votes and consent, colleges, the decision register"
)


class ProposalIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    rationale = fields.String(required=True, validate=validate.Length(min=3, max=5000))
    effective_from = fields.Date(metadata={"description": "default: the day after the deadline"})
    rules = fields.Nested(RuleSettings, load_default=dict, metadata={"description": "the settings to change"})
    colleges = fields.List(
        fields.Nested(lambda: CollegeIn()),
        load_default=list,
        metadata={"description": "colleges to create, rename or re-weigh: they weigh votes, so they change by proposal"},
    )
    moves = fields.List(
        fields.Nested(lambda: CollegeMemberIn()),
        load_default=list,
        metadata={"description": "members to place in another college (one the proposal creates, or an existing one)"},
    )


class ProposalChangeOut(Schema):
    field = fields.String()
    in_force = fields.Raw()
    proposed = fields.Raw()


class CommentOut(Schema):
    id = fields.Integer()
    author_id = fields.Integer()
    kind = fields.String()
    body = fields.String()
    answer = fields.String(allow_none=True)
    answered_by_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class CollegeResultOut(Schema):
    college = fields.String()
    weight = fields.String()
    eligible = fields.Integer()
    cast = fields.Integer()
    yes = fields.Integer()
    yes_share = fields.String(allow_none=True, metadata={"description": "exact fraction, e.g. 2/3"})
    effective_weight = fields.String(metadata={"description": "share of the overall result, exact fraction"})


class ResultOut(Schema):
    eligible = fields.Integer()
    cast = fields.Integer()
    turnout = fields.String(metadata={"description": "exact fraction cast/eligible"})
    yes_share = fields.String(allow_none=True, metadata={"description": "weighted, exact fraction"})
    yes_percent = fields.String()
    quorum_met = fields.Boolean()
    adopted = fields.Boolean()
    colleges = fields.List(fields.Nested(CollegeResultOut))


class ProposalOut(Schema):
    id = fields.Integer()
    commons = fields.String()
    author_id = fields.Integer()
    title = fields.String()
    rationale = fields.String()
    base_version = fields.Integer()
    changes = fields.Dict(keys=fields.String(), values=fields.Raw())
    college_changes = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        allow_none=True,
        metadata={"description": '{"colleges": {code: {"name", "weight"}}, "moves": {person id: college code}}'},
    )
    differences = fields.List(fields.Nested(ProposalChangeOut))
    effective_from = fields.Date()
    procedure = fields.String()
    quorum = fields.String()
    majority = fields.String()
    deadline = fields.Date()
    state = fields.String()
    outcome = fields.String(allow_none=True, metadata={"description": "how it was decided, in the request's language"})
    outcome_code = fields.String(
        allow_none=True, validate=validate.OneOf([o.value for o in Outcome]), metadata={"description": "how it was decided"}
    )
    outcome_params = fields.Dict(
        keys=fields.String(), allow_none=True, metadata={"description": "the figures of the decision (yes as an exact fraction)"}
    )
    decided_at = UtcDateTime(allow_none=True)
    rule_version = fields.Integer(allow_none=True)
    comments = fields.List(fields.Nested(CommentOut))
    result = fields.Nested(ResultOut, allow_none=True)


class CommentIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CommentKind]))
    body = fields.String(required=True, validate=validate.Length(min=3, max=5000))


class ProposalAnswerIn(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=3, max=5000))


class ProposalVoteIn(Schema):
    approve = fields.Boolean(required=True)


class ProposalVoteOut(Schema):
    proposal_id = fields.Integer()
    person_id = fields.Integer()
    college_id = fields.Integer(allow_none=True)
    approve = fields.Boolean()


class DecideIn(Schema):
    adopt = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class CollegeIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]{1,40}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    weight = fields.String(required=True, metadata={"example": "40"})


class CollegeOut(Schema):
    code = fields.String()
    name = fields.String()
    weight = fields.String()
    members = fields.Integer()


class CollegeMemberIn(Schema):
    email = fields.Email(required=True)
    college = fields.String(required=True)


class CollegeMemberOut(Schema):
    person_id = fields.Integer()
    college = fields.String()


class DecisionOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    subject = fields.String()
    procedure = fields.String()
    decided_at = UtcDateTime()
    eligible = fields.Integer(allow_none=True)
    cast = fields.Integer(allow_none=True)
    result = fields.String()
    early_reason = fields.String(allow_none=True)
    follow_up = fields.String()
    follow_up_note = fields.String(allow_none=True)


class FollowUpIn(Schema):
    follow_up = fields.String(required=True, validate=validate.OneOf([f.value for f in FollowUp]))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class HealthOut(Schema):
    members = fields.Integer()
    active_3_months = fields.Integer()
    active_share = fields.String()
    votes = fields.List(fields.Dict())
    turnout_by_college = fields.List(fields.Dict())
    turnout_by_month = fields.List(fields.Dict())
    declared_concentration = fields.Dict()
    review_concentration = fields.Dict()
    objection_days = fields.Dict()


def result_view(proposal) -> dict | None:
    if proposal.procedure != "vote":
        return None
    counted = service.result(proposal)
    return {
        "eligible": counted.eligible,
        "cast": counted.cast,
        "turnout": str(counted.turnout),
        "yes_share": None if counted.yes_share is None else str(counted.yes_share),
        "yes_percent": percent(counted.yes_share),
        "quorum_met": counted.quorum_met,
        "adopted": counted.adopted,
        "colleges": [
            {
                "college": c.code,
                "weight": str(c.weight),
                "eligible": c.eligible,
                "cast": c.cast,
                "yes": c.yes,
                "yes_share": None if c.yes_share is None else str(c.yes_share),
                "effective_weight": str(c.effective_weight),
            }
            for c in counted.colleges
        ],
    }


def proposal_view(proposal) -> dict:
    from ledger.commons.models import Commons
    from ledger.rounds.models import RuleVersion

    commons = db.session.get(Commons, proposal.commons_id)
    adopted = db.session.get(RuleVersion, proposal.rule_version_id) if proposal.rule_version_id else None
    return {
        "id": proposal.id,
        "commons": commons.slug,
        "author_id": proposal.author_id,
        "title": proposal.title,
        "rationale": proposal.rationale,
        "base_version": db.session.get(RuleVersion, proposal.base_version_id).version,
        "changes": proposal.changes,
        "college_changes": proposal.college_changes,
        "differences": [{"field": f, "in_force": a, "proposed": b} for f, a, b in service.differences(proposal)],
        "effective_from": proposal.effective_from,
        "procedure": proposal.procedure,
        "quorum": proposal.quorum,
        "majority": proposal.majority,
        "deadline": proposal.deadline,
        "state": proposal.state,
        "outcome": outcomes.in_words(proposal),
        "outcome_code": proposal.outcome_code,
        "outcome_params": proposal.outcome_params,
        "decided_at": proposal.decided_at,
        "rule_version": adopted.version if adopted else None,
        "comments": service.comments_of(proposal),
        "result": result_view(proposal),
    }


@blp.route("/commons/<slug>/proposals")
class Proposals(MethodView):
    @public
    @blp.response(200, ProposalOut(many=True))
    def get(self, slug):
        """Every proposal of the commons, newest first, decided or not (rejected ones keep their votes)."""
        commons = commons_service.get_commons(slug)
        return [proposal_view(p) for p in service.proposals_of(commons.id)]

    @idempotent
    @blp.arguments(ProposalIn)
    @blp.response(201, ProposalOut)
    def post(self, data, slug):
        """Propose new rules (any member): decided by the procedure the rules in force name."""
        commons = commons_service.get_commons(slug)
        person = require_person()
        proposal = service.propose(
            commons,
            person,
            title=data["title"],
            rationale=data["rationale"],
            values=data["rules"],
            effective_from=data.get("effective_from"),
            college_entries=data["colleges"],
            moves=data["moves"],
        )
        return proposal_view(proposal)


def _proposal(proposal_id: int):
    return service.get_proposal(proposal_id)


@blp.route("/proposals/<int:proposal_id>")
class Proposal(MethodView):
    @public
    @blp.response(200, ProposalOut)
    def get(self, proposal_id):
        """A proposal with its differences from the rules in force, its comments and its count."""
        return proposal_view(_proposal(proposal_id))


@blp.route("/proposals/<int:proposal_id>/comments")
class Comments(MethodView):
    @blp.arguments(CommentIn)
    @blp.response(201, CommentOut)
    def post(self, data, proposal_id):
        """A pro, a con, a question, or (under consent) a reasoned objection."""
        return service.comment(_proposal(proposal_id), require_person(), data["kind"], data["body"])


@blp.route("/proposals/<int:proposal_id>/comments/<int:comment_id>/answer")
class Answer(MethodView):
    @blp.arguments(ProposalAnswerIn)
    @blp.response(200, CommentOut)
    def post(self, data, proposal_id, comment_id):
        """The author or a steward answers an objection; answered, it no longer blocks consent."""
        proposal = _proposal(proposal_id)
        return service.answer_objection(proposal, service.get_comment(proposal, comment_id), require_person(), data["answer"])


@blp.route("/proposals/<int:proposal_id>/votes")
class Votes(MethodView):
    @blp.arguments(ProposalVoteIn)
    @blp.response(201, ProposalVoteOut)
    def post(self, data, proposal_id):
        """One ballot per person (409 `already_voted` for a second one), until the deadline."""
        return service.vote(_proposal(proposal_id), require_person(), data["approve"])


@blp.route("/proposals/<int:proposal_id>/decision")
class Decide(MethodView):
    @blp.arguments(DecideIn)
    @blp.response(200, ProposalOut)
    def post(self, data, proposal_id):
        """A steward adopts or rejects, only under the `steward` procedure (403 under consent or vote)."""
        proposal = service.steward_decides(_proposal(proposal_id), require_person(), data["adopt"], data["reason"])
        return proposal_view(proposal)


@blp.route("/proposals/<int:proposal_id>/withdrawal")
class Withdraw(MethodView):
    @blp.response(200, ProposalOut)
    def post(self, proposal_id):
        """The author withdraws an open proposal; it stays in the history."""
        return proposal_view(service.withdraw(_proposal(proposal_id), require_person()))


def college_views(commons) -> list[dict]:
    sizes = colleges.college_sizes(commons.id)
    return [
        {"code": c.code, "name": c.name, "weight": c.weight, "members": sizes.get(c.id, 0)}
        for c in colleges.colleges_of(commons.id)
    ]


@blp.route("/commons/<slug>/colleges")
class Colleges(MethodView):
    @public
    @blp.response(200, CollegeOut(many=True))
    def get(self, slug):
        """The commons' colleges, their weights and how many members each has."""
        return college_views(commons_service.get_commons(slug))

    @blp.arguments(CollegeIn)
    @blp.response(201, CollegeOut(many=True))
    def post(self, data, slug):
        """Create a college or change its name and weight (stewards, under the `steward` procedure only:
        under consent or vote it is a proposal, and this answers 403 `decided_by_<procedure>`)."""
        commons = commons_service.get_commons(slug)
        colleges.define_college(commons, require_person(), data["code"], data["name"], data["weight"])
        return college_views(commons)


@blp.route("/commons/<slug>/colleges/members")
class CollegeMembers(MethodView):
    @blp.arguments(CollegeMemberIn)
    @blp.response(200, CollegeMemberOut)
    def put(self, data, slug):
        """Place a member in a college (stewards); a member belongs to one college. Moving a placed member
        is a proposal under consent or vote (403 `decided_by_<procedure>` here)."""
        commons = commons_service.get_commons(slug)
        placed = colleges.assign(commons, require_person(), data["email"], data["college"])
        return {"person_id": placed.person_id, "college": data["college"]}


@blp.route("/commons/<slug>/decisions")
class Decisions(MethodView):
    @public
    @blp.response(200, DecisionOut(many=True))
    def get(self, slug):
        """The public decision register, newest first."""
        return register.register_of(commons_service.get_commons(slug).id)


@blp.route("/commons/<slug>/decisions/<int:decision_id>/follow-up")
class FollowUpView(MethodView):
    @blp.arguments(FollowUpIn)
    @blp.response(200, DecisionOut)
    def post(self, data, slug, decision_id):
        """A steward says where a decision's follow-up stands (todo, done, abandoned with a reason)."""
        commons = commons_service.get_commons(slug)
        entry = register.get_decision(commons, decision_id)
        return register.set_follow_up(commons, entry, require_person(), data["follow_up"], data["note"])


@blp.route("/commons/<slug>/democratic-health")
class Health(MethodView):
    @public
    @blp.response(200, HealthOut)
    def get(self, slug):
        """Turnout, activity, concentration of work and time to settle objections: counts and distributions, no names."""
        return health.figures(commons_service.get_commons(slug))
