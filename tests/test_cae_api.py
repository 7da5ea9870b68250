"""CAEs, their members and accountants, payout routes, and who may see what."""

from __future__ import annotations

from pathlib import Path

import pytest
from payouts_support import add_cae_member, create_cae, grant_accountant
from sqlalchemy import text

from ledger.extensions import db
from ledger.payouts.models import Cae, CaeMembership


@pytest.fixture
def cast(make_person):
    return {
        "admin": make_person("Admin", admin=True),
        "steward": make_person("Steward Person"),
        "alice": make_person("Alice Martin"),
        "bob": make_person("Bob Durand"),
        "acc": make_person("Accountant Ecotone"),
        "acc2": make_person("Accountant Other"),
    }


def test_admin_creates_a_cae_and_others_cannot(client, cast):
    refused = client.post(
        "/api/v1/caes",
        json={"code": "X", "name": "X", "contribution_rate": "0.1", "employer_rate": "0.4"},
        headers=cast["alice"].headers,
    )
    assert refused.status_code == 403
    created = create_cae(client, cast["admin"], code="ecotone")
    assert created["code"] == "ECOTONE" and created["contribution_rate"] == "0.10" and created["employer_rate"] == "0.45"
    assert client.get("/api/v1/caes/ECOTONE").get_json()["name"] == "Coopérative Ecotone"
    duplicate = client.post(
        "/api/v1/caes",
        json={"code": "ECOTONE", "name": "Again", "contribution_rate": "0.1", "employer_rate": "0.4"},
        headers=cast["admin"].headers,
    )
    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["fields"] == {"code": ["already taken"]}


@pytest.mark.parametrize(
    "field,value", [("contribution_rate", "1.5"), ("employer_rate", "abc"), ("code", "bad code!"), ("contribution_rate", 0.1)]
)
def test_bad_cae_input_names_the_field_and_stores_nothing(client, cast, field, value):
    payload = {"code": "OK", "name": "Ok", "contribution_rate": "0.1", "employer_rate": "0.4", field: value}
    response = client.post("/api/v1/caes", json=payload, headers=cast["admin"].headers)
    if field == "contribution_rate" and value == 0.1:
        # a number is accepted as a rate too: check it was stored exactly
        assert response.status_code == 201 and response.get_json()["contribution_rate"] == "0.1"
        return
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(Cae).count() == 0


def test_members_are_added_by_admin_or_the_cae_accountant_only(client, cast):
    create_cae(client, cast["admin"])
    create_cae(client, cast["admin"], code="OTHER", name="Autre CAE")
    grant_accountant(client, cast["admin"], "ECOTONE", cast["acc"])
    grant_accountant(client, cast["admin"], "OTHER", cast["acc2"])
    payload = {"email": cast["alice"].email, "employee_ref": "E-001", "contract_type": "CESA"}
    assert client.post("/api/v1/caes/ECOTONE/members", json=payload, headers=cast["acc2"].headers).status_code == 403
    assert client.post("/api/v1/caes/ECOTONE/members", json=payload, headers=cast["alice"].headers).status_code == 403
    member = add_cae_member(client, cast["acc"], "ECOTONE", cast["alice"], "E-001")
    # the CAE's own accountant sees the reference; names default from the display name
    assert member["employee_ref"] == "E-001"
    assert (member["first_name"], member["last_name"], member["contract_type"]) == ("Alice", "Martin", "CESA")
    by_admin = add_cae_member(
        client, cast["admin"], "ECOTONE", cast["bob"], "E-002", "CAPE", first_name="Robert", last_name="Durand"
    )
    assert "employee_ref" not in by_admin and by_admin["first_name"] == "Robert"
    listed = client.get("/api/v1/caes/ECOTONE/members", headers=cast["acc"].headers).get_json()
    assert [m["employee_ref"] for m in listed] == ["E-001", "E-002"]
    assert all(
        "employee_ref" not in m for m in client.get("/api/v1/caes/ECOTONE/members", headers=cast["admin"].headers).get_json()
    )
    assert client.get("/api/v1/caes/ECOTONE/members", headers=cast["acc2"].headers).status_code == 403
    again = client.post("/api/v1/caes/ECOTONE/members", json=payload, headers=cast["acc"].headers)
    assert again.status_code == 409


def test_bad_member_input_names_the_field(client, cast):
    create_cae(client, cast["admin"])
    cases = [
        ({"email": cast["alice"].email, "employee_ref": "E", "contract_type": "CDI"}, "contract_type"),
        ({"email": "nobody@example.org", "employee_ref": "E", "contract_type": "CESA"}, "email"),
        ({"email": cast["alice"].email, "employee_ref": "", "contract_type": "CESA"}, "employee_ref"),
        ({"email": cast["alice"].email, "contract_type": "CESA"}, "employee_ref"),
    ]
    for payload, field in cases:
        response = client.post("/api/v1/caes/ECOTONE/members", json=payload, headers=cast["admin"].headers)
        assert response.status_code == 422, payload
        assert field in response.get_json()["error"]["fields"]
    assert db.session.query(CaeMembership).count() == 0


