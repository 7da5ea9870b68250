"""From a real round finalization to the salary lines, the payment and a paid round."""

from __future__ import annotations

import base64
from datetime import date, timedelta

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import add_cae_member, create_cae, fund_treasury, grant_accountant

from ledger.accounts.money import format_euros


def test_finalized_round_flows_to_salary_lines_and_payment(client, runner, make_person, make_commons):
    admin, steward, alice, acc = (
        make_person(admin=True),
        make_person("Steward"),
        make_person("Alice Martin"),
        make_person("Accountant"),
    )
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    add_cae_member(client, acc, "ECOTONE", alice, "E-042")
    make_commons(steward, "velo", members={"contributor": alice})
    fund_treasury(client, steward, "velo", on=date.today().isoformat())
    route = client.put(
        f"/api/v1/commons/velo/members/{alice.id}/route", json={"route": "cae", "cae": "ECOTONE"}, headers=alice.headers
    )
    assert route.status_code == 200
    first = date.today().replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    created = client.post(
        "/api/v1/commons/velo/rounds",
        json={
            "period_start": start.isoformat(),
            "period_end": (first - timedelta(days=1)).isoformat(),
            "envelope_cents": 100_000,
        },
        headers=steward.headers,
    )
    assert created.status_code == 201, created.get_json()
    round_id = created.get_json()["id"]
    declared = client.post(
        "/api/v1/contributions",
        json={
            "commons": "velo",
            "date": start.isoformat(),
            "hours": "10",
            "category": "care",
            "description": "Accueil des nouveaux",
        },
        headers=alice.headers,
    )
    assert declared.status_code == 201, declared.get_json()
    for _ in range(3):
        moved = client.post(
            f"/api/v1/rounds/{round_id}/advance", json={"reason": "month closed early for the test"}, headers=steward.headers
        )
        assert moved.status_code == 200, moved.get_json()
    line = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=alice.headers).get_json()["lines"][0]
    assert line["route"] == "cae" and line["salary_budget_cents"] > 0

    period = date.today().strftime("%Y-%m")
    export = client.get(f"/api/v1/exports/salary-lines?cae=ECOTONE&period={period}", headers=acc.headers)
    row = export.data.decode("utf-8-sig").split("\r\n")[1].split(";")
    assert row[2:6] == ["E-042", "Martin", "Alice", "CESA"]
    assert row[7] == format_euros(line["gross_cents"]) and row[8] == format_euros(line["levy_cents"])
    assert row[10] == format_euros(line["cae_contribution_cents"]) and row[11] == format_euros(line["salary_budget_cents"])
    key = load_pem_public_key(client.get("/api/v1/keys/signing").get_json()["public_key_pem"].encode())
    key.verify(base64.b64decode(export.headers["X-Ledger-Signature"]), export.data)

    batch_id = int(row[15])
    assert (
        client.post(
            f"/api/v1/payout-batches/{batch_id}/paid",
            json={"paid_on": date.today().isoformat(), "bank_reference": "VIR-E2E"},
            headers=acc.headers,
        ).status_code
        == 200
    )
    assert client.get(f"/api/v1/rounds/{round_id}").get_json()["state"] == "paid"
    recon = client.get("/api/v1/commons/velo/reconciliation", headers=steward.headers).get_json()
    assert recon["differences"] == [] and recon["totals"]["paid_cents"] == line["net_cents"] + line["topup_cents"]
    assert runner.invoke(["verify"]).exit_code == 0
