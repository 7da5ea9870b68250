"""The `ledger` console script: a Flask CLI group around ``create_app``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from ledger import create_app
from ledger.extensions import db


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Contributive budget and co-remuneration ledger."""


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@cli.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from ledger.migrate import upgrade

    config = current_app.config
    upgrade(config["SQLALCHEMY_DATABASE_URI"], signing_key_file=config["LEDGER_SIGNING_KEY_FILE"], origin=config["LEDGER_ORIGIN"])
    click.echo(f"database at the latest revision: {db.engine.url.render_as_string(hide_password=True)}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Do not run the round scheduler in this process.")
@with_appcontext
def serve_command(host: str, port: int, no_scheduler: bool) -> None:
    """Serve the web application (and the scheduler, if this process wins its lock)."""
    from ledger.server import LedgerServer

    click.echo(f"serving on http://{host}:{port} (Ctrl+C to stop)")
    LedgerServer(current_app._get_current_object(), host, port, with_scheduler=not no_scheduler).run()


@cli.group("users")
def users() -> None:
    """Manage people."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", default=None, help="Omit to create a person who logs in with a token only.")
@click.option("--admin", is_flag=True)
@with_appcontext
def users_create(email: str, name: str, password: str | None, admin: bool) -> None:
    """Create a person."""
    from ledger.errors import LedgerError
    from ledger.people.service import create_person

    try:
        person = create_person(email, name, password, admin=admin)
        db.session.commit()
    except LedgerError as exc:
        fail(exc.message)
    click.echo(f"created person {person.id} <{person.email}>{' (admin)' if admin else ''}")


@users.command("end-sessions")
@click.option("--email", required=True)
@with_appcontext
def users_end_sessions(email: str) -> None:
    """Log this person out on every device (a lost phone, a copied cookie); API tokens are revoked apart."""
    from ledger.people.service import end_sessions, find_by_email

    person = find_by_email(email)
    if person is None:
        fail(f"no person with email {email}")
    end_sessions(person)
    db.session.commit()
    click.echo(f"every session of <{person.email}> ended")


@cli.group("tokens")
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--label", default="cli")
@with_appcontext
def tokens_create(email: str, label: str) -> None:
    """Print a new API token for that person (shown once)."""
    from ledger.people.service import create_token, find_by_email

    person = find_by_email(email)
    if person is None:
        fail(f"no person with email {email}")
    token = create_token(person, label)
    db.session.commit()
    click.echo(token)


@cli.command("purge-idempotency-keys")
@with_appcontext
def purge_idempotency_command() -> None:
    """Delete the idempotency replay records past LEDGER_IDEMPOTENCY_HOURS (the scheduler does it hourly)."""
    from ledger.people.service import purge_expired_keys

    count = purge_expired_keys()
    db.session.commit()
    click.echo(f"{count} expired idempotency records deleted")


@cli.command("outbox")
@with_appcontext
def outbox_command() -> None:
    """List the mails written to instance/outbox/ (when no LEDGER_SMTP_URL is set)."""
    from ledger.mail import outbox, outbox_dir

    rows = outbox()
    for row in rows:
        click.echo(f"{row['date']}  {row['to']}  {row['subject']}  ({row['file']})")
    click.echo(f"{len(rows)} message(s) in {outbox_dir()}")


@cli.command("verify")
@click.option(
    "--against",
    "against",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint saved earlier (signed note, or the checkpoints API's JSON): the ledger must extend it.",
)
@with_appcontext
def verify_command(against: tuple[str, ...]) -> None:
    """Check the chain, the Merkle tree and the signed checkpoints; exit 1 naming the first bad one."""
    from pathlib import Path

    from ledger.accounts.checkpoints import NoteError
    from ledger.accounts.verify import count_transactions, parse_saved, verify_ledger

    try:
        saved = [note for path in against for note in parse_saved(Path(path).read_text(encoding="utf-8"))]
    except (NoteError, ValueError, KeyError, TypeError) as exc:
        fail(f"--against: not a saved checkpoint ({exc})")
    progress = None
    if sys.stderr.isatty():
        total = count_transactions()
        bar = click.progressbar(length=total, label="verifying", file=sys.stderr)
        done = [0]

        def progress(checked: int) -> None:
            bar.update(checked - done[0])
            done[0] = checked

    report = verify_ledger(against=saved, progress=progress)
    if progress:
        bar.render_finish()
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if report.ok:
        extends = f"; extends {len(saved)} saved checkpoint(s)" if saved else ""
        click.echo(
            f"ledger intact: {report.checked} transactions, last hash {report.last_hash}; "
            f"{report.checkpoints} signed checkpoints, root {report.root}{extends}"
        )
        return
    if report.first_bad_id is not None:
        where = f"transaction id={report.first_bad_id} (seq {report.first_bad_seq})"
    else:
        where = (
            f"checkpoint of size {report.first_bad_checkpoint}"
            if report.first_bad_checkpoint is not None
            else f"seq {report.first_bad_seq}"
        )
    click.echo(f"ledger BROKEN at {where}: {report.reason}", err=True)
    sys.exit(1)


@cli.command("verify-receipt")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False),
    help="The signer's public key (PEM, or base64 of the raw key); default: this installation's key history.",
)
@with_appcontext
def verify_receipt_command(path: str, public_key: str | None) -> None:
    """Check an inclusion receipt offline: the transaction, its audit path and the signed checkpoint."""
    import base64
    import json
    from pathlib import Path

    from ledger.accounts.receipts import check_receipt

    try:
        receipt = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"{path} is not a JSON receipt ({exc})")
    if public_key:
        keys = [_raw_public_key(Path(public_key).read_bytes())]
    else:
        from ledger.accounts.models import SigningKeyRecord

        keys = [base64.b64decode(k) for k in db.session.scalars(db.select(SigningKeyRecord.public_key))]
    results = [check_receipt(receipt, key) for key in keys] or [["no public key to check the checkpoint with"]]
    problems = min(results, key=len)
    if problems:
        for problem in problems:
            click.echo(f"receipt REFUSED: {problem}", err=True)
        sys.exit(1)
    tx = receipt["transaction"]
    click.echo(
        f"receipt valid: transaction seq {receipt.get('seq', tx.get('seq'))} ({tx['kind']}) is in the ledger of "
        f"{receipt['tree_size']} transactions"
    )
    for account, amount_cents, *_ in tx["postings"]:
        click.echo(f"  {account}: {amount_cents} cents")


def _raw_public_key(data: bytes) -> bytes:
    import base64

    from cryptography.hazmat.primitives import serialization

    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64decode(data.strip())


@cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load a realistic demo installation into an empty database and print the demo logins."""
    from ledger.demo import DemoRefused, load_demo

    try:
        logins = load_demo()
    except DemoRefused as exc:
        fail(str(exc))
    db.session.commit()
    click.echo("Demo loaded. Logins (password for all: demo-password):")
    for role, email in logins:
        click.echo(f"  {role:<28} {email}")


