""" "My money" and "My contributions": a contributor finds her rounds, amounts and payments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from payouts_support import batch_of, payroll_scenario

from ledger.payouts.my_money import my_money, years_of


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def login(client, actor):
    with client.session_transaction() as session:
        session["person_id"] = actor.id


def pay(client, scenario, route, actor, on, reference):
    batch = batch_of(scenario["rounds"]["velo"], route)
    response = client.post(
        f"/api/v1/payout-batches/{batch.id}/paid", json={"paid_on": on, "bank_reference": reference}, headers=actor.headers
    )
    assert response.status_code == 200, response.get_json()


def test_each_round_shows_counted_hours_amounts_route_and_payment_state(client, scenario):
    people, rounds = scenario["people"], scenario["rounds"]
    from ledger.extensions import db
    from ledger.people.models import Person

    alice = db.session.get(Person, people["alice"].id)
    assert years_of(alice) == [2025]
    report = my_money(alice, 2025)
    assert [(r.round_id, r.hours, r.gross_cents, r.levy_cents, r.net_cents, r.route, r.payment) for r in report.rows] == [
        (rounds["april"].id, 2, 3000, 150, 2850, "cae", "pending"),
        (rounds["jardin"].id, 6.5, 10000, 500, 9500, "cae", "pending"),
        (rounds["velo"].id, 20, 30000, 1500, 28500, "cae", "pending"),
    ]
    assert report.totals == {
        "gross_cents": 43000,
        "levy_cents": 2150,
        "topup_cents": 0,
        "net_cents": 40850,
        "received_cents": 40850,
        "paid_cents": 0,
    }
    assert my_money(alice, 2024).rows == []

    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=people["acc"].headers)
    pay(client, scenario, "cae", people["acc"], "2025-03-28", "VIR-ECO-0328")
    login(client, people["alice"])
    page = client.get("/account/money?year=2025&lang=en").get_data(as_text=True)
    velo_row = page.split(f'id="money-round-{rounds["velo"].id}"')[1].split("</tr>")[0]
    assert "€300.00" in velo_row and "€15.00" in velo_row and "€285.00" in velo_row and "paid on March 28, 2025" in velo_row
    assert f'href="/rounds/{rounds["velo"].id}"' in velo_row
    jardin_row = page.split(f'id="money-round-{rounds["jardin"].id}"')[1].split("</tr>")[0]
    assert 'data-payment="exported"' in jardin_row and "sent to the CAE" in jardin_row
    april_row = page.split(f'id="money-round-{rounds["april"].id}"')[1].split("</tr>")[0]
    assert 'data-payment="pending"' in april_row
    totals = page.split('id="money-totals"')[1].split("</table>")[0]
    assert "€430.00" in totals and "€408.50" in totals
    assert "€285.00" in page.split('id="total-paid"')[1].split("</td>")[0]
    assert "How this was computed" in page


def test_a_top_up_is_shown_and_counts_in_what_reaches_the_person(client, scenario):
    login(client, scenario["people"]["bob"])
    page = client.get("/account/money?lang=en").get_data(as_text=True)
    assert "€123.45" in page and "€6.17" in page and "€5.00" in page and "€117.28" in page
    totals = page.split('id="money-totals"')[1].split("</table>")[0]
    assert "€122.28" in totals  # net 117.28 + top-up 5.00


def test_my_money_shows_only_my_lines_and_needs_a_login(client, scenario):
    assert client.get("/account/money").status_code == 302
    login(client, scenario["people"]["steward"])
    page = client.get("/account/money?lang=en").get_data(as_text=True)
    assert "money-rounds" not in page and f"No round finalized in {date.today().year}" in page


def test_my_contributions_link_each_to_its_round_and_say_whether_it_counted(client, make_person, make_commons):
    from tests.rounds_support import World, advance, fund_commons, open_round

    steward, ana = make_person("Steward"), make_person("Ana")
    make_commons(steward, "velo", members={"member": ana})
    world = World("velo", steward, {"ana": ana})
    fund_commons(world, 100_000)
    last_month_end = date.today().replace(day=1) - timedelta(days=1)  # within the default late window
    start = last_month_end.replace(day=1)
    declared = client.post(
        "/api/v1/contributions",
        json={
            "commons": "velo",
            "date": (start + timedelta(days=4)).isoformat(),
            "hours": "3",
            "category": "care",
            "description": "welcomed people",
        },
        headers=ana.headers,
    ).get_json()
    round_id = open_round(client, world, start.isoformat(), last_month_end.isoformat(), 10_000)["id"]
    login(client, ana)
    before = client.get("/contributions?lang=en").get_data(as_text=True)
    row = before.split(f'id="contribution-{declared["id"]}"')[1].split("</tr>")[0]
    assert f'href="/rounds/{round_id}"' in row and "declared" in row and "counted" not in row
    advance(client, world, round_id, times=2)
    after = client.get("/contributions?lang=en").get_data(as_text=True)
    row = after.split(f'id="contribution-{declared["id"]}"')[1].split("</tr>")[0]
    assert "status-counted" in row
