"""Extensions, created once and bound to an application in the factory."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import Babel
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from marshmallow import fields as ma_fields
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


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


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
babel = Babel()
api = LedgerApi()
