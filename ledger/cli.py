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

    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
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


@cli.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check the ledger's hash chain and signatures; exit 1 naming the first bad transaction."""
    from ledger.accounts.signing import current_key
    from ledger.accounts.verify import verify_ledger

    report = verify_ledger(current_key())
    if report.ok:
        click.echo(f"ledger intact: {report.checked} transactions, last hash {report.last_hash}")
        return
    click.echo(
        f"ledger BROKEN at transaction id={report.first_bad_id} (seq {report.first_bad_seq}): {report.reason}",
        err=True,
    )
    sys.exit(1)


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
