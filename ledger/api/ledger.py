"""The public ledger, its verification and the signing key."""

from __future__ import annotations

import base64

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ledger.accounts import receipts
from ledger.accounts.checkpoints import latest
from ledger.accounts.models import TRANSACTION_KINDS, Checkpoint, LedgerTransaction, Posting, SigningKeyRecord
from ledger.accounts.signing import current_key
from ledger.accounts.verify import verify_ledger
from ledger.api import fields
from ledger.api.fields import Id
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.people.auth import public

blp = Blueprint("ledger", __name__, url_prefix="/api/v1", description="The public, verifiable ledger")


class PostingOut(Schema):
    account = fields.String(attribute="account.code")
    account_type = fields.String(attribute="account.type")
    amount_cents = fields.Integer()
    memo = fields.String()


class TransactionOut(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    kind = fields.String(validate=validate.OneOf(TRANSACTION_KINDS))  # documents the enum
    memo = fields.String()
    occurred_on = fields.Date()
    recorded_at = fields.String()
    commons_id = fields.Integer(allow_none=True)
    round_id = fields.Integer(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String()
    content_hash = fields.String(
        allow_none=True, metadata={"description": "format 3: the hash of the content; `hash` links it to its place"}
    )
    format = fields.Integer()
    signature = fields.String()
    key_id = fields.String()
    postings = fields.List(fields.Nested(PostingOut))


class TransactionPage(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    items = fields.List(fields.Nested(TransactionOut))


class PageQuery(Schema):
    # The API's one paging convention (as GET /contributions): limit and offset.
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class TransactionQuery(PageQuery):
    commons_id = Id(load_default=None)
    round_id = Id(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(TRANSACTION_KINDS))


class VerifyOut(Schema):
    ok = fields.Boolean()
    checked = fields.Integer()
    checkpoints = fields.Integer()
    last_hash = fields.String()
    root = fields.String(allow_none=True)
    first_bad = fields.Dict(allow_none=True)
    notes = fields.List(fields.String())


class KeyHistoryOut(Schema):
    key_id = fields.String()
    public_key = fields.String(metadata={"description": "base64 of the raw 32-byte Ed25519 public key"})
    added_at = fields.String()
    announced_by = fields.String(allow_none=True, metadata={"description": "the key that signed this one's arrival"})
    announcement = fields.String(allow_none=True)


class SigningKeyOut(Schema):
    algorithm = fields.String()
    key_id = fields.String()
    public_key_pem = fields.String()
    origin = fields.String(metadata={"description": "the key name in signed checkpoints (C2SP origin)"})
    history = fields.List(
        fields.Nested(KeyHistoryOut), metadata={"description": "every key that signed the ledger, oldest first"}
    )


class CheckpointOut(Schema):
    size = fields.Integer()
    root = fields.Method("root_b64", metadata={"description": "RFC 6962 root, base64"})
    chain_head = fields.String()
    created_at = fields.String()
    key_id = fields.String()
    note = fields.String(metadata={"description": "the C2SP signed note"})

    def root_b64(self, checkpoint):
        return base64.b64encode(bytes.fromhex(checkpoint.root)).decode()


class CheckpointPage(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    items = fields.List(fields.Nested(CheckpointOut))


class ConsistencyQuery(Schema):
    from_ = fields.Integer(data_key="from", required=True, validate=validate.Range(min=1, max=2**31 - 1))
    to = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class ConsistencyOut(Schema):
    from_ = fields.Integer(data_key="from", attribute="from")
    to = fields.Integer()
    from_root = fields.String()
    to_root = fields.String()
    proof = fields.List(fields.String(), metadata={"description": "RFC 6962 consistency proof, base64 hashes"})
    from_checkpoint = fields.String(allow_none=True)
    to_checkpoint = fields.String(allow_none=True)


class ReceiptOut(Schema):
    format = fields.String()
    transaction_id = fields.Integer()
    transaction = fields.Dict(metadata={"description": "the transaction exactly as hashed (format 3: its content)"})
    content_hash = fields.String(metadata={"description": "format 3: SHA-256 of the transaction's canonical JSON"})
    seq = fields.Integer(metadata={"description": "format 3: its place in the ledger"})
    prev = fields.String(metadata={"description": "format 3: the hash of the transaction before it"})
    hash = fields.String()
    leaf_index = fields.Integer()
    tree_size = fields.Integer()
    audit_path = fields.List(fields.String())
    checkpoint = fields.String()
    key_id = fields.String()


@blp.route("/ledger/transactions")
class Transactions(MethodView):
    @public
    @blp.arguments(TransactionQuery, location="query")
    @blp.response(200, TransactionPage)
    def get(self, query):
        """Ledger transactions, newest first, with their postings, hashes and signatures."""
        conditions = [LedgerTransaction.seq.is_not(None)]  # the log: what the sequencer has placed
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
    @public
    @blp.response(200, VerifyOut)
    def get(self):
        """Check the whole chain: links, hashes, balances and signatures; names the first bad transaction."""
        return verify_ledger().as_dict()


@blp.route("/keys/signing")
class SigningKey(MethodView):
    @public
    @blp.response(200, SigningKeyOut)
    def get(self):
        """The installation's Ed25519 public key, and every key that ever signed the ledger."""
        from flask import current_app

        key = current_key()
        history = db.session.scalars(select(SigningKeyRecord).order_by(SigningKeyRecord.id)).all()
        return {
            "algorithm": "Ed25519",
            "key_id": key.key_id,
            "public_key_pem": key.public_pem,
            "origin": current_app.config["LEDGER_ORIGIN"],
            "history": history,
        }


@blp.route("/ledger/checkpoints")
class Checkpoints(MethodView):
    @public
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, CheckpointPage)
    def get(self, query):
        """Signed checkpoints, oldest first: save one, check later that the ledger extends it."""
        total = db.session.scalar(select(func.count(Checkpoint.id)))
        items = db.session.scalars(
            select(Checkpoint).order_by(Checkpoint.size).offset(query["offset"]).limit(query["limit"])
        ).all()
        return {"total": total, "limit": query["limit"], "offset": query["offset"], "items": items}


@blp.route("/ledger/checkpoints/latest")
class LatestCheckpoint(MethodView):
    @public
    @blp.response(200, CheckpointOut)
    def get(self):
        """The latest signed checkpoint."""
        checkpoint = latest()
        if checkpoint is None:
            raise NotFound(_l("The ledger has no checkpoint yet."))
        return checkpoint


@blp.route("/ledger/consistency")
class Consistency(MethodView):
    @public
    @blp.arguments(ConsistencyQuery, location="query")
    @blp.response(200, ConsistencyOut)
    def get(self, query):
        """An RFC 6962 consistency proof: the tree of size `from` is a prefix of the tree of size `to`."""
        return receipts.consistency(query["from_"], query["to"])


@blp.route("/ledger/transactions/<int:tx_id>/receipt")
class Receipt(MethodView):
    @public
    @blp.response(200, ReceiptOut)
    def get(self, tx_id):
        """The inclusion receipt of a transaction: checkable offline with the public key alone."""
        return receipts.receipt(tx_id)
