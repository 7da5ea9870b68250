"""Reconciliation per CAE and per commons: finalized vs exported vs paid, late, and differences."""

from __future__ import annotations

from datetime import date

import pytest
from payouts_support import batch_of, payroll_scenario

from ledger.accounts import chart
from ledger.accounts.service import Leg, post
from ledger.commons.service import get_commons
from ledger.extensions import db


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def test_cae_reconciliation_follows_exports_and_payments(client, scenario):
    people, rounds = scenario["people"], scenario["rounds"]
    url = "/api/v1/caes/ECOTONE/reconciliation"
    start = client.get(url, headers=people["acc"].headers).get_json()
    # velo 407,28 + jardin 95,00 + april 28,50, all finalized in 2025: long ago, so late
    assert start["totals"] == {
        "finalized_cents": 53078,
        "exported_cents": 0,
        "paid_cents": 0,
        "outstanding_cents": 53078,
        "late_cents": 53078,
    }
    assert start["differences"] == []
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=people["acc"].headers)
    velo_batch = batch_of(rounds["velo"], "cae")
    client.post(
        f"/api/v1/payout-batches/{velo_batch.id}/paid",
        json={"paid_on": "2025-03-28", "bank_reference": "VIR-2025-03-28-ECO"},
        headers=people["acc"].headers,
    )
    after = client.get(url, headers=people["acc"].headers).get_json()
    assert after["totals"]["exported_cents"] == 40728 + 9500 and after["totals"]["paid_cents"] == 40728
    assert after["late"] == [batch_of(rounds["jardin"], "cae").id, batch_of(rounds["april"], "cae").id]
    assert after["differences"] == []
    generous = client.get(url + "?late_after_days=3650", headers=people["acc"].headers).get_json()
    assert generous["late"] == [] and generous["totals"]["late_cents"] == 0
    bad = client.get(url + "?late_after_days=-1", headers=people["acc"].headers)
    assert bad.status_code == 422 and "late_after_days" in bad.get_json()["error"]["fields"]


def test_commons_reconciliation_shows_what_differs_from_the_ledger(client, scenario):
    people = scenario["people"]
    commons = get_commons("velo")
    # someone paid Dave by hand, outside any batch: the ledger no longer owes what the batch says
    post(
        "manual",
        [Leg(chart.person_payable(people["dave"].id, commons), 1000), Leg(chart.commons_treasury(commons), -1000)],
        occurred_on=date(2025, 3, 10),
        commons_id=commons.id,
    )
    db.session.commit()
    report = client.get("/api/v1/commons/velo/reconciliation", headers=people["steward"].headers).get_json()
    assert report["totals"]["finalized_cents"] == 40728 + 14250
    assert [(d["kind"], d["person_id"], d["expected_cents"], d["ledger_cents"]) for d in report["differences"]] == [
        ("payable", people["dave"].id, 14250, 13250)
    ]
    assert client.get("/api/v1/commons/velo/reconciliation", headers=people["acc"].headers).status_code == 403
    assert client.get("/api/v1/commons/velo/reconciliation", headers=people["dave"].headers).status_code == 403
