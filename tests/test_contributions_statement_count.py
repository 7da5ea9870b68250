"""A declaration through the API costs a bounded number of SQL statements (no timing involved).

Each statement is a round trip to the database while the request holds its transaction, the
SQLite write lock included: under concurrent load the count is what the throughput follows
(docs/performance.md). The bounds are today's counts; raising one needs a reason.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from ledger.commons.service import get_commons
from ledger.extensions import db
from ledger.rounds.models import Round
from ledger.rounds.rules import rules_in_force
from ledger.timeutil import today

TODAY = today()
# Person (token joined), commons, membership + category + latest threshold, the day's and the
# week's hours, the rounds (with their rules), the INSERT.
DECLARATION_STATEMENTS = 6
# Into a round, plus bumping the round's review counter at the commit: the finalization that
# skips gathering the review again must see the new work (ledger.rounds.preview).
ROUND_REVIEW_BUMP = 1
# The same, plus looking up the key and storing the answer.
KEYED_DECLARATION_STATEMENTS = 8
# Person and the stored answer: the declaration is not run again.
REPLAY_STATEMENTS = 2


def with_day_lock(bound: int) -> int:
    """On PostgreSQL a declaration also takes the person-day advisory lock before summing the
    day's hours (one more statement), so that simultaneous declarations keep the 24 hours."""
    return bound + (db.engine.dialect.name == "postgresql")


