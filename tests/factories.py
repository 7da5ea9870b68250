"""Test data shared by the test files, and the one way a test logs a browser in."""

from __future__ import annotations

PASSWORD = "correct horse battery"


def login(client, who, password: str = PASSWORD) -> None:
    """Log ``client`` in as ``who`` (an Actor, or an e-mail address) through the login page."""
    email = who if isinstance(who, str) else who.email
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def make_world(make_person, make_commons, *, slug: str = "velo", treasury_cents: int = 100_000, **members):
    """A commons run by "Steward" (steward@example.org) with members by name ({"ana": "member"};
    default: Ana, a member, ana@example.org) and ``treasury_cents`` in its treasury."""
    from tests.rounds_support import World, fund_commons

    steward = make_person("Steward", email="steward@example.org")
    roles = members or {"ana": "member"}
    people = {name: make_person(name.title(), email=f"{name}@example.org") for name in roles}
    make_commons(steward, slug, members={f"{role}{i}": people[name] for i, (name, role) in enumerate(roles.items())})
    world = World(slug, steward, people)
    fund_commons(world, treasury_cents)
    return world