def test_employee_reference_is_never_stored_in_clear(app, client, cast):
    create_cae(client, cast["admin"])
    secret = "SECRET-REF-7731"
    add_cae_member(client, cast["admin"], "ECOTONE", cast["alice"], secret)
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        db.engine.dispose()  # flush the WAL into the main file so the whole database is in one place
        path = Path(db.engine.url.database)
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert secret.encode() not in raw
    else:
        stored = db.session.execute(text("SELECT employee_ref_encrypted FROM cae_memberships")).scalar_one()
        assert secret.encode() not in bytes(stored)
        dumped = db.session.execute(
            text("SELECT string_agg(encode(employee_ref_encrypted, 'escape'), '') FROM cae_memberships")
        ).scalar_one()
        assert secret not in dumped
    member = db.session.query(CaeMembership).one()
    from ledger.crypto import decrypt

    assert decrypt(member.employee_ref_encrypted) == secret


def test_route_to_a_cae_needs_a_membership_and_warns_for_cape(client, cast, make_commons):
    create_cae(client, cast["admin"])
    make_commons(cast["steward"], "velo", members={"contributor": cast["alice"], "contributor2": cast["bob"]})
    url = f"/api/v1/commons/velo/members/{cast['alice'].id}/route"
    no_code = client.put(url, json={"route": "cae"}, headers=cast["alice"].headers)
    assert no_code.status_code == 422 and "cae" in no_code.get_json()["error"]["fields"]
    not_member = client.put(url, json={"route": "cae", "cae": "ECOTONE"}, headers=cast["alice"].headers)
    assert not_member.status_code == 422 and "cae" in not_member.get_json()["error"]["fields"]
    unknown = client.put(url, json={"route": "cae", "cae": "NOPE"}, headers=cast["alice"].headers)
    assert unknown.status_code == 422 and "cae" in unknown.get_json()["error"]["fields"]
    bad_route = client.put(url, json={"route": "bank"}, headers=cast["alice"].headers)
    assert bad_route.status_code == 422 and "route" in bad_route.get_json()["error"]["fields"]
    # the default route is invoice, and nothing above changed it
    assert client.get(url, headers=cast["alice"].headers).get_json()["route"] == "invoice"

    add_cae_member(client, cast["admin"], "ECOTONE", cast["alice"], "E-1", "CESA")
    add_cae_member(client, cast["admin"], "ECOTONE", cast["bob"], "E-2", "CAPE")
    ok = client.put(url, json={"route": "cae", "cae": "ecotone"}, headers=cast["alice"].headers).get_json()
    assert ok == {
        "commons": "velo",
        "person_id": cast["alice"].id,
        "route": "cae",
        "cae": "ECOTONE",
        "contract_type": "CESA",
        "warnings": [],
    }
    cape = client.put(
        f"/api/v1/commons/velo/members/{cast['bob'].id}/route",
        json={"route": "cae", "cae": "ECOTONE"},
        headers=cast["steward"].headers,
    ).get_json()
    assert cape["route"] == "cae" and cape["contract_type"] == "CAPE" and "CAPE" in cape["warnings"][0]
    back = client.put(url, json={"route": "waive"}, headers=cast["alice"].headers).get_json()
    assert back["route"] == "waive" and back["cae"] is None
    mine = client.get("/api/v1/me/payout-routes", headers=cast["bob"].headers).get_json()
    assert [(r["commons"], r["route"], r["cae"]) for r in mine] == [("velo", "cae", "ECOTONE")]


def test_only_the_person_or_a_steward_sets_a_route(client, cast, make_commons):
    make_commons(cast["steward"], "velo", members={"contributor": cast["alice"], "member": cast["bob"]})
    url = f"/api/v1/commons/velo/members/{cast['alice'].id}/route"
    assert client.put(url, json={"route": "fund"}, headers=cast["bob"].headers).status_code == 403
    assert client.put(url, json={"route": "fund"}).status_code == 401
    assert client.get(url, headers=cast["bob"].headers).status_code == 403
    assert client.put(url, json={"route": "fund"}, headers=cast["steward"].headers).get_json()["route"] == "fund"
    missing = client.put(
        f"/api/v1/commons/velo/members/{cast['acc'].id}/route", json={"route": "fund"}, headers=cast["steward"].headers
    )
    assert missing.status_code == 404


def test_accountant_of_one_cae_is_refused_everything_of_another(client, cast):
    create_cae(client, cast["admin"])
    create_cae(client, cast["admin"], code="OTHER", name="Autre CAE")
    grant_accountant(client, cast["admin"], "OTHER", cast["acc2"])
    headers = cast["acc2"].headers
    for url in (
        "/api/v1/caes/ECOTONE/members",
        "/api/v1/caes/ECOTONE/batches",
        "/api/v1/caes/ECOTONE/reconciliation",
        "/api/v1/exports/salary-lines?cae=ECOTONE&period=2025-03",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["error"]["code"] == "forbidden"
    # and their own CAE works
    assert client.get("/api/v1/caes/OTHER/reconciliation", headers=headers).status_code == 200
    assert client.get("/api/v1/exports/salary-lines?cae=OTHER&period=2025-03", headers=headers).status_code == 200
    assert client.post("/api/v1/caes/OTHER/accountants", json={"email": cast["alice"].email}, headers=headers).status_code == 403
