"""The worked example of docs/allocation.md, replayed through the API: every figure to the cent."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from ledger.accounts import chart
from ledger.accounts.service import balance
from ledger.extensions import db
from ledger.people.models import Person
from tests.rounds_support import World, advance, declare, make_cae, make_fund_manager, new_rules, open_round, set_route

DOC = Path(__file__).resolve().parents[1] / "docs" / "allocation.md"


def table(name: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(rf"<!-- worked-example:{name} -->\n(.*?)<!-- /worked-example:{name} -->", text, re.S).group(1)
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
    return rows[2:]  # header and separator


def quote(name: str) -> str:
    """The doc's quoted explanation for ``name``, on one line."""
    text = DOC.read_text(encoding="utf-8")
    block = re.search(rf"<!-- worked-example:{name} -->\n\*\"(.*?)\"\*\n<!-- /worked-example:{name} -->", text, re.S).group(1)
    return " ".join(block.split())


def cents(euros: str) -> int:
    whole, _, frac = euros.partition(".")
    return int(whole) * 100 + int(frac or 0)


def test_the_worked_example_is_reproduced_to_the_cent_through_the_api(client, make_person, make_commons, runner):
    steward = make_person("Camille")
    people = {name: make_person(name) for name in ("Ana", "Bob", "Cy", "Dee", "Eli")}  # ids in this order
    make_commons(steward, "roue-libre", members={f"contributor{i}": p for i, p in enumerate(people.values())})
    world = World("roue-libre", steward, people)
    assert (
        client.post(
            "/api/v1/commons/roue-libre/income",
            headers=steward.headers,
            json={"amount_cents": 150_000, "source": "grant", "funder": "Métropole", "date": "2026-01-02"},
        ).status_code
        == 201
    )
    new_rules(client, world, hourly_value_cents=2000, cap_cents=40_000, levy_rate="0.05", category_weights={"care": "1.5"})
    manager = make_person("Fund manager")
    make_fund_manager(manager)
    assert (
        client.post(
            "/api/v1/solidarity-fund/rules",
            headers=manager.headers,
            json={"reason": "half of each shortfall, 50 € at most", "topup_ratio": "0.5", "per_person_cap_cents": 5_000},
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/solidarity-fund/donations",
            headers=manager.headers,
            json={"amount_cents": 20_000, "donor": "Fondation des communs", "date": "2026-01-03"},
        ).status_code
        == 201
    )
    set_route(world, people["Cy"], "cae", make_cae("OXALIS", "0.10"))
    set_route(world, people["Dee"], "waive")
    rows = table("lines")
    for name, hours, category, *_ in rows:
        left, day = Decimal(hours), 5
        while left > 0:  # a few hours a day, as people declare them
            part = min(left, Decimal(6))
            declare(world, people[name], str(part), date(2026, 1, day), category=category)
            left, day = left - part, day + 1

    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 100_000)["id"]
    advance(client, world, round_id, times=3)
    allocation = client.get(f"/api/v1/rounds/{round_id}/allocation", headers=steward.headers).get_json()
    assert allocation["method"] == "time" and allocation["envelope_cents"] == 100_000 and allocation["rule_version"] == 2
    lines = {line["person_id"]: line for line in allocation["lines"]}
    for name, hours, _category, weighted, claim, gross, levy, net, topup, route, cae, salary in rows:
        line = lines[people[name].id]
        assert (line["hours"], line["route"]) == (f"{float(hours):.2f}", route), name
        assert float(line["weighted_hours"]) == float(weighted), name
        assert [
            line[k]
            for k in (
                "claim_cents",
                "gross_cents",
                "levy_cents",
                "net_cents",
                "topup_cents",
                "cae_contribution_cents",
                "salary_budget_cents",
            )
        ] == [cents(v) for v in (claim, gross, levy, net, topup, cae, salary)], name
    # Each person's own words, as the doc quotes them (in English, the second person).
    for name in ("Bob", "Eli"):
        own = client.get(
            f"/api/v1/rounds/{round_id}/allocation", headers={**people[name].headers, "Accept-Language": "en"}
        ).get_json()
        mine = next(line["explanation"] for line in own["lines"] if line["person_id"] == people[name].id)
        assert quote(name.lower()) in mine, name
    bob = lines[people["Bob"].id]["explanation"]  # read by the steward: about Bob
    assert bob.startswith(f"{db.session.get(Person, people['Bob'].id).public_name} declared 12.5 hours")

    totals = {label: cents(amount) for label, amount in table("totals")}
    fund = client.get("/api/v1/solidarity-fund").get_json()
    assert allocation["distributed_cents"] == totals["distributed (sum of gross)"]
    assert fund["levies_cents"] == totals["levies to the fund"]
    assert fund["topups_cents"] == totals["top-ups from the fund"]
    assert fund["balance_cents"] == totals["fund balance after finalization"]
    assert fund["owed_cents"] == totals["fund owes (top-ups not yet paid)"]
    assert fund["available_cents"] == totals["fund available after finalization"]
    db.session.expire_all()
    assert client.get("/api/v1/commons/roue-libre").get_json()["treasury_cents"] == totals["commons treasury after finalization"]
    assert balance(chart.person_payable(people["Dee"].id, world.commons).code) == 0
    assert runner.invoke(["verify"]).exit_code == 0