@contextmanager
def counted_statements():
    """The SQL statements the engine sends meanwhile, transaction control (BEGIN) left out."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def open_round(slug: str, start, end, *, rule_version_id: int | None = None) -> Round:
    """An open round row as the rounds code would create it, pinned to the given rules."""
    commons = get_commons(slug)
    round_ = Round(
        commons_id=commons.id,
        rule_version_id=rule_version_id or rules_in_force(commons.id).id,
        period_start=start,
        period_end=end,
        envelope_cents=100_000,
        state="open",
        review_starts_on=end + timedelta(days=5),
        allocation_on=end + timedelta(days=12),
    )
    db.session.add(round_)
    db.session.commit()
    return round_


@pytest.fixture
def velo(make_person, make_commons):
    steward, contributor = make_person("Steward"), make_person("Contributor")
    make_commons(steward, "velo", members={"contributor": contributor})
    return {"steward": steward, "contributor": contributor}


def declaration(on, hours="2.5", **overrides) -> dict:
    return {
        "commons": "velo",
        "date": on.isoformat(),
        "hours": hours,
        "category": "care",
        "description": "Welcomed two newcomers at the workshop",
        **overrides,
    }


def declare(client, actor, body, **headers):
    db.session.remove()  # nothing cached from the set-up: count what a fresh request needs
    with counted_statements() as statements:
        response = client.post("/api/v1/contributions", json=body, headers={**actor.headers, **headers})
    return response, statements


def listing(statements: list[str]) -> str:
    return "\n".join(s.split("\n")[0][:120] for s in statements)


@pytest.mark.parametrize("in_round", [False, True], ids=["waiting-for-a-round", "in-an-open-round"])
def test_a_declaration_takes_a_bounded_number_of_statements(client, velo, in_round):
    on = TODAY - timedelta(days=1)
    if in_round:
        round_id = open_round("velo", on - timedelta(days=10), on + timedelta(days=10)).id
    response, statements = declare(client, velo["contributor"], declaration(on))
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["round_id"] == (round_id if in_round else None) and body["status"] == "declared"
    assert body["hours"] == "2.50" and body["objections"] == [] and body["vouch_count"] == 0
    assert len(statements) <= with_day_lock(DECLARATION_STATEMENTS + in_round * ROUND_REVIEW_BUMP), listing(statements)
    bumps = [s for s in statements if s.lstrip().startswith("INSERT INTO revision_counters")]
    assert len(bumps) == in_round, listing(statements)


def test_a_declaration_with_an_idempotency_key_and_its_replay_stay_bounded(client, velo):
    body = declaration(TODAY - timedelta(days=1))
    first, statements = declare(client, velo["contributor"], body, **{"Idempotency-Key": "count-1"})
    assert first.status_code == 201, first.get_json()
    assert len(statements) <= with_day_lock(KEYED_DECLARATION_STATEMENTS), listing(statements)
    replay, statements = declare(client, velo["contributor"], body, **{"Idempotency-Key": "count-1"})
    assert replay.status_code == 201 and replay.get_json() == first.get_json()
    assert len(statements) <= REPLAY_STATEMENTS, listing(statements)


def test_a_refused_declaration_stops_early_and_stores_nothing(client, velo, make_person):
    outsider = make_person("Outsider")
    response, statements = declare(client, outsider, declaration(TODAY - timedelta(days=1)))
    assert response.status_code == 403 and response.get_json()["error"]["fields"] == {
        "commons": ["You are not a member of this commons."]
    }
    assert not any(s.lstrip().upper().startswith("INSERT") for s in statements)
    assert len(statements) <= 3, listing(statements)


def test_the_weekly_care_threshold_comes_from_the_rules_judging_the_work(client, velo):
    """Work in a round answers to the round's pinned rules; work waiting for a round, and its
    edits, to the rules in force today (the threshold read in the same query as the membership)."""
    steward, contributor = velo["steward"], velo["contributor"]
    first_rules_id = rules_in_force(get_commons("velo").id).id
    changed = client.post(
        "/api/v1/commons/velo/rules", headers=steward.headers, json={"reason": "Rest earlier", "weekly_hours_threshold": 10}
    )
    assert changed.status_code == 201, changed.get_json()
    this_monday = TODAY - timedelta(days=TODAY.weekday())
    waiting_day, round_day = this_monday - timedelta(days=7), this_monday - timedelta(days=14)

    waiting, _ = declare(client, contributor, declaration(waiting_day, hours="12"))
    assert waiting.status_code == 201 and len(waiting.get_json()["warnings"]) == 1
    assert "12.00" in waiting.get_json()["warnings"][0] and "10" in waiting.get_json()["warnings"][0]
    lowered = client.patch(f"/api/v1/contributions/{waiting.get_json()['id']}", json={"hours": "8"}, headers=contributor.headers)
    assert lowered.status_code == 200 and lowered.get_json()["warnings"] == []
    raised = client.patch(
        f"/api/v1/contributions/{waiting.get_json()['id']}", json={"hours": "10.25"}, headers=contributor.headers
    )
    assert raised.status_code == 200 and "10.25" in raised.get_json()["warnings"][0]

    round_id = open_round("velo", round_day, round_day + timedelta(days=6), rule_version_id=first_rules_id).id
    pinned, _ = declare(client, contributor, declaration(round_day, hours="12"))
    assert pinned.status_code == 201 and pinned.get_json()["round_id"] == round_id
    assert pinned.get_json()["warnings"] == []  # the round's rules say 48 hours
    more, _ = declare(client, contributor, declaration(round_day + timedelta(days=1), hours="24"))
    more_again, _ = declare(client, contributor, declaration(round_day + timedelta(days=2), hours="13"))
    assert more.get_json()["warnings"] == [] and "49.00" in more_again.get_json()["warnings"][0]


def test_a_declaration_written_past_the_unit_of_work_still_bumps_what_watches_contributions(client, velo, monkeypatch):
    from ledger import revisions
    from ledger.contributions.models import Contribution

    # A counter watching every new contribution, as a future cache might: the declaration's one
    # INSERT goes around the flush, and the counter must move all the same, at its commit.
    monkeypatch.setitem(
        revisions._WATCHED, "test-contributions", lambda obj: ("test-contributions",) if isinstance(obj, Contribution) else ()
    )
    monkeypatch.setitem(revisions._TABLES, "test-contributions", frozenset())
    on = TODAY - timedelta(days=2)
    response, _ = declare(client, velo["contributor"], declaration(on, hours="1.75"))
    assert response.status_code == 201, response.get_json()
    assert revisions.current("test-contributions") == 1
    stored = db.session.get(Contribution, response.get_json()["id"])
    assert (stored.date, str(stored.hours), stored.category, stored.status) == (on, "1.75", "care", "declared")
    assert stored.created_at is not None and stored.created_at == stored.updated_at
    assert response.get_json()["hours"] == "1.75" and response.get_json()["date"] == on.isoformat()
