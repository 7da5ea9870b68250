"""`ledger fund admit SLUG` and `ledger fund suspend SLUG`: the fund manager's decisions, run by the operator.

Each command commits once at the end; a refusal rolls back, prints why and exits 1.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ledger.commons.service import get_commons
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.fund.service import set_fund_status


@click.group("fund")
def fund_group() -> None:
    """The solidarity fund: which commons draw on it."""


def _set(slug: str, status: str, reason: str) -> None:
    try:
        commons = set_fund_status(get_commons(slug), status, reason=reason, actor=None)
    except LedgerError as exc:
        db.session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{commons.slug}: {commons.fund_status} ({commons.fund_status_reason})")


@fund_group.command("admit")
@click.argument("slug")
@click.option("--reason", required=True, help="Why the fund tops up this commons' rounds (kept, public).")
@with_appcontext
def admit_command(slug: str, reason: str) -> None:
    """Admit a commons: its rounds may get top-ups from now on."""
    _set(slug, "admitted", reason)


@fund_group.command("suspend")
@click.argument("slug")
@click.option("--reason", required=True, help="Why the fund stops topping up this commons (kept, public).")
@with_appcontext
def suspend_command(slug: str, reason: str) -> None:
    """Suspend a commons: its rounds get no top-up until it is admitted again."""
    _set(slug, "suspended", reason)
