"""The CAE page adds members (the CAE's accountant or an admin) and accountants (an admin only)."""

from __future__ import annotations

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
