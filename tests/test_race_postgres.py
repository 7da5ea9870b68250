"""Rules that must hold under simultaneous requests on a real PostgreSQL (READ COMMITTED, many
connections): the day's 24 hours, the treasury's cover, non-overlapping rounds, one open objection
per person, one vouch, one ballot, one self-request. The losers of a race get the envelope
(409, or the 422 a sequential request would get), never a 500.

Each request runs in its own thread, with its own test client and database connection, released
together by a barrier (as gunicorn's threads would run them).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from ledger.contributions.models import Contribution, Objection, Vote, Vouch
from ledger.extensions import db
from ledger.rounds.models import PeerPoints, Round, RuleVersion, SelfRequest
from ledger.rounds.service import PENDING_STATES
from ledger.timeutil import today
from tests.rounds_support import World, advance, declare, fund_commons, open_round

pytestmark = pytest.mark.postgres

YESTERDAY = today() - timedelta(days=1)


@pytest.fixture
def app(pg_app):
    """The suite's ``app``, replaced here by one on PostgreSQL (make_person and client follow it)."""
    return pg_app


def race(app, n: int, send) -> list:
    """Run ``send(client, i)`` in n threads released together, each with its own client; returns
    the responses in order."""
    db.session.remove()  # the test's own connection holds no transaction meanwhile
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            try:
                results[i] = send(client, i)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@contextmanager
def slow_reads(table: str, seconds: float = 0.1):
    """Widen the window between a check and the write it guards: each SELECT from ``table`` pauses
    after it returns, so that every racer reads before any writes (as under real load), however
    the threads happen to be scheduled."""

    def pause(_connection, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            time.sleep(seconds)

    event.listen(db.engine, "after_cursor_execute", pause)
    try:
        yield
    finally:
        event.remove(db.engine, "after_cursor_execute", pause)


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


def assert_envelopes(responses, status: int, code: str, field: str | None = None) -> None:
    for response in responses:
        if response.status_code == status:
            error = response.get_json()["error"]
            assert error["code"] == code, error
            if field is not None:
                assert field in error["fields"], error


def count(model, *where) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def review_world(client, make_person, make_commons):
    """A commons with a steward, two members and a contributor who declared six hours."""
    steward, m1, m2, contributor = make_person("Steward"), make_person("Ana"), make_person("Bo"), make_person("Cy")
    make_commons(steward, "velo", members={"member1": m1, "member2": m2, "contributor": contributor})
    created = client.post(
        "/api/v1/contributions",
        headers=contributor.headers,
        json={
            "commons": "velo",
            "date": YESTERDAY.isoformat(),
            "hours": "6",
            "category": "maintenance",
            "description": "Serviced the shared cargo bikes",
        },
    )
    assert created.status_code == 201, created.get_json()
    return {"steward": steward, "m1": m1, "m2": m2, "contributor": contributor, "cid": created.get_json()["id"]}


def test_simultaneous_declarations_of_one_day_stay_within_24_hours_across_commons(app, client, make_person, make_commons):
    steward, racer = make_person("Steward"), make_person("Racer")
    make_commons(steward, "velo", members={"contributor": racer})
    make_commons(steward, "jardin", members={"contributor": racer})

    def declare(client, i):
        body = {
            "commons": ("velo", "jardin")[i % 2],
            "date": YESTERDAY.isoformat(),
            "hours": "12",
            "category": "maintenance",
            "description": f"Long day number {i}",
        }
        return client.post("/api/v1/contributions", json=body, headers=racer.headers)

    responses = race(app, 20, declare)
    # Exactly two fit in the day; the others are refused as a sequential request would be.
    assert statuses(responses) == [201] * 2 + [422] * 18
    assert_envelopes(responses, 422, "validation_failed", "hours")
    db.session.remove()
    total = db.session.scalar(
        select(func.sum(Contribution.hours)).where(Contribution.person_id == racer.id, Contribution.date == YESTERDAY)
    )
    assert total == 24
    assert count(Contribution, Contribution.person_id == racer.id) == 2


def test_simultaneous_edits_of_one_day_stay_within_24_hours(app, client, make_person, make_commons):
    steward, racer = make_person("Steward"), make_person("Racer")
    make_commons(steward, "velo", members={"contributor": racer})
    ids = []
    for i in range(4):
        body = {"commons": "velo", "date": YESTERDAY.isoformat(), "hours": "1", "category": "care", "description": f"Care {i}"}
        created = client.post("/api/v1/contributions", json=body, headers=racer.headers)
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])

    responses = race(
        app, 4, lambda client, i: client.patch(f"/api/v1/contributions/{ids[i]}", json={"hours": "11"}, headers=racer.headers)
    )
    # 11 + 1 + 1 + 1 and 11 + 11 + 1 + 1 fit; a third raise would make 34 hours.
    assert statuses(responses) == [200, 200, 422, 422]
    assert_envelopes(responses, 422, "validation_failed", "hours")
    db.session.remove()
    assert db.session.scalar(select(func.sum(Contribution.hours)).where(Contribution.person_id == racer.id)) == 24


