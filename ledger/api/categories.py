"""Contribution categories of a commons, with the weights of the rules in force."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate

from ledger.api import fields
from ledger.api.idempotency import idempotent
from ledger.commons.service import get_commons, require_role
from ledger.contributions.categories import add_category, categories_of
from ledger.people.auth import public, require_person
from ledger.rounds.rules import rules_in_force

blp = Blueprint(
    "categories", __name__, url_prefix="/api/v1/commons", description="Categories of contributions, covering invisible work"
)


class CategoryIn(Schema):
    code = fields.String(required=True, validate=validate.Length(max=40), metadata={"example": "repair_cafe"})
    label = fields.String(required=True, validate=validate.Length(max=120))
    invisible = fields.Boolean(load_default=False, metadata={"description": "work that usually goes unseen"})


class CategoryOut(Schema):
    code = fields.String()
    label = fields.String()
    invisible = fields.Boolean()
    active = fields.Boolean()
    weight = fields.String(metadata={"description": 'weight in the rules in force (decimal string, default "1")'})


def category_view(category, weights: dict) -> dict:
    return {
        "code": category.code,
        "label": category.label,
        "invisible": category.invisible,
        "active": category.active,
        "weight": str(weights.get(category.code, "1")),
    }


@blp.route("/<slug>/categories")
class Categories(MethodView):
    @public
    @blp.response(200, CategoryOut(many=True))
    def get(self, slug):
        """The commons' categories (public), with their weight in the current rules."""
        commons = get_commons(slug)
        rules = rules_in_force(commons.id)
        weights = (rules.category_weights if rules else None) or {}
        return [category_view(c, weights) for c in categories_of(commons.id, active_only=False)]

    @idempotent
    @blp.arguments(CategoryIn)
    @blp.response(201, CategoryOut)
    def post(self, data, slug):
        """Add a category (stewards). Weights are set through a new rule version."""
        commons = get_commons(slug)
        require_role(commons, require_person(), "steward")
        category = add_category(commons, code=data["code"], label=data["label"], invisible=data["invisible"])
        rules = rules_in_force(commons.id)
        return category_view(category, (rules.category_weights if rules else None) or {})
