"""The dashboards' charts are built once per state: a ledger write or a review change rebuilds
them (every process sees it at its next request), nothing else does."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from dashboards import cache, charts
from ledger import revisions
from tests.rounds_support import World, advance, declare, fund_commons, open_round


@pytest.fixture
def builds(monkeypatch):
    calls = []
    original = charts.build_all

    def counted(commons_id):
        calls.append(commons_id)
        return original(commons_id)

    monkeypatch.setattr(charts, "build_all", counted)
    return calls


@pytest.fixture
def world(client, make_person, make_commons):
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", members={"member": ana, "member2": bob})
    w = World("velo", steward, {"ana": ana, "bob": bob})
    fund_commons(w, 300_000)
    round_id = open_round(client, w, "2026-01-01", "2026-01-31", 100_000)["id"]
    w.people["cid"] = declare(w, ana, "10", date(2026, 1, 5), round_id=round_id)
    advance(client, w, round_id)  # into review: its participation is public
    return w


def csv_rows(client, path: str) -> list[dict]:
    response = client.get(path)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_charts_are_rebuilt_after_a_review_change_or_a_ledger_write_and_only_then(client, world, builds):
    assert client.get("/transparency").status_code == 200
    assert client.get("/transparency").status_code == 200
    assert [r["vouchers"] for r in csv_rows(client, "/transparency/reviews.csv")] == ["0"]
    assert builds == [None], "the same state is served from the cache"

    before = revisions.current(cache.COUNTER)
    vouched = client.post(f"/api/v1/contributions/{world.people['cid']}/vouches", headers=world.people["bob"].headers)
    assert vouched.status_code == 201
    assert revisions.current(cache.COUNTER) == before + 1
    assert [r["vouchers"] for r in csv_rows(client, "/transparency/reviews.csv")] == ["1"]
    assert builds == [None, None]

    total = sum(int(r["amount_cents"]) for r in csv_rows(client, "/transparency/income-sources.csv"))
    fund_commons(world, 25_000)  # a ledger write: the head moves
    after = sum(int(r["amount_cents"]) for r in csv_rows(client, "/transparency/income-sources.csv"))
    assert after == total + 25_000
    assert builds == [None, None, None]
    assert client.get("/transparency/velo").status_code == 200
    assert builds == [None, None, None, world.commons.id]


def test_work_declared_in_an_open_round_does_not_touch_the_counter(client, make_person, make_commons):
    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    w = World("velo", steward, {"ana": ana})
    fund_commons(w, 300_000)
    round_id = open_round(client, w, "2026-01-01", "2026-01-31", 100_000)["id"]
    before = revisions.current(cache.COUNTER)
    declare(w, ana, "3", date(2026, 1, 6), round_id=round_id)
    declare(w, ana, "2", date(2026, 1, 7))
    assert revisions.current(cache.COUNTER) == before
