"""`ledger export salary-lines`, `ledger export fec`, `ledger export sage`, `ledger legal set` and `ledger keys rotate`.

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
@click.option(
    "--analytic", is_flag=True, help="Append each member's analytic code and contribution rate after SPEC 4.3's columns."
)
@with_appcontext
def salary_lines_command(cae_code: str, period: str, out: str | None, analytic: bool) -> None:
    """Write the CAE's salary lines for a month, with a detached signature, and mark its batches exported."""
    from ledger.payouts.exports import salary_lines
    from ledger.payouts.service import get_cae

    try:
        export = salary_lines.export(get_cae(cae_code), period, None, analytic)
    except LedgerError as exc:
        _fail(exc.message)
    _write(export, out)
    db.session.commit()


@export_group.command("fec")
@click.option("--commons", "slug", default=None, help="The commons' slug.")
@click.option("--fund", is_flag=True, help="The solidarity fund's books instead of a commons'.")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
@click.option("--year", type=int, default=None, help="The fiscal year beginning in this year, instead of --from/--to.")
@click.option("--encoding", type=click.Choice(["iso-8859-15", "utf-8"]), default="iso-8859-15", show_default=True)
@click.option("--out", default=None, help="Output file (default: SIRENFECYYYYMMDD.txt); FILE.sig and the description beside it.")
@with_appcontext
def fec_command(slug: str | None, fund: bool, start, end, year: int | None, encoding: str, out: str | None) -> None:
    """Write the FEC of a commons (or the fund), its description file, and their detached signatures."""
    from ledger.commons.service import get_commons
    from ledger.legal import commons_identity, fund_books_identity
    from ledger.payouts.exports import fec

    if bool(slug) == fund:
        _fail("give --commons SLUG or --fund")
    try:
        identity = fund_books_identity() if fund else commons_identity(get_commons(slug))
        first, last = fec.period(identity, start and start.date(), end and end.date(), year)
        files = fec.export(identity, first, last, None, encoding)
    except LedgerError as exc:
        _fail(exc.message)
    path = Path(out or files.fec.filename)
    _write(files.fec, str(path))
    _write(files.description, str(path.with_name(files.description.filename if out is None else path.stem + "_description.txt")))
    db.session.commit()


@export_group.command("sage")
@click.option("--commons", "slug", default=None, help="The commons' slug.")
@click.option("--fund", is_flag=True, help="The solidarity fund's books instead of a commons'.")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
@click.option("--year", type=int, default=None, help="The fiscal year beginning in this year, instead of --from/--to.")
@click.option("--out", default=None, help="Output file (default: SIRENSAGEfrom-to.csv); FILE.sig is written beside it.")
@with_appcontext
def sage_command(slug: str | None, fund: bool, start, end, year: int | None, out: str | None) -> None:
    """Write the entries of a commons (or the fund) as a Sage-compatible CSV, with a detached signature."""
    from ledger.commons.service import get_commons
    from ledger.legal import commons_identity, fund_books_identity
    from ledger.payouts.exports import fec, sage

    if bool(slug) == fund:
        _fail("give --commons SLUG or --fund")
    try:
        identity = fund_books_identity() if fund else commons_identity(get_commons(slug))
        first, last = fec.period(identity, start and start.date(), end and end.date(), year)
        export = sage.export(identity, first, last, None)
    except LedgerError as exc:
        _fail(exc.message)
    _write(export, out)
    db.session.commit()


@click.group("legal")
def legal_group() -> None:
    """Legal identities (SIREN, legal name, fiscal year) that name and date the FEC."""


@legal_group.command("set")
@click.option("--commons", "slug", default=None, help="A commons' slug.")
@click.option("--cae", "cae_code", default=None, help="A CAE's code.")
@click.option("--fund", is_flag=True, help="The solidarity fund.")
@click.option("--siren", default=None, help="9 digits (empty to clear).")
@click.option("--legal-name", default=None)
@click.option("--fiscal-year-start", default=None, help="First day of the fiscal year, MM-DD (default 01-01).")
@with_appcontext
def legal_set_command(slug, cae_code, fund, siren, legal_name, fiscal_year_start) -> None:
    """Set the legal identity of one commons, CAE or the fund."""
    from ledger import legal
    from ledger.commons.service import get_commons
    from ledger.payouts.service import get_cae

    if sum(bool(x) for x in (slug, cae_code, fund)) != 1:
        _fail("give exactly one of --commons, --cae, --fund")
    try:
        holder = get_commons(slug) if slug else get_cae(cae_code) if cae_code else legal.fund_identity(create=True)
        legal.set_identity(holder, siren=siren, legal_name=legal_name, fiscal_year_start=fiscal_year_start)
    except LedgerError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(
        f"SIREN {holder.siren or '-'}, {holder.legal_name or '(no legal name)'}, fiscal year from {holder.fiscal_year_start}"
    )


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
    """Re-encrypt every employee reference (and idempotency replay record) under a new data key,
    then forget the old keys.

    Exports stay verifiable: they are signed with the ledger's Ed25519 key, not the data key.
    """
    from ledger.crypto import DataKeyError, forget_old_keys, reencrypt, rotate
    from ledger.payouts.models import CaeMembership
    from ledger.people.models import IdempotencyRecord

    try:
        count = rotate(db.session.scalars(select(CaeMembership).order_by(CaeMembership.id)).all(), "employee_ref_encrypted")
        reencrypt(db.session.scalars(select(IdempotencyRecord)).all(), "response_encrypted")
        db.session.commit()
    except DataKeyError as exc:
        _fail(str(exc))
    forget_old_keys()
    click.echo(f"data key rotated: {count} values re-encrypted")
