"""The authenticated person."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy import select

from ledger.api import fields
from ledger.commons.models import Membership
from ledger.extensions import db
from ledger.people.auth import require_person

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="People")


class MyMembership(Schema):
    commons = fields.String(attribute="commons.slug")
    role = fields.String()
    payout_route = fields.String()


class MeOut(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    pseudonym = fields.String()
    show_name_publicly = fields.Boolean()
    is_admin = fields.Boolean()
    memberships = fields.List(fields.Nested(MyMembership))


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeOut)
    def get(self):
        """Who the token belongs to, and their commons."""
        person = require_person()
        memberships = db.session.scalars(select(Membership).where(Membership.person_id == person.id)).all()
        return {
            **{k: getattr(person, k) for k in ("id", "email", "display_name", "pseudonym", "show_name_publicly", "is_admin")},
            "memberships": memberships,
        }
