"""Signed exports: salary lines for a CAE's payroll, the FEC and Sage entries for accountants.

The body is the file's exact bytes; ``X-Ledger-Signature`` carries the detached Ed25519
signature (base64) over them and ``X-Ledger-Key-Id`` names the key (``GET /api/v1/keys/signing``).
"""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, validate, validates_schema

from ledger.api import fields
from ledger.commons.service import get_commons
from ledger.legal import commons_identity, fund_books_identity
from ledger.payouts.exports import fec, sage, salary_lines
from ledger.payouts.exports.signing import SignedExport
from ledger.payouts.service import get_cae, require_cae_access
from ledger.people.auth import require_person

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports", description="Signed salary lines and FEC exports")

SIGNATURE_HEADERS = {
    "X-Ledger-Signature": {"description": "Detached Ed25519 signature (base64) of the exact body", "schema": {"type": "string"}},
    "X-Ledger-Key-Id": {"description": "Identifier of the signing key", "schema": {"type": "string"}},
}


class SalaryLinesQuery(Schema):
    cae = fields.String(required=True, validate=validate.Length(min=1, max=32))
    period = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be a month as YYYY-MM")
    )
    analytic = fields.Boolean(
        load_default=False,
        metadata={"description": "append each member's analytic_code and contribution_rate after SPEC 4.3's columns"},
    )


class FecQuery(Schema):
    commons = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "the commons' slug"})
    fund = fields.Boolean(load_default=False, metadata={"description": "true: the solidarity fund's books"})
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    year = fields.Integer(metadata={"description": "the fiscal year beginning in this year, instead of from/to"})
    encoding = fields.String(load_default=fec.DEFAULT_ENCODING, validate=validate.OneOf(fec.ENCODINGS))

    @validates_schema
    def check_books(self, data, **kwargs):
        if bool(data.get("commons")) == data["fund"]:
            raise ValidationError(_("give a commons' slug, or fund=true, not both"), field_name="commons")
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError(_("must be on or after 'from'"), field_name="to")


def signed_response(export: SignedExport) -> Response:
    return Response(
        export.content,
        content_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Ledger-Signature": export.signature,
            "X-Ledger-Key-Id": export.key_id,
            "Cache-Control": "no-store",
        },
    )


@blp.route("/salary-lines")
class SalaryLines(MethodView):
    @blp.arguments(SalaryLinesQuery, location="query")
    @blp.response(200, description="The CSV file (SPEC 4.3)", content_type="text/csv", headers=SIGNATURE_HEADERS)
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, query):
        """The CAE's salary lines for a payroll month, signed. Only that CAE's accountant: it holds personal data.

        Exporting marks the month's pending batches of the CAE as exported and records the export.
        """
        cae = get_cae(query["cae"])
        person = require_person()
        require_cae_access(person, cae, admin_ok=False)
        return signed_response(salary_lines.export(cae, query["period"], person, query["analytic"]))


def books_query(query):
    """(identity, first day, last day, person) of the books a FEC or Sage query names, after checking who asks."""
    person = require_person()
    if query["fund"]:
        identity = fund_books_identity()
        fec.require_may_export_fund(person)
    else:
        commons = get_commons(query["commons"])
        fec.require_may_export(person, commons)
        identity = commons_identity(commons)
    start, end = fec.period(identity, query.get("from_"), query.get("to"), query.get("year"))
    return identity, start, end, person


def fec_files(query) -> fec.FecFiles:
    identity, start, end, person = books_query(query)
    return fec.export(identity, start, end, person, query["encoding"])


@blp.route("/fec")
class Fec(MethodView):
    @blp.arguments(FecQuery, location="query")
    @blp.response(200, description="The FEC file (SPEC 4.4)", content_type="text/plain", headers=SIGNATURE_HEADERS)
    @blp.doc(responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    def get(self, query):
        """A commons' (or the fund's) FEC between two dates inclusive or over a fiscal year, signed.

        Named ``{SIREN}FEC{AAAAMMJJ}.txt``, ISO 8859-15 unless ``encoding=utf-8``. Stewards,
        accountants and admins (the fund: its manager, accountants and admins).
        """
        return signed_response(fec_files(query).fec)


@blp.route("/fec/description")
class FecDescription(MethodView):
    @blp.arguments(FecQuery, location="query")
    @blp.response(200, description="The FEC's description file (BOFIP)", content_type="text/plain", headers=SIGNATURE_HEADERS)
    @blp.doc(responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    def get(self, query):
        """The description that accompanies the same FEC: its fields, the accounting system, the encoding; signed."""
        return signed_response(fec_files(query).description)


@blp.route("/sage")
class Sage(MethodView):
    @blp.arguments(FecQuery, location="query")
    @blp.response(200, description="Entries as a Sage-compatible CSV", content_type="text/csv", headers=SIGNATURE_HEADERS)
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, query):
        """The same entries as the FEC (without à-nouveaux) in the columns a CAE's Sage import expects, signed.

        General lines and analytic lines carrying CAE members' analytic codes; see docs/exports.md.
        """
        identity, start, end, person = books_query(query)
        return signed_response(sage.export(identity, start, end, person))
