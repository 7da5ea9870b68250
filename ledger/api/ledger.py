"""The public ledger, its verification and the signing key."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ledger.accounts.models import LedgerTransaction, Posting
from ledger.accounts.signing import current_key
from ledger.accounts.verify import verify_ledger
from ledger.api import fields
from ledger.api.fields import Id
from ledger.extensions import db

blp = Blueprint("ledger", __name__, url_prefix="/api/v1", description="The public, verifiable ledger")


class PostingOut(Schema):
    account = fields.String(attribute="account.code")
    account_type = fields.String(attribute="account.type")
    amount_cents = fields.Integer()
    memo = fields.String()


class TransactionOut(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    kind = fields.String()
    memo = fields.String()
    occurred_on = fields.Date()
    recorded_at = fields.String()
    commons_id = fields.Integer(allow_none=True)
    round_id = fields.Integer(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String()
    signature = fields.String()
    key_id = fields.String()
    postings = fields.List(fields.Nested(PostingOut))


class TransactionPage(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    items = fields.List(fields.Nested(TransactionOut))


class TransactionQuery(Schema):
    # The API's one paging convention (as GET /contributions): limit and offset.
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
    commons_id = Id(load_default=None)
    round_id = Id(load_default=None)
    kind = fields.String(load_default=None, validate=validate.Length(max=40))


class VerifyOut(Schema):
    ok = fields.Boolean()
    checked = fields.Integer()
    last_hash = fields.String()
    first_bad = fields.Dict(allow_none=True)


class SigningKeyOut(Schema):
    algorithm = fields.String()
    key_id = fields.String()
    public_key_pem = fields.String()


@blp.route("/ledger/transactions")
class Transactions(MethodView):
    @blp.arguments(TransactionQuery, location="query")
    @blp.response(200, TransactionPage)
    def get(self, query):
        """Ledger transactions, newest first, with their postings, hashes and signatures."""
        conditions = []
        if query["commons_id"] is not None:
            conditions.append(LedgerTransaction.commons_id == query["commons_id"])
        if query["round_id"] is not None:
            conditions.append(LedgerTransaction.round_id == query["round_id"])
        if query["kind"]:
            conditions.append(LedgerTransaction.kind == query["kind"])
        total = db.session.scalar(select(func.count(LedgerTransaction.id)).where(*conditions))
        items = db.session.scalars(
            select(LedgerTransaction)
            .where(*conditions)
            .options(selectinload(LedgerTransaction.postings).selectinload(Posting.account))
            .order_by(LedgerTransaction.seq.desc())
            .offset(query["offset"])
            .limit(query["limit"])
        ).all()
        return {"total": total, "limit": query["limit"], "offset": query["offset"], "items": items}


@blp.route("/ledger/verify")
class Verify(MethodView):
    @blp.response(200, VerifyOut)
    def get(self):
        """Check the whole chain: links, hashes, balances and signatures; names the first bad transaction."""
        return verify_ledger(current_key()).as_dict()


@blp.route("/keys/signing")
class SigningKey(MethodView):
    @blp.response(200, SigningKeyOut)
    def get(self):
        """The installation's Ed25519 public key: checks ledger signatures and signed exports."""
        key = current_key()
        return {"algorithm": "Ed25519", "key_id": key.key_id, "public_key_pem": key.public_pem}