def test_simultaneous_rounds_never_promise_more_than_the_treasury_holds(app, client, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo")
    world = World("velo", steward)
    fund_commons(world, 3_500_000)

    def open_round(client, i):
        month = i + 1
        body = {"period_start": f"2025-{month:02d}-01", "period_end": f"2025-{month:02d}-28", "envelope_cents": 3_000_000}
        return client.post("/api/v1/commons/velo/rounds", json=body, headers=steward.headers)

    with slow_reads("rounds"):
        responses = race(app, 4, open_round)
    assert statuses(responses) == [201, 422, 422, 422]
    assert_envelopes(responses, 422, "validation_failed", "envelope_cents")
    db.session.remove()
    promised = db.session.scalar(select(func.sum(Round.envelope_cents)).where(Round.state.in_(PENDING_STATES)))
    assert promised == 3_000_000
    assert count(Round) == 1


def test_simultaneous_overlapping_rounds_create_one(app, client, make_person, make_commons):
    steward = make_person("Steward")
    make_commons(steward, "velo")

    def open_round(client, i):
        # Different first days (the unique (commons, period_start) cannot help), all overlapping.
        body = {"period_start": f"2025-03-{i + 1:02d}", "period_end": f"2025-03-{20 + i:02d}", "envelope_cents": 0}
        return client.post("/api/v1/commons/velo/rounds", json=body, headers=steward.headers)

    responses = race(app, 6, open_round)
    assert statuses(responses) == [201] + [409] * 5
    assert_envelopes(responses, 409, "conflict", "period_start")
    assert count(Round) == 1


def test_simultaneous_objections_by_one_person_leave_one_open(app, review_world):
    w = review_world
    url = f"/api/v1/contributions/{w['cid']}/objections"
    responses = race(app, 7, lambda client, i: client.post(url, json={"reason": f"Doubt {i}"}, headers=w["m1"].headers))
    assert statuses(responses) == [201] + [409] * 6
    assert_envelopes(responses, 409, "conflict")
    assert count(Objection, Objection.objector_id == w["m1"].id, Objection.state == "open") == 1


def test_simultaneous_vouches_by_one_person_store_one_and_answer_409(app, review_world):
    w = review_world
    url = f"/api/v1/contributions/{w['cid']}/vouches"
    with slow_reads("vouches"):
        responses = race(app, 10, lambda client, i: client.post(url, headers=w["m1"].headers))
    assert statuses(responses) == [201] + [409] * 9
    assert_envelopes(responses, 409, "conflict")
    assert count(Vouch) == 1


def test_simultaneous_votes_by_one_person_keep_one_ballot(app, client, review_world):
    w = review_world
    objection = client.post(f"/api/v1/contributions/{w['cid']}/objections", json={"reason": "Doubtful"}, headers=w["m1"].headers)
    url = f"/api/v1/objections/{objection.get_json()['id']}/votes"
    # Voting again changes one's vote: serialized on the objection, every repeat is such a change.
    responses = race(app, 10, lambda client, i: client.post(url, json={"vote": "keep"}, headers=w["m2"].headers))
    assert statuses(responses) == [201] * 10
    assert count(Vote) == 1
    db.session.remove()
    assert db.session.scalar(select(Objection.state)) == "open"  # one vote of three eligible: no quorum


def test_simultaneous_votes_of_different_people_reach_the_quorum(app, client, review_world):
    w = review_world
    objection = client.post(f"/api/v1/contributions/{w['cid']}/objections", json={"reason": "Doubtful"}, headers=w["m1"].headers)
    url = f"/api/v1/objections/{objection.get_json()['id']}/votes"
    voters = [w["m1"], w["m2"], w["steward"]]  # three eligible, quorum 0.5: two votes decide
    responses = race(app, 3, lambda client, i: client.post(url, json={"vote": "reject"}, headers=voters[i].headers))
    assert statuses(responses) == [201, 201, 409]
    assert_envelopes(responses, 409, "conflict")
    db.session.remove()
    assert db.session.scalar(select(Objection.state)) == "upheld"
    assert count(Vote) == 2


def test_simultaneous_self_requests_store_one_and_answer_409(app, client, make_person, make_commons):
    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    db.session.remove()
    rules = db.session.scalar(select(RuleVersion))
    rules.allocation_method = "self"
    db.session.commit()
    created = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": "2025-01-01", "period_end": "2025-01-31", "envelope_cents": 0},
        headers=steward.headers,
    )
    url = f"/api/v1/rounds/{created.get_json()['id']}/self-requests"
    with slow_reads("self_requests"):
        responses = race(app, 10, lambda client, i: client.put(url, json={"amount_cents": 1000 + i}, headers=ana.headers))
    codes = statuses(responses)
    assert 500 not in codes and codes.count(200) >= 1 and set(codes) <= {200, 409}, codes
    assert_envelopes(responses, 409, "conflict")
    assert count(SelfRequest) == 1
    db.session.remove()
    stored = db.session.scalar(select(SelfRequest.amount_cents))
    accepted = {r.get_json()["amount_cents"] for r in responses if r.status_code == 200}
    assert stored in accepted


