"""Issue 16 item 9: the shared field types refuse, naming the field, on every engine: NUL and other
control characters, bidirectional overrides, blank or zero-width-only text, far-off dates, and
numbers written with other than ASCII digits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.timeutil import today

YESTERDAY = (today() - timedelta(days=1)).isoformat()


@pytest.fixture
def steward(make_person, make_commons):
    person = make_person("Steward", admin=True)
    make_commons(person, "velo")
    return person


def income(**overrides) -> dict:
    return {"amount_cents": 1000, "source": "donation", "funder": "Mairie", "date": YESTERDAY, "earmark": None} | overrides


def contribution(**overrides) -> dict:
    return {"commons": "velo", "date": YESTERDAY, "hours": "2", "category": "care", "description": "Repaired bikes"} | overrides


def donation(**overrides) -> dict:
    return {"amount_cents": 1000, "donor": "Ana", "date": YESTERDAY} | overrides


CASES = [
    ("/api/v1/commons/velo/income", income(funder="Mai\x00rie"), "funder"),
    ("/api/v1/commons/velo/income", income(earmark="bikes\x00"), "earmark"),
    ("/api/v1/commons/velo/income", income(funder="   "), "funder"),
    ("/api/v1/commons/velo/income", income(funder="\u200b\u200b\u2060"), "funder"),
    ("/api/v1/commons/velo/income", income(funder="Mairie \u202egnp.exe"), "funder"),
    ("/api/v1/commons/velo/income", income(date="9999-12-31"), "date"),
    ("/api/v1/solidarity-fund/donations", donation(donor="A\x00na"), "donor"),
    ("/api/v1/solidarity-fund/donations", donation(date="9999-12-31"), "date"),
    ("/api/v1/contributions", contribution(description="\u200b\u200b\u200b\u200b"), "description"),
    ("/api/v1/contributions", contribution(description="fixed \u2066brakes\u2069"), "description"),
    ("/api/v1/contributions", contribution(description="fixed\x00brakes"), "description"),
    ("/api/v1/contributions", contribution(hours="１"), "hours"),
    ("/api/v1/contributions", contribution(hours="٣"), "hours"),
    ("/api/v1/contributions", contribution(hours="1_0"), "hours"),
    ("/api/v1/contributions", contribution(date="9999-12-31"), "date"),
]


@pytest.mark.parametrize("path, body, field", CASES)
def test_bad_text_dates_and_numbers_are_refused_naming_the_field(client, steward, path, body, field):
    response = client.post(path, json=body, headers=steward.headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["fields"], response.get_json()


def test_a_nul_in_an_employee_reference_is_refused_naming_it(client, make_person):
    from payouts_support import create_cae, grant_accountant

    admin, acc, alice = make_person("Admin", admin=True), make_person("Acc"), make_person("Alice")
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    response = client.post(
        "/api/v1/caes/ECOTONE/members",
        json={"email": alice.email, "employee_ref": "E\x001", "contract_type": "CESA"},
        headers=acc.headers,
    )
    assert response.status_code == 422 and "employee_ref" in response.get_json()["error"]["fields"]


def test_text_is_trimmed_and_ordinary_scripts_are_kept(client, steward):
    body = income(funder="  مدينة Ville de Lyon  ", earmark="vélos")
    response = client.post("/api/v1/commons/velo/income", json=body, headers=steward.headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["funder"] == "مدينة Ville de Lyon"


@pytest.mark.parametrize("hours", ["１", "٣", "1_0", "\u200b\u200b"])
def test_the_declaration_form_refuses_the_same_hours(client, steward, hours):
    with client.session_transaction() as session:
        session["person_id"] = steward.id
    response = client.post(
        "/contributions/new",
        data={"commons": "velo", "date": YESTERDAY, "hours": hours, "category": "care", "description": "Repaired bikes"},
    )
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_the_declaration_form_refuses_zero_width_and_bidi_descriptions(client, steward):
    with client.session_transaction() as session:
        session["person_id"] = steward.id
    for description in ("\u200b\u200b\u200b\u200b", "fixed \u202ebrakes"):
        response = client.post(
            "/contributions/new",
            data={"commons": "velo", "date": YESTERDAY, "hours": "2", "category": "care", "description": description},
        )
        assert response.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count(Contribution.id))) == 0
