"""Legal identities (SIREN, legal name, fiscal year start) of commons, CAEs and the fund, for the FEC."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate

from ledger import legal
from ledger.api import fields
from ledger.commons.service import get_commons
from ledger.payouts.service import get_cae
from ledger.people.auth import require_person

blp = Blueprint("legal", __name__, url_prefix="/api/v1", description="Legal identities that name and date the FEC")


class IdentityIn(Schema):
    siren = fields.String(validate=validate.Length(max=11), metadata={"description": "9 digits; empty to clear"})
    legal_name = fields.String(validate=validate.Length(max=160))
    fiscal_year_start = fields.String(metadata={"description": "first day of the fiscal year, MM-DD (default 01-01)"})


class IdentityOut(Schema):
    siren = fields.String(allow_none=True)
    legal_name = fields.String()
    fiscal_year_start = fields.String()


def _set(holder, data):
    legal.require_may_set_identity(require_person(), holder)
    return legal.set_identity(
        holder, siren=data.get("siren"), legal_name=data.get("legal_name"), fiscal_year_start=data.get("fiscal_year_start")
    )


@blp.route("/commons/<slug>/legal-identity")
class CommonsIdentity(MethodView):
    @blp.arguments(IdentityIn)
    @blp.response(200, IdentityOut)
    def put(self, data, slug):
        """Set a commons' SIREN, legal name or fiscal year start (its stewards and admins)."""
        return _set(get_commons(slug), data)


@blp.route("/caes/<code>/legal-identity")
class CaeIdentity(MethodView):
    @blp.arguments(IdentityIn)
    @blp.response(200, IdentityOut)
    def put(self, data, code):
        """Set a CAE's SIREN, legal name or fiscal year start (its accountants and admins)."""
        return _set(get_cae(code), data)


@blp.route("/solidarity-fund/legal-identity")
class FundIdentity(MethodView):
    @blp.arguments(IdentityIn)
    @blp.response(200, IdentityOut)
    def put(self, data):
        """Set the fund's SIREN, legal name or fiscal year start (the fund manager and admins)."""
        return _set(legal.fund_identity(create=True), data)
