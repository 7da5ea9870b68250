"""Finalization gathers a round's review again only when something the review reads changed
since the preview: the round's review counters say so (ledger.rounds.preview). Each kind of
change, committed after the allocation, must make finalization gather again and post the new
figures; an unchanged round is posted from its preview without the review's GROUP BY."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from ledger import revisions
from ledger.accounts import chart
from ledger.accounts.service import balance
from ledger.contributions.models import Contribution, Objection, Vouch
from ledger.extensions import db
from ledger.rounds import lifecycle, service
from ledger.rounds.models import PeerPoints, Round
from ledger.rounds.preview import REVIEW, review_counter
from tests.rounds_support import advance, allocated_round, ana_and_bob, calls_of, declare, open_round

ANA_NET = 14_250  # 10 h at 15 €, less the 5 % levy
BOB_NET = 5_700  # 4 h of care at 15 €, less the levy


@pytest.fixture
def world(app, make_person, make_commons):
    return ana_and_bob(make_person, make_commons)


@pytest.fixture
def reviews(monkeypatch):
    """Every gathering of a round's review (the GROUP BY over its contributions)."""
    return calls_of(monkeypatch, service, "review_totals")


def net(world, who: str) -> int:
    return -balance(chart.person_payable(world.people[who].id, world.commons).code)


def test_an_unchanged_round_is_posted_without_gathering_its_review_again(client, world, reviews):
    round_id = allocated_round(client, world)
    assert len(reviews) == 1
    stored = db.session.get(Round, round_id)
    assert stored.preview_review_revision is not None and len(stored.preview_review_digest) == 64
    assert advance(client, world, round_id)["state"] == "finalized"
    assert len(reviews) == 1, "the review was not gathered again"
    assert (net(world, "ana"), net(world, "bob")) == (ANA_NET, BOB_NET)


def _declared_into_the_round(world, round_id):
    declare(world, world.people["ana"], "2", date(2026, 1, 7), round_id=round_id)


def _moved_out_of_the_round(world, _round_id):
    db.session.get(Contribution, world.work["bob"]).round_id = None
    db.session.commit()


def _hours_changed_by_a_statement(world, _round_id):
    # A statement through the session: its rows are not known, so the whole family moves.
    db.session.execute(update(Contribution).where(Contribution.id == world.work["bob"]).values(hours=Decimal("8")))
    db.session.commit()


def _objection_opened(world, _round_id):
    db.session.add(
        Objection(contribution_id=world.work["bob"], objector_id=world.people["ana"].id, reason="not done", state="open")
    )
    db.session.commit()


def _vouched(world, _round_id):
    db.session.add(Vouch(contribution_id=world.work["bob"], person_id=world.people["ana"].id))
    db.session.commit()


@pytest.mark.parametrize(
    ("change", "ana", "bob"),
    [
        (_declared_into_the_round, ANA_NET + 2_850, BOB_NET),
        (_moved_out_of_the_round, ANA_NET, 0),
        (_hours_changed_by_a_statement, ANA_NET, 2 * BOB_NET),
        (_objection_opened, ANA_NET, 0),  # carried over: it waits for the next round
        (_vouched, ANA_NET, BOB_NET),  # the rules ask for no vouch: same figures, gathered again all the same
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_a_change_the_review_reads_makes_finalization_gather_it_again(client, world, reviews, change, ana, bob):
    round_id = allocated_round(client, world)
    change(world, round_id)
    assert advance(client, world, round_id)["state"] == "finalized"
    assert len(reviews) == 2, "the review was gathered again"
    assert (net(world, "ana"), net(world, "bob")) == (ana, bob)


def test_a_change_made_in_the_finalizations_own_transaction_is_seen(client, world, reviews):
    round_id = allocated_round(client, world)
    db.session.add(
        Contribution(
            person_id=world.people["bob"].id,
            commons_id=world.commons.id,
            round_id=round_id,
            date=date(2026, 1, 8),
            hours=Decimal("4"),
            category="care",
            description="more work",
            status="declared",
        )
    )  # not committed: its counter bump waits for the commit
    lifecycle.finalize(db.session.get(Round, round_id))
    db.session.commit()
    assert len(reviews) == 2
    assert net(world, "bob") == 2 * BOB_NET


def test_each_write_the_review_reads_bumps_the_rounds_counter(client, world):
    january = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    february = open_round(client, world, "2026-02-01", "2026-02-28", 100_000)["id"]

    def counters():
        db.session.rollback()
        return revisions.current(review_counter(january)), revisions.current(review_counter(february)), revisions.current(REVIEW)

    before = counters()
    db.session.add(Vouch(contribution_id=world.work["ana"], person_id=world.people["bob"].id))
    db.session.commit()
    assert counters() == (before[0] + 1, before[1], before[2])
    db.session.add(PeerPoints(round_id=february, giver_id=world.people["bob"].id, contribution_id=world.work["ana"], points=5))
    db.session.commit()
    assert counters() == (before[0] + 1, before[1] + 1, before[2])
    # A contribution moved from one round to the other changes both (its former round is known).
    db.session.get(Contribution, world.work["ana"]).round_id = february
    db.session.commit()
    assert counters() == (before[0] + 2, before[1] + 2, before[2])
    db.session.execute(update(Contribution).where(Contribution.id == world.work["ana"]).values(description="edited"))
    db.session.commit()
    assert counters() == (before[0] + 2, before[1] + 2, before[2] + 1)
    # A read changes nothing.
    db.session.scalars(select(Contribution)).all()
    db.session.commit()
    assert counters() == (before[0] + 2, before[1] + 2, before[2] + 1)


def test_carrying_work_over_at_allocation_keeps_the_preview_and_tells_the_next_round(client, world, reviews):
    january = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    february = open_round(client, world, "2026-02-01", "2026-02-28", 100_000)["id"]
    _objection_opened(world, january)  # open at allocation: Bob's work moves on to February
    before = revisions.current(review_counter(february))
    advance(client, world, january, times=2)
    db.session.expire_all()
    assert db.session.get(Contribution, world.work["bob"]).round_id == february
    assert revisions.current(review_counter(february)) == before + 1
    assert advance(client, world, january)["state"] == "finalized"
    assert len(reviews) == 1, "the carry-over did not change what January's review counts"
    assert (net(world, "ana"), net(world, "bob")) == (ANA_NET, 0)
