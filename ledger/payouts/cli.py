"""`ledger export salary-lines`, `ledger export fec` and `ledger keys rotate`.

Each command commits once at the end; a refusal rolls back, prints why and exits 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.payouts.exports.signing import write_files


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _write(export, out: str | None) -> None:
    path = Path(out or export.filename)
    sig_path = write_files(export, path)
    rows = export.content.count(b"\n") - 1
    click.echo(f"wrote {path} ({rows} lines, sha256 {export.sha256}) and its signature {sig_path} (key {export.key_id})")


@click.group("export")
def export_group() -> None:
    """Signed exports for accountants."""


@export_group.command("salary-lines")
@click.option("--cae", "cae_code", required=True, help="The CAE's code.")
@click.option("--period", required=True, help="The payroll month, YYYY-MM.")
@click.option("--out", default=None, help="Output file (default: salary-lines-CAE-PERIOD.csv); FILE.sig is written beside it.")
@with_appcontext
def salary_lines_command(cae_code: str, period: str, out: str | None) -> None:
    """Write the CAE's salary lines for a month, with a detached signature, and mark its batches exported."""
    from ledger.payouts.exports import salary_lines
    from ledger.payouts.service import get_cae

    try:
        export = salary_lines.export(get_cae(cae_code), period, None)
    except LedgerError as exc:
        _fail(exc.message)
    _write(export, out)
    db.session.commit()


@export_group.command("fec")
@click.option("--commons", "slug", required=True, help="The commons' slug.")
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
@click.option("--out", default=None, help="Output file (default: SLUG-FECYYYYMMDD.txt); FILE.sig is written beside it.")
@with_appcontext
def fec_command(slug: str, start, end, out: str | None) -> None:
    """Write the FEC of a commons between two dates (inclusive), with a detached signature."""
    from ledger.commons.service import get_commons
    from ledger.payouts.exports import fec

    try:
        export = fec.export(get_commons(slug), start.date(), end.date(), None)
    except LedgerError as exc:
        _fail(exc.message)
    _write(export, out)
    db.session.commit()


@click.group("keys")
def keys_group() -> None:
    """Manage the keys that protect personal data and sign the ledger."""


@keys_group.command("rotate-signing")
@with_appcontext
def keys_rotate_signing_command() -> None:
    """Replace the ledger's signing key; the old public key stays in the published history.

    Everything signed before still verifies with the old public key; the new key's arrival is
    signed by the old one, so that verifiers can tell a rotation from a key swapped in secret.
    """
    from ledger.accounts.checkpoints import install_signing_key, rotate_signing_key

    old, new = rotate_signing_key()
    db.session.commit()
    install_signing_key()
    click.echo(f"signing key rotated: {old} -> {new}; publish the key history (GET /api/v1/keys/signing)")


@keys_group.command("rotate")
@with_appcontext
def keys_rotate_command() -> None:
    """Re-encrypt every employee reference under a new data key, then forget the old keys.

    Exports stay verifiable: they are signed with the ledger's Ed25519 key, not the data key.
    """
    from ledger.crypto import DataKeyError, forget_old_keys, rotate
    from ledger.payouts.models import CaeMembership

    try:
        count = rotate(db.session.scalars(select(CaeMembership).order_by(CaeMembership.id)).all(), "employee_ref_encrypted")
        db.session.commit()
    except DataKeyError as exc:
        _fail(str(exc))
    forget_old_keys()
    click.echo(f"data key rotated: {count} values re-encrypted")