def test_simultaneous_sharings_of_peer_points_never_give_more_than_100(app, client, make_person, make_commons):
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", members={"member": ana, "member2": bob})
    world = World("velo", steward, {"ana": ana, "bob": bob})
    db.session.remove()
    rules = db.session.scalar(select(RuleVersion))
    rules.allocation_method = "peer"
    db.session.commit()
    round_id = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": "2025-01-01", "period_end": "2025-01-31", "envelope_cents": 0},
        headers=steward.headers,
    ).get_json()["id"]
    works = [declare(world, bob, "2", date(2025, 1, day), round_id=round_id) for day in (5, 6, 7, 8)]
    assert client.post(f"/api/v1/rounds/{round_id}/advance", headers=steward.headers).status_code == 200

    url = f"/api/v1/rounds/{round_id}/peer-points"
    # Each sharing gives all 100 points to one contribution; each replaces the previous one.
    with slow_reads("contributions"):
        responses = race(
            app, 8, lambda client, i: client.put(url, json={"points": {str(works[i % 4]): 100}}, headers=ana.headers)
        )
    assert statuses(responses) == [200] * 8
    db.session.remove()
    given = db.session.execute(select(PeerPoints.contribution_id, PeerPoints.points).where(PeerPoints.giver_id == ana.id)).all()
    assert len(given) == 1 and given[0].points == 100


def test_the_database_refuses_overlapping_periods_whatever_code_writes_them(app, make_person, make_commons):
    """The exclusion constraint holds without the service's check; the error counts as a lost race."""
    from sqlalchemy.exc import IntegrityError

    from ledger.commons.service import get_commons
    from ledger.errors import lost_race
    from ledger.rounds.rules import rules_in_force

    make_commons(make_person("Steward"), "velo")
    make_commons(make_person("Other"), "jardin")

    def add_round(slug, start, end):
        commons = get_commons(slug)
        db.session.add(
            Round(
                commons_id=commons.id,
                rule_version_id=rules_in_force(commons.id).id,
                period_start=date.fromisoformat(start),
                period_end=date.fromisoformat(end),
                envelope_cents=0,
                state="open",
                review_starts_on=date(2025, 4, 5),
                allocation_on=date(2025, 4, 12),
            )
        )
        db.session.flush()

    add_round("velo", "2025-03-01", "2025-03-31")
    add_round("velo", "2025-04-01", "2025-04-30")  # the day after: no overlap
    add_round("jardin", "2025-03-10", "2025-03-20")  # another commons: no overlap
    db.session.commit()
    with pytest.raises(IntegrityError) as refused:
        add_round("velo", "2025-03-31", "2025-04-01")  # the last day of March overlaps
    db.session.rollback()
    assert refused.value.orig.sqlstate == "23P01" and lost_race(refused.value)
    assert count(Round) == 3


