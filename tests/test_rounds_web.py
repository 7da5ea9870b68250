"""Rules and round pages: history with what changed, the explained preview, steward actions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.extensions import db
from ledger.rounds.models import Round, RuleVersion
from tests.factories import login, make_world
from tests.rounds_support import advance, declare, open_round


@pytest.fixture
def world(app, make_person, make_commons):
    return make_world(make_person, make_commons)


def test_steward_proposes_rules_on_the_page_and_history_shows_what_changed(client, world):
    login(client, "steward@example.org")
    page = client.get("/commons/velo/rules?lang=en").get_data(as_text=True)
    assert "Version 1" in page and "Propose a new version" in page
    response = client.post(
        "/commons/velo/rules?lang=en",
        data={
            "reason": "care counts more",
            "allocation_method": "time",
            "hourly_value": "18.00",
            "cap": "",
            "levy_percent": "4",
            "category_weights": "care=1.5",
            "min_vouches": "0",
            "cadence": "monthly",
            "declaration_days": "5",
            "review_days": "7",
            "effective_from": date.today().isoformat(),
        },
    )
    assert response.status_code == 302
    version = db.session.scalar(select(RuleVersion).where(RuleVersion.version == 2))
    assert (version.hourly_value_cents, version.levy_rate, version.category_weights) == (1800, "0.04", {"care": "1.5"})
    page = client.get("/commons/velo/rules?lang=en").get_data(as_text=True)
    assert "What changed" in page and "Hourly value" in page and "care counts more" in page
    assert "hourly_value_cents" not in page and "Care = 1.5" in page  # settings and weights in words


def test_bad_rules_form_shows_errors_beside_fields_and_stores_nothing(client, world):
    login(client, "steward@example.org")
    response = client.post(
        "/commons/velo/rules?lang=en",
        data={
            "reason": "x",
            "allocation_method": "time",
            "hourly_value": "-3",
            "levy_percent": "150",
            "category_weights": "astro=2",
            "min_vouches": "0",
            "cadence": "monthly",
            "declaration_days": "5",
            "review_days": "7",
            "effective_from": "2026-01-01",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'aria-invalid="true"' in page and "error-summary" in page
    assert db.session.scalar(select(func.count(RuleVersion.id))) == 1


def test_a_member_cannot_propose_rules_from_the_page(client, world):
    login(client, "ana@example.org")
    assert "Propose a new version" not in client.get("/commons/velo/rules?lang=en").get_data(as_text=True)
    assert client.post("/commons/velo/rules", data={"reason": "mine"}).status_code == 403


def test_round_page_shows_the_explained_preview_and_the_steward_finalizes_from_it(client, world):
    declare(world, world.people["ana"], "4", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 50_000)["id"]
    advance(client, world, round_id, times=2)
    login(client, "ana@example.org")
    page = client.get(f"/rounds/{round_id}?lang=en").get_data(as_text=True)
    assert "Allocation preview" in page and "You declared 4 hours" in page and "Finalize" not in page
    client.post("/logout")
    login(client, "steward@example.org")
    simulated = client.post(
        f"/rounds/{round_id}/what-if?lang=en",
        data={"allocation_method": "time", "hourly_value": "30", "cap": "", "levy_percent": "5"},
    )
    assert simulated.status_code == 200 and "Simulated allocation" in simulated.get_data(as_text=True)
    assert "€120.00" in simulated.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_id)) == 0
    assert client.post(f"/rounds/{round_id}/finalize").status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == "finalized"
    assert db.session.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.round_id == round_id)) == 1
    # Ana finds her receipt on the round's page, and it proves her retribution.
    import json
    import re

    from ledger.accounts.receipts import check_receipt
    from ledger.accounts.signing import current_key, raw_public_key

    client.post("/logout")
    login(client, "ana@example.org")
    page = client.get(f"/rounds/{round_id}?lang=en").get_data(as_text=True)
    link = re.search(r'<p id="my-receipts">.*?href="([^"]+)"[^>]*>R[ée]tribution</a>', page, re.S).group(1)
    receipt = json.loads(client.get(link).data)
    assert receipt["transaction"]["kind"] == "round:retribution" and receipt["transaction"]["round_id"] == round_id
    assert check_receipt(receipt, raw_public_key(current_key())) == []


def test_steward_opens_a_round_from_the_page_and_an_uncovered_envelope_is_shown_beside_its_field(client, world):
    login(client, "steward@example.org")
    refused = client.post(
        "/commons/velo/rounds?lang=en", data={"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope": "5000"}
    )
    assert refused.status_code == 200 and "the treasury can cover at most" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Round.id))) == 0
    created = client.post(
        "/commons/velo/rounds", data={"period_start": "2026-01-01", "period_end": "2026-01-31", "envelope": "400"}
    )
    assert created.status_code == 302
    assert db.session.scalar(select(Round.envelope_cents)) == 40_000