def _register_payout_commands() -> None:
    from ledger.payouts.cli import export_group, keys_group, legal_group

    cli.add_command(export_group)
    cli.add_command(keys_group)
    cli.add_command(legal_group)


_register_payout_commands()


def _register_round_commands() -> None:
    from ledger.rounds.cli import rounds_group, scheduler_command

    cli.add_command(scheduler_command)
    cli.add_command(rounds_group)


_register_round_commands()


def _register_fund_commands() -> None:
    from ledger.fund.cli import fund_group

    cli.add_command(fund_group)


_register_fund_commands()


@cli.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The backup file to write (a zip).")
@with_appcontext
def backup_command(out: str) -> None:
    """Write the whole database to one file (keys are not included: save them apart)."""
    from pathlib import Path

    from ledger.backup import KEYS_NOTICE, write_backup

    summary = write_backup(db.engine, Path(out), progress=lambda name, n: click.echo(f"  {name}: {n} rows", err=True))
    click.echo(
        f"backup written to {out}: {sum(summary.tables.values())} rows in {len(summary.tables)} tables "
        f"(schema {summary.revision})"
    )
    click.echo(KEYS_NOTICE)


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(path: str) -> None:
    """Load a backup into an empty database (created or upgraded first), all of it or nothing."""
    from pathlib import Path

    from ledger.backup import KEYS_NOTICE, BackupRefused, restore_backup
    from ledger.migrate import upgrade

    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        summary = restore_backup(db.engine, Path(path), progress=lambda name, n: click.echo(f"  {name}: {n} rows", err=True))
    except BackupRefused as exc:
        fail(str(exc))
    click.echo(
        f"restored {sum(summary.tables.values())} rows in {len(summary.tables)} tables from {path}; "
        "run 'ledger verify' to check the ledger"
    )
    click.echo(KEYS_NOTICE)
