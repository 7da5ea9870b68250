"""The CAE page adds members (the CAE's accountant or an admin) and accountants (an admin only)."""

from __future__ import annotations

import pytest
from payouts_support import create_cae, grant_accountant
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.payouts.models import CaeMembership
from ledger.payouts.service import employee_ref
from ledger.people.models import PersonRole


def as_person(client, actor):
    with client.session_transaction() as session:
        session["person_id"] = actor.id


def test_the_accountant_adds_a_member_with_an_encrypted_reference(client, make_person):
    admin, acc, eve = make_person("Admin", admin=True), make_person("Acc"), make_person("Ève Durand")
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    as_person(client, acc)
    page = client.get("/caes/ECOTONE?lang=en").get_data(as_text=True)
    assert 'id="cae-member-form"' in page and 'id="cae-accountant-form"' not in page
    refused = client.post(
        "/caes/ECOTONE/members?lang=en",
        data={"email": "nobody@example.org", "employee_ref": "E-9", "contract_type": "CESA"},
        follow_redirects=True,
    )
    assert "no person has this email" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CaeMembership.id))) == 0
    client.post("/caes/ECOTONE/members", data={"email": eve.email, "employee_ref": "E-77", "contract_type": "CAPE"})
    member = db.session.scalar(select(CaeMembership))
    assert (member.person_id, member.contract_type, member.last_name, employee_ref(member)) == (eve.id, "CAPE", "Durand", "E-77")
    assert b"E-77" not in member.employee_ref_encrypted
    assert client.post("/caes/ECOTONE/accountants", data={"email": eve.email}).status_code == 403


def test_an_admin_makes_someone_accountant_and_others_are_refused(client, make_person):
    admin, acc, other = make_person("Admin", admin=True), make_person("Acc"), make_person("Other")
    create_cae(client, admin)
    as_person(client, other)
    assert (
        client.post(
            "/caes/ECOTONE/members", data={"email": other.email, "employee_ref": "X", "contract_type": "CESA"}
        ).status_code
        == 403
    )
    as_person(client, admin)
    assert 'id="cae-accountant-form"' in client.get("/caes/ECOTONE").get_data(as_text=True)
    client.post("/caes/ECOTONE/accountants", data={"email": acc.email})
    roles = db.session.scalars(select(PersonRole).where(PersonRole.person_id == acc.id)).all()
    assert [(r.role, r.cae.code) for r in roles] == [("cae_accountant", "ECOTONE")]
    assert db.session.scalar(select(func.count(CaeMembership.id))) == 0


ANALYTIC_CASES = [
    # (analytic code typed, stored?) — the API and the page give the same answer
    ("ACT-01", True),
    ("a b", False),
    ("x" * 33, False),
]


@pytest.mark.parametrize("edge", ("api", "page"))
@pytest.mark.parametrize(("code", "stored"), ANALYTIC_CASES)
def test_the_analytic_code_follows_one_rule_in_the_api_and_the_page(client, make_person, edge, code, stored):
    admin, acc, eve = make_person("Admin", admin=True), make_person("Acc"), make_person("Ève Durand")
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    body = {"email": eve.email, "employee_ref": "E-77", "contract_type": "CESA", "analytic_code": code}
    if edge == "api":
        response = client.post("/api/v1/caes/ECOTONE/members", json=body, headers=acc.headers)
        named = response.status_code == 422 and "analytic_code" in response.get_json()["error"]["fields"]
    else:
        as_person(client, acc)
        response = client.post("/caes/ECOTONE/members?lang=en", data=body, follow_redirects=True)
        named = "analytic_code" in response.get_data(as_text=True)
    member = db.session.scalar(select(CaeMembership))
    if stored:
        assert member is not None and member.analytic_code == code
    else:
        assert member is None and named  # refused, naming the field, nothing stored


def test_the_accountant_sees_each_members_analytic_code_on_the_cae_page(client, make_person):
    admin, acc, eve = make_person("Admin", admin=True), make_person("Acc"), make_person("Ève Durand")
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    as_person(client, acc)
    client.post(
        "/caes/ECOTONE/members",
        data={"email": eve.email, "employee_ref": "E-77", "contract_type": "CESA", "analytic_code": "ACT-EVE"},
    )
    page = client.get("/caes/ECOTONE?lang=en").get_data(as_text=True)
    assert '<td class="analytic-code"><code>ACT-EVE</code></td>' in page
    assert 'name="analytic_code"' in page and 'name="analytic"' in page  # the member form and the export option
