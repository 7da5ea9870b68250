"""`ledger scheduler` and `ledger rounds tick`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the round scheduler alone (for installations with several web processes).

    Exactly one scheduler runs per installation: this process waits until it holds the lock.
    """
    from ledger.rounds.scheduler import run_standalone

    run_standalone(current_app._get_current_object())


@click.group("rounds")
def rounds_group() -> None:
    """Retribution rounds."""


@rounds_group.command("tick")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this date (default: today).",
)
@with_appcontext
def tick_command(on) -> None:
    """Advance every round whose dates have passed (what the scheduler does), and print what moved."""
    from ledger.extensions import db
    from ledger.rounds.lifecycle import describe, tick

    summary = tick(on.date() if on else None, holder="cli")
    db.session.commit()
    click.echo(describe(summary))
