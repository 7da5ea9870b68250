"""The JSON API under /api/v1: one blueprint per resource, documented by OpenAPI."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from flask_smorest import Api
from marshmallow import fields as ma_fields

from ledger.extensions import csrf


class ErrorDetail(ma.Schema):
    code = ma_fields.String(required=True, metadata={"example": "validation_failed"})
    message = ma_fields.String(required=True)
    fields = ma_fields.Dict(
        keys=ma_fields.String(),
        values=ma_fields.List(ma_fields.String()),
        metadata={"description": "messages per field; empty when the error is not about a field"},
    )


class ErrorEnvelope(ma.Schema):
    """The one shape of every API error (documented, so clients and schema checks can rely on it)."""

    error = ma_fields.Nested(ErrorDetail, required=True)


class LedgerApi(Api):
    """flask-smorest's Api, answering errors with the service's own envelope."""

    ERROR_SCHEMA = ErrorEnvelope

    def handle_http_exception(self, error):
        from ledger.errors import handle_http_exception

        return handle_http_exception(error)


api = LedgerApi()


def register_api(app: Flask) -> None:
    from ledger.api import (
        categories,
        commons,
        contributions,
        exports,
        fund,
        governance,
        ledger,
        legal,
        payouts,
        people,
        review,
        rounds,
        rules,
    )
    from ledger.api.openapi import ContractPlugin, register_refusals

    api.init_app(app, spec_kwargs={"extra_plugins": [ContractPlugin(app)]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    register_refusals(api.spec)
    for module in (
        commons,
        ledger,
        people,
        contributions,
        review,
        categories,
        payouts,
        exports,
        rules,
        rounds,
        fund,
        legal,
        governance,
    ):
        csrf.exempt(module.blp)  # bearer tokens, not cookies: no CSRF to protect against
        api.register_blueprint(module.blp)
