"""Payout batches: pending → exported → paid, the ledger payment, and rounds becoming paid."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from payouts_support import Line, batch_of, create_cae, finalized_round, grant_accountant, payroll_scenario
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.service import balance
from ledger.commons.service import get_commons
from ledger.extensions import db
from ledger.rounds.models import Round


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def paid(client, actor, batch_id, **body):
    body = {"paid_on": date.today().isoformat(), "bank_reference": f"VIR-{batch_id}", **body}
    return client.post(f"/api/v1/payout-batches/{batch_id}/paid", json=body, headers=actor.headers)


def tx_count() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


def test_batches_group_payable_lines_by_route_and_cae(client, scenario):
    velo = scenario["rounds"]["velo"]
    cae_batch, invoice_batch = batch_of(velo, "cae"), batch_of(velo, "invoice")
    assert [(l.person_id, l.amount_cents, l.cae_contribution_cents, l.salary_budget_cents) for l in cae_batch.lines] == [
        (scenario["people"]["alice"].id, 28500, 2850, 25650),
        (scenario["people"]["bob"].id, 12228, 1223, 11005),
    ]
    assert [(l.person_id, l.amount_cents) for l in invoice_batch.lines] == [(scenario["people"]["dave"].id, 14250)]
    view = client.get(f"/api/v1/payout-batches/{cae_batch.id}", headers=scenario["people"]["acc"].headers).get_json()
    assert (view["state"], view["total_cents"], view["cae"], view["commons"]) == ("pending", 40728, "ECOTONE", "velo")
    assert client.get(f"/api/v1/payout-batches/{cae_batch.id}", headers=scenario["people"]["dave"].headers).status_code == 403


def test_cae_batch_is_paid_by_its_accountant_after_export_and_settles_the_ledger(client, scenario):
    people, velo = scenario["people"], scenario["rounds"]["velo"]
    batch = batch_of(velo, "cae")
    before = tx_count()
    not_exported = paid(client, people["acc"], batch.id)
    assert not_exported.status_code == 409 and tx_count() == before
    assert paid(client, people["steward"], batch.id).status_code == 403
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=people["acc"].headers)
    response = paid(client, people["acc"], batch.id, paid_on="2025-03-28")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "paid"
    tx = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.ref == f"batch:{batch.id}:paid"))
    assert tx.occurred_on == date(2025, 3, 28) and tx.round_id == velo.id and tx.kind == "payout"
    legs = sorted((p.account.code, p.amount_cents) for p in tx.postings)
    commons = get_commons("velo")
    alice, bob = people["alice"].id, people["bob"].id
    assert legs == sorted(
        [
            (chart.person_payable(alice, commons).code, 28500),
            (chart.person_payable(bob, commons).code, 11728),
            (chart.fund_payable(bob).code, 500),
            (chart.commons_treasury(commons).code, -40228),
            (chart.fund_treasury().code, -500),
        ]
    )
    assert balance(chart.person_payable(alice, commons).code) == 0
    assert balance(chart.person_payable(bob, commons).code) == 0 and balance(chart.fund_payable(bob).code) == 0
    # paying twice writes nothing
    again = paid(client, people["acc"], batch.id)
    assert again.status_code == 409 and tx_count() == before + 1
    # the round waits for its invoice batch
    db.session.expire_all()
    assert db.session.get(Round, velo.id).state == "finalized"


def test_invoice_batch_is_paid_by_a_steward_and_the_round_becomes_paid(client, runner, scenario):
    people, velo = scenario["people"], scenario["rounds"]["velo"]
    invoice = batch_of(velo, "invoice")
    assert paid(client, people["acc"], invoice.id).status_code == 403
    assert paid(client, people["dave"], invoice.id).status_code == 403
    future = paid(client, people["steward"], invoice.id, paid_on=(date.today() + timedelta(days=2)).isoformat())
    assert future.status_code == 422 and "paid_on" in future.get_json()["error"]["fields"]
    assert paid(client, people["steward"], invoice.id).status_code == 200  # straight from pending
    summary = client.get("/api/v1/me/invoice-summary?period=2025-03", headers=people["dave"].headers).get_json()
    assert summary["total_cents"] == 14250 and summary["unpaid_cents"] == 0 and summary["lines"][0]["commons"] == "velo"
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=people["acc"].headers)
    assert paid(client, people["acc"], batch_of(velo, "cae").id).status_code == 200
    db.session.expire_all()
    round_ = db.session.get(Round, velo.id)
    assert round_.state == "paid" and round_.paid_at is not None
    assert runner.invoke(["verify"]).exit_code == 0


def test_a_round_with_nothing_to_pay_out_is_paid_at_once(client, make_person, make_commons):
    steward, person = make_person("Steward"), make_person("Giver")
    make_commons(steward, "velo", members={"contributor": person})
    round_ = finalized_round(
        "velo",
        [Line(person.id, "3.00", 4500, 225, "waive")],
        period_start=date(2025, 1, 1),
        period_end=date(2025, 1, 31),
        finalized_at=datetime(2025, 2, 3, tzinfo=UTC),
    )
    assert db.session.get(Round, round_.id).state == "paid"


def test_another_cae_accountant_cannot_mark_a_batch_paid(client, make_person, scenario):
    other = make_person("Other accountant")
    create_cae(client, scenario["people"]["admin"], code="OTHER", name="Autre")
    grant_accountant(client, scenario["people"]["admin"], "OTHER", other)
    batch = batch_of(scenario["rounds"]["velo"], "cae")
    client.get("/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03", headers=scenario["people"]["acc"].headers)
    before = tx_count()
    assert paid(client, other, batch.id).status_code == 403
    assert client.get(f"/api/v1/payout-batches/{batch.id}", headers=other.headers).status_code == 403
    assert tx_count() == before
    assert paid(client, other, 99999).status_code == 404


def test_a_payment_reads_its_amounts_from_the_ledger_not_from_changed_allocation_or_payout_rows(client, scenario):
    """Raising a line's net after finalization (security battery, issue 16) must not pay more."""
    from sqlalchemy import text

    people, velo = scenario["people"], scenario["rounds"]["velo"]
    invoice = batch_of(velo, "invoice")
    dave = people["dave"].id
    db.session.execute(
        text("UPDATE allocation_lines SET net_cents = net_cents + 50000 WHERE round_id = :r AND person_id = :p"),
        {"r": velo.id, "p": dave},
    )
    db.session.commit()
    assert paid(client, people["steward"], invoice.id).status_code == 200
    tx = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.ref == f"batch:{invoice.id}:paid"))
    commons = get_commons("velo")
    assert {p.account.code: p.amount_cents for p in tx.postings}[chart.person_payable(dave, commons).code] == 14250
    assert balance(chart.person_payable(dave, commons).code) == 0


def test_a_payout_line_changed_after_finalization_refuses_the_payment_and_writes_nothing(client, scenario):
    from sqlalchemy import text

    people, velo = scenario["people"], scenario["rounds"]["velo"]
    invoice = batch_of(velo, "invoice")
    db.session.execute(text("UPDATE payout_lines SET amount_cents = amount_cents + 50000 WHERE batch_id = :b"), {"b": invoice.id})
    db.session.commit()
    before = tx_count()
    refused = paid(client, people["steward"], invoice.id)
    assert refused.status_code == 409
    assert "ledger owes them €142.50" in refused.get_json()["error"]["message"]
    assert tx_count() == before and batch_of(velo, "invoice").state == "pending"
