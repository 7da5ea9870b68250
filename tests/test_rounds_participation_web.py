"""The round page lets people take part in the `self` and `peer` methods without the API."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from ledger.extensions import db
from ledger.rounds.models import PeerPoints, SelfRequest
from tests.factories import login
from tests.rounds_support import World, advance, declare, fund_commons, new_rules, open_round


@pytest.fixture
def world(app, make_person, make_commons):
    steward = make_person("Steward", email="steward@example.org")
    ana = make_person("Ana", email="ana@example.org", show_name_publicly=True)
    bo = make_person("Bo", email="bo@example.org", show_name_publicly=True)
    make_commons(steward, "velo", members={"member": ana, "member2": bo})
    w = World("velo", steward, {"ana": ana, "bo": bo})
    fund_commons(w, 100_000)
    return w


def test_a_member_states_their_amount_and_everyone_sees_the_requests(client, world):
    new_rules(client, world, allocation_method="self")
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    ana, bo = world.people["ana"], world.people["bo"]
    login(client, ana)
    response = client.post(f"/rounds/{round_id}/request", data={"amount": "120,50".replace(",", ".")})
    assert response.status_code == 302
    assert db.session.scalar(select(SelfRequest.amount_cents).where(SelfRequest.person_id == ana.id)) == 12_050
    login(client, bo)
    html = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "Ana" in html and "120,50" in html


def test_a_bad_amount_is_shown_beside_its_field_and_stores_nothing(client, world):
    new_rules(client, world, allocation_method="self")
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    login(client, world.people["ana"])
    response = client.post(f"/rounds/{round_id}/request", data={"amount": "-3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="amount-error"' in html
    assert db.session.scalar(select(SelfRequest.id)) is None


def test_a_member_shares_points_among_others_contributions_during_review(client, world):
    new_rules(client, world, allocation_method="peer")
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    ana, bo = world.people["ana"], world.people["bo"]
    bos_work = declare(world, bo, "3", date(2026, 1, 10), round_id=round_id)
    anas_work = declare(world, ana, "2", date(2026, 1, 11), round_id=round_id)
    advance(client, world, round_id)  # open → review
    login(client, ana)
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert f'name="points-{bos_work}"' in page and f'name="points-{anas_work}"' not in page  # never one's own work
    assert client.post(f"/rounds/{round_id}/points", data={f"points-{bos_work}": "60"}).status_code == 302
    assert db.session.scalar(select(PeerPoints.points).where(PeerPoints.giver_id == ana.id)) == 60
    refused = client.post(f"/rounds/{round_id}/points", data={f"points-{bos_work}": "150"})
    assert refused.status_code == 422 and re.search(r"entre 1 et 100|au plus 100", refused.get_data(as_text=True))
    assert db.session.scalar(select(PeerPoints.points).where(PeerPoints.giver_id == ana.id)) == 60
