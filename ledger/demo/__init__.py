"""`ledger demo`: a realistic installation that shows off everything built so far.

Each domain adds its part in its own module; ``load_demo`` runs them in order. The demo is
deterministic (fixed names, figures and a seeded random generator) so screenshots and tests agree.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.demo import base, contributions, governance, payouts, rounds
from ledger.extensions import db
from ledger.people.models import Person

PASSWORD = "demo-password"


class DemoRefused(Exception):
    """The database already holds data: the demo never mixes with real records."""


def load_demo() -> list[tuple[str, str]]:
    """Load the demo into an empty database; returns (role, email) pairs to print."""
    if db.session.scalar(select(func.count(Person.id))):
        raise DemoRefused("the database is not empty: the demo loads only into an empty installation")
    world = base.load(PASSWORD)
    contributions.load(world)  # right after the people and commons, before any round
    payouts.setup(world)  # after the contributions, before the rounds
    rounds.load(world)
    payouts.settle(world)  # after the rounds
    governance.load(world)  # last: new rule versions apply to rounds to come
    return world.logins
