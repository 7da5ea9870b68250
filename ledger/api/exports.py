"""Signed exports: salary lines for a CAE's payroll, the FEC for a commons' accountant.

The body is the file's exact bytes; ``X-Ledger-Signature`` carries the detached Ed25519
signature (base64) over them and ``X-Ledger-Key-Id`` names the key (``GET /api/v1/keys/signing``).
"""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, validate, validates_schema

from ledger.api import fields
from ledger.commons.service import get_commons
from ledger.payouts.exports import fec, salary_lines
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


class FecQuery(Schema):
    commons = fields.String(required=True, validate=validate.Length(min=1, max=64))
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)

    @validates_schema
    def check_range(self, data, **kwargs):
        if data["to"] < data["from_"]:
            raise ValidationError("must be on or after 'from'", field_name="to")


def signed_response(export: SignedExport) -> Response:
    return Response(
        export.content,
        mimetype=export.media_type.split(";")[0],
        headers={
            "Content-Type": export.media_type,
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
        return signed_response(salary_lines.export(cae, query["period"], person))


@blp.route("/fec")
class Fec(MethodView):
    @blp.arguments(FecQuery, location="query")
    @blp.response(200, description="The FEC file (SPEC 4.4)", content_type="text/tab-separated-values", headers=SIGNATURE_HEADERS)
    @blp.doc(responses={200: {"content": {"text/tab-separated-values": {"schema": {"type": "string"}}}}})
    def get(self, query):
        """The commons' FEC between two dates (inclusive), signed. Stewards, accountants and admins."""
        commons = get_commons(query["commons"])
        person = require_person()
        fec.require_may_export(person, commons)
        return signed_response(fec.export(commons, query["from_"], query["to"], person))