def test_a_round_opened_while_another_is_finalized_sees_the_cover_before_or_after_never_half(
    app, client, make_person, make_commons
):
    """Finalizing moves a round's envelope out of the promises and into what is owed. A round
    opened meanwhile reads those two in separate statements: unless finalize waits for the
    treasury lock, it can read the owed sum before the finalization and the promises after it,
    and find the whole envelope free again."""
    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    world = World("velo", steward, {"ana": ana})
    fund_commons(world, 1_000_000)
    first = open_round(client, world, "2025-01-01", "2025-01-31", 600_000)
    declare(world, ana, "10", date(2025, 1, 10), round_id=first["id"])
    advance(client, world, first["id"], times=2)
    assert client.get(f"/api/v1/rounds/{first['id']}", headers=steward.headers).get_json()["state"] == "allocated"
    db.session.remove()

    opener_read_owed = threading.Event()
    paused = []

    def pause_after_owed(_connection, _cursor, statement, _parameters, _context, _executemany):
        # The opener stops between reading what is owed and reading what is promised.
        if threading.current_thread().name == "opener" and not paused and "FROM ledger_postings JOIN accounts" in statement:
            paused.append(statement)
            opener_read_owed.set()
            time.sleep(1.5)

    results = {}

    def opener():
        with app.app_context():
            body = {"period_start": "2025-02-01", "period_end": "2025-02-28", "envelope_cents": 400_001}
            results["open"] = app.test_client().post("/api/v1/commons/velo/rounds", json=body, headers=steward.headers)
            db.session.remove()

    def finalizer():
        with app.app_context():
            assert opener_read_owed.wait(30)
            results["finalize"] = app.test_client().post(
                f"/api/v1/rounds/{first['id']}/advance", json={"reason": "the test moves on"}, headers=steward.headers
            )
            db.session.remove()

    event.listen(db.engine, "after_cursor_execute", pause_after_owed)
    try:
        threads = [threading.Thread(target=opener, name="opener"), threading.Thread(target=finalizer, name="finalizer")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(db.engine, "after_cursor_execute", pause_after_owed)

    assert paused and results["finalize"].status_code == 200, results["finalize"].get_json()
    # 1,000,000 in the treasury, 600,000 promised to the first round: 400,000 free, before and after.
    assert results["open"].status_code == 422, results["open"].get_json()
    error = results["open"].get_json()["error"]
    assert "at most €4,000.00" in error["fields"]["envelope_cents"][0], error
    assert count(Round) == 1


def test_verify_sees_one_snapshot_while_a_commit_lands_between_its_reads(app, make_person, make_commons):
    """A commit landing after verify read the checkpoints, before it streams the transactions,
    is not reported as 'covered by no signed checkpoint': verify reads one snapshot."""
    from ledger.accounts import chart
    from ledger.accounts.service import Leg, post
    from ledger.accounts.verify import CHECKPOINTS_SQL, verify_ledger
    from ledger.commons.models import Commons

    make_commons(make_person(), "velo")
    commons_id = db.session.scalar(select(Commons.id).where(Commons.slug == "velo"))

    def grant(cents: int) -> None:
        commons = db.session.get(Commons, commons_id)
        legs = [Leg(chart.commons_treasury(commons), cents), Leg(chart.commons_income(commons, "grant"), -cents)]
        post("income", legs, occurred_on=YESTERDAY, commons_id=commons_id, memo=f"grant {cents}")
        db.session.commit()

    grant(1_000)
    grant(2_000)
    db.session.remove()
    landed = []

    def commit_meanwhile(_connection, _cursor, statement, _parameters, _context, _executemany):
        if statement == CHECKPOINTS_SQL and not landed:
            landed.append(True)

            def write():
                with app.app_context():
                    grant(3_000)
                    db.session.remove()

            writer = threading.Thread(target=write)
            writer.start()
            writer.join(30)

    event.listen(db.engine, "after_cursor_execute", commit_meanwhile)
    try:
        report = verify_ledger()
    finally:
        event.remove(db.engine, "after_cursor_execute", commit_meanwhile)
    assert landed
    assert report.ok, report.as_dict()
    assert report.checked == 2 and report.checkpoints == 2  # the view verify started from
    db.session.remove()
    after = verify_ledger()
    assert after.ok and after.checked == 3 and after.checkpoints == 3
