"""What cannot be undone is guarded: early steps need a written reason, finalizing a confirmation,
and a payment its date and bank reference."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from payouts_support import batch_of, payroll_scenario
from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.extensions import db
from ledger.payouts.models import PayoutBatch
from ledger.rounds.models import Round, RoundEvent
from tests.rounds_support import World, advance, declare, fund_commons, open_round


@pytest.fixture
def world(app, make_person, make_commons):
    steward, ana = make_person("Steward", email="steward@example.org"), make_person("Ana", email="ana@example.org")
    make_commons(steward, "velo", members={"member": ana})
    w = World("velo", steward, {"ana": ana})
    fund_commons(w, 100_000)
    return w


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def login(client, email):
    response = client.post("/login", data={"email": email, "password": "correct horse battery"})
    assert response.status_code in (302, 303)


def current_round(client, world) -> int:
    """A round whose period contains today: its declaration window is still open."""
    start = date.today() - timedelta(days=3)
    return open_round(client, world, start.isoformat(), (start + timedelta(days=10)).isoformat(), 20_000)["id"]


def post_advance(client, world, round_id, **body):
    return client.post(f"/api/v1/rounds/{round_id}/advance", json=body, headers=world.steward.headers)


def test_leaving_open_before_the_declaration_window_ends_needs_a_reason_kept_in_the_history(client, world):
    round_id = current_round(client, world)
    refused = post_advance(client, world, round_id)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "window_not_over" and list(error["fields"]) == ["reason"]
    ends = db.session.get(Round, round_id).review_starts_on.isoformat()
    assert ends in error["fields"]["reason"][0]
    assert post_advance(client, world, round_id, reason="   ").status_code == 422
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "open"
    assert db.session.scalar(select(func.count(RoundEvent.id))) == 0

    moved = post_advance(client, world, round_id, reason="the collective meets tomorrow")
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["state"] == "review"
    assert [(h["from_state"], h["to_state"], h["early"], h["reason"], h["actor_id"]) for h in body["history"]] == [
        ("open", "review", True, "the collective meets tomorrow", world.steward.id)
    ]
    # the review window (7 days after review starts) has not ended either
    again = post_advance(client, world, round_id)
    assert again.status_code == 422 and "reason" in again.get_json()["error"]["fields"]


def test_a_round_whose_windows_have_passed_moves_without_a_reason(client, world):
    declare(world, world.people["ana"], "2", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    body = advance(client, world, round_id, times=2, reason=None)
    assert body["state"] == "allocated"
    assert [(h["to_state"], h["early"], h["reason"]) for h in body["history"]] == [
        ("review", False, None),
        ("allocated", False, None),
    ]


def test_members_read_the_early_reason_on_the_round_page(client, world):
    round_id = current_round(client, world)
    assert post_advance(client, world, round_id, reason="vacances d'été").status_code == 200
    login(client, "ana@example.org")
    page = client.get(f"/rounds/{round_id}?lang=en").get_data(as_text=True)
    assert "History of this round" in page and "before the window ended" in page and "vacances d&#39;été" in page


def test_the_steward_button_names_the_next_state_and_an_early_click_without_reason_writes_nothing(client, world):
    round_id = current_round(client, world)
    login(client, "steward@example.org")
    page = client.get(f"/rounds/{round_id}?lang=fr").get_data(as_text=True)
    assert "Ouvrir la revue" in page and 'name="reason"' in page
    refused = client.post(f"/rounds/{round_id}/advance", data={"reason": ""}, follow_redirects=True)
    assert "La période de déclaration se termine le" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "open"
    client.post(f"/rounds/{round_id}/advance", data={"reason": "réunion avancée"})
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "review"
    assert db.session.scalar(select(RoundEvent.reason)) == "réunion avancée"
    assert "Calculer la répartition" in client.get(f"/rounds/{round_id}?lang=fr").get_data(as_text=True)


def test_finalizing_goes_through_a_confirmation_page_that_states_what_will_be_written(client, world):
    declare(world, world.people["ana"], "4", date(2026, 1, 5))
    declare(world, world.steward, "2", date(2026, 1, 6))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    advance(client, world, round_id, times=2)
    login(client, "steward@example.org")
    # the old one-click path now only leads to the confirmation
    jumped = client.post(f"/rounds/{round_id}/advance", data={})
    assert jumped.headers["Location"].endswith(f"/rounds/{round_id}/finalize")
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "allocated"
    assert db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_id)) == 0

    page = client.get(f"/rounds/{round_id}/finalize?lang=en").get_data(as_text=True)
    # 6 h × €15 = €90 gross, 5 % levy = €4.50, both waive by default? read the routes from the lines
    lines = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=world.steward.headers).get_json()["lines"]
    gross = sum(line["gross_cents"] for line in lines)
    levy = sum(line["levy_cents"] for line in lines)
    assert gross == 9000 and levy == 450
    assert "This is final." in page and "Finalize and write the entries" in page
    assert "€90.00" in page and "€4.50" in page
    routes = {line["route"] for line in lines}
    for route in routes:
        assert f'id="route-{route}"' in page
    waived = sum(line["net_cents"] for line in lines if line["route"] == "waive")
    # treasury 1,000 € minus what leaves it (gross less what is waived)
    assert f"€{(100_000 - (gross - waived)) / 100:,.2f}" in page

    done = client.post(f"/rounds/{round_id}/finalize", data={})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "finalized"
    assert db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_id)) >= 1
    assert client.get(f"/rounds/{round_id}/finalize").status_code == 302  # nothing left to confirm


def test_a_member_cannot_open_the_finalize_page(client, world):
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    advance(client, world, round_id, times=2)
    login(client, "ana@example.org")
    assert client.get(f"/rounds/{round_id}/finalize").status_code == 403
    assert client.post(f"/rounds/{round_id}/finalize", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "allocated"


def test_marking_paid_asks_for_the_date_and_bank_reference_and_reconciliation_shows_them(client, scenario):
    people, velo = scenario["people"], scenario["rounds"]["velo"]
    invoice = batch_of(velo, "invoice")
    url = f"/api/v1/payout-batches/{invoice.id}/paid"
    missing = client.post(url, json={"paid_on": "2025-03-29"}, headers=people["steward"].headers)
    assert missing.status_code == 422 and "bank_reference" in missing.get_json()["error"]["fields"]
    blank = client.post(url, json={"paid_on": "2025-03-29", "bank_reference": "  "}, headers=people["steward"].headers)
    assert blank.status_code == 422 and "bank_reference" in blank.get_json()["error"]["fields"]
    no_date = client.post(url, json={"bank_reference": "VIR-1"}, headers=people["steward"].headers)
    assert no_date.status_code == 422 and "paid_on" in no_date.get_json()["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(PayoutBatch, invoice.id).state == "pending"
    assert db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == "payout")) == 0

    done = client.post(
        url, json={"paid_on": "2025-03-29", "bank_reference": "VIR 2025-0329 A"}, headers=people["steward"].headers
    )
    assert done.status_code == 200
    assert (done.get_json()["paid_on"], done.get_json()["bank_reference"]) == ("2025-03-29", "VIR 2025-0329 A")
    recon = client.get("/api/v1/commons/velo/reconciliation", headers=people["steward"].headers).get_json()
    row = next(b for b in recon["batches"] if b["id"] == invoice.id)
    assert (row["paid_on"], row["bank_reference"]) == ("2025-03-29", "VIR 2025-0329 A")
    tx = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.ref == f"batch:{invoice.id}:paid"))
    assert tx.occurred_on == date(2025, 3, 29)


def test_the_mark_paid_form_refuses_a_missing_reference_and_the_page_shows_the_stored_one(client, scenario):
    people, velo = scenario["people"], scenario["rounds"]["velo"]
    invoice = batch_of(velo, "invoice")
    with client.session_transaction() as session:
        session["person_id"] = people["steward"].id
    form = client.get("/commons/velo/payouts?lang=en").get_data(as_text=True)
    assert f'id="bank-reference-{invoice.id}"' in form and f'id="paid-on-{invoice.id}"' in form
    refused = client.post(
        f"/payout-batches/{invoice.id}/paid?lang=en",
        data={"next": "/commons/velo/payouts", "paid_on": "2025-03-29"},
        follow_redirects=True,
    )
    assert "bank_reference" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PayoutBatch, invoice.id).state == "pending"
    client.post(
        f"/payout-batches/{invoice.id}/paid",
        data={"next": "/commons/velo/payouts", "paid_on": "2025-03-29", "bank_reference": "VIR-777"},
    )
    page = client.get("/commons/velo/payouts?lang=en").get_data(as_text=True)
    assert "VIR-777" in page and "2025-03-29" in page
