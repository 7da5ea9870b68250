"""signed checkpoints over a Merkle tree of the ledger, and the signing keys' history

Builds the tree over the transactions that exist and writes a first checkpoint signed with the
installation key (``LEDGER_SIGNING_KEY_FILE``, as ``ledger init`` passes it; without the key
the application's next commit writes it); the transactions' own signatures stay and are still
verified. Self-contained on purpose: a migration must run the
same way in a year, whatever the application code has become.

Revision ID: 0004_checkpoints
Revises: 0003_race_guards
"""

import base64
import hashlib
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision = "0004_checkpoints"
down_revision = "0003_race_guards"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_checkpoints", "ledger_signing_keys")


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("chain_head", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoints")),
        sa.UniqueConstraint("hash", name=op.f("uq_ledger_checkpoints_hash")),
        sa.UniqueConstraint("size", name=op.f("uq_ledger_checkpoints_size")),
    )
    op.create_table(
        "ledger_signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("announced_by", sa.String(length=16), nullable=True),
        sa.Column("announcement", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_signing_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_ledger_signing_keys_key_id")),
    )
    # ADD COLUMN, not a table rebuild: the append-only triggers stay and no row is rewritten.
    op.add_column("ledger_transactions", sa.Column("format", sa.Integer(), server_default="1", nullable=False))
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "postgresql":  # ledger_refuse_change() comes from revision 0001
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
        else:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {verb} on {table} refused'); END"
                )
    _first_checkpoint(bind)


def _first_checkpoint(bind) -> None:
    """The tree over the existing transactions, and its checkpoint (nothing for an empty ledger)."""
    hashes = [row[0] for row in bind.execute(sa.text("SELECT hash FROM ledger_transactions ORDER BY seq"))]
    if not hashes:
        return
    from cryptography.hazmat.primitives import serialization

    attributes = context.config.attributes
    key_file = attributes.get("signing_key_file") or os.environ.get("LEDGER_SIGNING_KEY_FILE")
    if not key_file:
        instance = os.environ.get("LEDGER_INSTANCE_DIR", str(Path.cwd() / "instance"))
        key_file = str(Path(instance) / "signing_key.pem")
    if not Path(key_file).exists():
        # The application's next commit writes the first checkpoint over everything instead.
        logging.getLogger("alembic").warning("signing key %s not found: the first checkpoint waits for the next commit", key_file)
        return
    private = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(public).hexdigest()[:16]
    origin = attributes.get("origin") or os.environ.get("LEDGER_ORIGIN", "localhost/ledger")
    now = datetime.now(UTC)
    bind.execute(
        sa.text("INSERT INTO ledger_signing_keys (key_id, public_key, added_at) VALUES (:k, :p, :t)"),
        {"k": key_id, "p": base64.b64encode(public).decode(), "t": now.isoformat(timespec="seconds")},
    )
    # RFC 6962 over the transactions' hashes, kept as the compact frontier the application extends.
    frontier: list[bytes] = []
    for size, digest in enumerate(hashes):
        node = hashlib.sha256(b"\x00" + bytes.fromhex(digest)).digest()
        while size & 1:
            node = hashlib.sha256(b"\x01" + frontier.pop() + node).digest()
            size >>= 1
        frontier.append(node)
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = hashlib.sha256(b"\x01" + left + root).digest()
    body = f"{origin}\n{len(hashes)}\n{base64.b64encode(root).decode()}\nchain {hashes[-1]}\n"
    key_hash = hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    signature = base64.b64encode(key_hash + private.sign(body.encode())).decode()
    row = {
        "size": len(hashes),
        "root": root.hex(),
        "chain_head": hashes[-1],
        "created_at": now.isoformat(timespec="microseconds"),
        "key_id": key_id,
        "note": f"{body}\n\u2014 {origin} {signature}\n",
        "frontier": " ".join(h.hex() for h in frontier),
    }
    payload = dict(row, prev="0" * 64)
    row.update(
        prev_hash="0" * 64, hash=hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    )
    bind.execute(
        sa.text(
            "INSERT INTO ledger_checkpoints (size, root, chain_head, created_at, key_id, note, frontier, prev_hash, hash) "
            "VALUES (:size, :root, :chain_head, :created_at, :key_id, :note, :frontier, :prev_hash, :hash)"
        ),
        row,
    )


def downgrade() -> None:
    # Dropping the tables is the only way back; checkpoints are append-only otherwise.
    op.drop_column("ledger_transactions", "format")
    op.drop_table("ledger_signing_keys")
    op.drop_table("ledger_checkpoints")
