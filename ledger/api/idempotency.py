"""Idempotency keys: a retried POST with the same key returns the first answer, stores nothing.

A replay record holds the request's digest and the first answer, encrypted with the data keys
(an answer may name a person or carry a payroll identifier), and lives only as long as a key is
honoured (``LEDGER_IDEMPOTENCY_HOURS``): past that the key is forgotten and the record purged.
"""

from __future__ import annotations

import functools
import hashlib

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger.crypto import DataKeyError, decrypt, encrypt
from ledger.errors import Conflict, field_error
from ledger.extensions import db
from ledger.people.auth import require_person
from ledger.people.models import IdempotencyRecord
from ledger.people.service import key_lifetime
from ledger.timeutil import as_utc, utcnow

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 80},
    "description": "A retry with the same key and body replays the first answer instead of acting twice "
    "(honoured for LEDGER_IDEMPOTENCY_HOURS, 24 by default).",
}


def idempotent(view):
    """Wrap a POST view: with an ``Idempotency-Key`` header, the first response is replayed.

    Reusing a key for a different request body is refused with 409, as a client bug. Put it
    above the flask-smorest decorators, so that it stores the response exactly as sent.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 80:
            raise field_error("Idempotency-Key", _l("must be 1 to 80 characters"))
        person = require_person()
        body_hash = hashlib.sha256(request.get_data()).hexdigest()
        endpoint = f"{request.method} {request.path}"
        previous = db.session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.person_id == person.id, IdempotencyRecord.key == key)
        )
        if previous is not None and as_utc(previous.created_at) < utcnow() - key_lifetime():
            db.session.delete(previous)  # expired, not purged yet: the key is free again
            db.session.flush()
            previous = None
        if previous is not None:
            if previous.endpoint != endpoint or previous.request_hash != body_hash:
                raise Conflict(
                    _l("This Idempotency-Key was already used for a different request."),
                    fields={"Idempotency-Key": [_l("already used for another request")]},
                )
            try:
                body = decrypt(previous.response_encrypted)
            except DataKeyError as exc:  # encrypted under a key rotated away since: cannot replay
                raise Conflict(
                    _l("This Idempotency-Key can no longer be replayed; send the request with a new key."),
                    fields={"Idempotency-Key": [_l("expired")]},
                ) from exc
            return current_app.response_class(
                body,
                status=previous.status_code,
                mimetype="application/json",
                headers={"Idempotent-Replay": "true"},
            )
        response = current_app.make_response(view(*args, **kwargs))
        record = IdempotencyRecord(
            person_id=person.id,
            key=key,
            endpoint=endpoint,
            request_hash=body_hash,
            status_code=response.status_code,
            response_encrypted=encrypt(response.get_data(as_text=True)),
        )
        db.session.add(record)
        try:
            db.session.flush()
        except IntegrityError as exc:
            # A concurrent retry won the race; its answer is the one. No savepoint is needed: the
            # 409 rolls the whole request back, the work this one just did included.
            raise Conflict(_l("A request with this Idempotency-Key is already being processed; retry shortly.")) from exc
        return response

    wrapper._idempotent = True  # read by ledger.api.openapi, which documents the header
    return wrapper
