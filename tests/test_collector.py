"""A round is computed and finalized with Python's cyclic collector paused (ledger.collector),
and the collector is as it was once the work is over, whether it ended well or not."""

from __future__ import annotations

import gc

import pytest

from ledger import collector
from ledger.extensions import db
from ledger.rounds import lifecycle, service
from ledger.rounds.models import Round
from tests.rounds_support import advance, allocated_round, ana_and_bob, calls_of


@pytest.fixture
def collecting():
    """The collector on, as in a worker, for the test; put back as it was after."""
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def spy_on(monkeypatch, module, name: str) -> list[bool]:
    """Whether the collector was on at each call of ``module.name``."""
    return calls_of(monkeypatch, module, name, lambda *args, **kwargs: gc.isenabled())


def test_a_round_is_allocated_and_finalized_without_cyclic_collections(
    client, make_person, make_commons, monkeypatch, collecting
):
    world = ana_and_bob(make_person, make_commons)
    reviewed = spy_on(monkeypatch, service, "review_totals")  # inside compute, at allocation
    posted = spy_on(monkeypatch, lifecycle, "post_many")  # inside finalize
    round_id = allocated_round(client, world)
    assert reviewed == [False]
    assert gc.isenabled(), "on again once the allocation is stored"
    assert advance(client, world, round_id)["state"] == "finalized"
    assert posted == [False]
    assert gc.isenabled(), "on again once the round is finalized"


def test_a_failed_finalization_puts_the_collector_back(client, make_person, make_commons, monkeypatch, collecting):
    world = ana_and_bob(make_person, make_commons)
    round_id = allocated_round(client, world)

    def broken(entries):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(lifecycle, "post_many", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        lifecycle.finalize(db.session.get(Round, round_id))
    assert gc.isenabled()


def test_nested_pauses_end_with_the_outermost(collecting):
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner block does not switch it on under the outer one"
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collecting):
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()
