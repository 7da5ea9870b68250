"""The slug → commons cache: a declaration naming a commons this process knows runs no query of
the commons (its revision comes with the people revision, in the token's statement), and any
change of a commons, by any process, is seen at the very next request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ledger import revisions
from ledger.commons.models import Commons
from ledger.commons.service import COMMONS_REVISION, get_commons
from ledger.extensions import db
from ledger.people.service import PEOPLE_REVISION
from ledger.timeutil import today
from tests.test_contributions_statement_count import DECLARATION_STATEMENTS, counted_statements, with_day_lock


def declare(client, actor, days_ago: int, slug: str = "velo"):
    db.session.remove()  # each request on a fresh session, as in a worker
    body = {
        "commons": slug,
        "date": (today() - timedelta(days=days_ago)).isoformat(),
        "hours": "1",
        "category": "care",
        "description": "Opened the workshop",
    }
    with counted_statements() as statements:
        response = client.post("/api/v1/contributions", json=body, headers=actor.headers)
    return response, statements


def commons_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM commons" in s]


def test_a_known_commons_is_not_read_again_and_its_revision_comes_with_the_tokens(app, client, make_person, make_commons):
    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    app.extensions.pop("commons.by_slug", None)  # as in a worker that never saw it
    first, statements = declare(client, ana, 1)
    assert first.status_code == 201 and first.get_json()["commons"] == "velo"
    assert len(commons_reads(statements)) == 1
    second, statements = declare(client, ana, 2)
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["commons"] == "velo" and second.get_json()["hours"] == "1.00"
    assert commons_reads(statements) == [], "a known commons is not read again"
    counters = [s for s in statements if "revision_counters" in s and s.lstrip().startswith("SELECT")]
    assert len(counters) == 1, "the people and commons revisions are read in one statement"
    # One statement fewer than a first declaration: the token and the commons are both known.
    assert len(statements) <= with_day_lock(DECLARATION_STATEMENTS) - 1, statements


def test_a_change_of_a_commons_anywhere_is_seen_at_the_next_request(client, make_person, make_commons):
    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    assert declare(client, ana, 1)[0].status_code == 201
    before = revisions.current(COMMONS_REVISION)
    # Renamed by another process, with a statement: nothing tells this one but the counter.
    db.session.execute(update(Commons).where(Commons.slug == "velo").values(slug="velo-2"))
    db.session.commit()
    assert revisions.current(COMMONS_REVISION) == before + 1
    gone, _ = declare(client, ana, 2)
    assert gone.status_code == 422 and gone.get_json()["error"]["fields"] == {"commons": ["no commons with this slug"]}
    moved, _ = declare(client, ana, 2, slug="velo-2")
    assert moved.status_code == 201 and moved.get_json()["commons"] == "velo-2"
    # Changed through the ORM: the object's flush bumps the counter at its commit.
    commons = db.session.get(Commons, get_commons("velo-2").id)
    commons.name = "Vélo solidaire"
    db.session.commit()
    db.session.remove()
    assert get_commons("velo-2").name == "Vélo solidaire"


def test_counters_read_together_are_read_once_per_transaction(app):
    with counted_statements() as statements:
        assert revisions.current(PEOPLE_REVISION) == revisions.current(COMMONS_REVISION) == 0
    assert len(statements) == 1
    revisions.bump(COMMONS_REVISION)
    db.session.commit()  # a new transaction reads them again
    assert revisions.current(COMMONS_REVISION) == 1
    db.session.rollback()


def test_a_commons_changed_in_this_transaction_is_returned_as_changed(app, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo")
    db.session.remove()
    assert get_commons("velo").name != "Renamed"  # now known to this process
    db.session.remove()
    commons = db.session.scalar(select(Commons).where(Commons.slug == "velo"))
    commons.name = "Renamed"  # not flushed yet
    again = get_commons("velo")
    assert again is commons and again.name == "Renamed"
    db.session.commit()
    db.session.remove()
    assert get_commons("velo").name == "Renamed"
