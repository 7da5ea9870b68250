"""Payout pages: choosing one's route, the CAE accountant's pages, a steward's payouts page."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import batch_of, create_cae, grant_accountant, payroll_scenario

from ledger.commons.models import Membership
from ledger.extensions import db
from tests.factories import login


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def route_of(person_id: int, slug: str) -> tuple[str, int | None]:
    db.session.expire_all()
    member = db.session.query(Membership).join(Membership.commons).filter(Membership.person_id == person_id).all()
    found = next(m for m in member if m.commons.slug == slug)
    return found.payout_route, found.payout_cae_id


def test_a_person_chooses_their_route_on_their_profile(client, scenario):
    alice = scenario["people"]["alice"]
    login(client, alice)
    page = client.get("/account/payouts?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Velo" in text and "Coopérative Ecotone (CESA)" in text and '<label for="m' in text
    member_id = db.session.query(Membership).join(Membership.commons).filter(Membership.person_id == alice.id).first().id
    saved = client.post("/account/payouts/velo", data={f"m{member_id}-route": "cae", f"m{member_id}-cae": "ECOTONE"})
    assert saved.status_code == 302
    assert route_of(alice.id, "velo")[0] == "cae"
    missing = client.post("/account/payouts/velo", data={f"m{member_id}-route": "cae", f"m{member_id}-cae": ""})
    assert missing.status_code == 422
    assert 'aria-invalid="true"' in missing.get_data(as_text=True)
    assert route_of(alice.id, "velo")[0] == "cae"


def test_cape_route_shows_a_warning(client, scenario):
    bob = scenario["people"]["bob"]
    login(client, bob)
    member_id = db.session.query(Membership).filter_by(person_id=bob.id).one().id
    client.post("/account/payouts/velo", data={f"m{member_id}-route": "cae", f"m{member_id}-cae": "ECOTONE"})
    page = client.get("/account/payouts?lang=en").get_data(as_text=True)
    assert "CAPE" in page and 'class="warning"' in page


def test_accountant_pages_export_and_mark_paid(client, scenario):
    people, rounds = scenario["people"], scenario["rounds"]
    login(client, people["acc"])
    page = client.get("/caes/ECOTONE?lang=en").get_data(as_text=True)
    assert "E-001" in page and "Martin-Legrand" in page
    download = client.get("/caes/ECOTONE/salary-lines?period=2025-03")
    assert download.status_code == 200 and download.data.startswith("\ufeffperiod;".encode())
    key = load_pem_public_key(client.get("/api/v1/keys/signing").get_json()["public_key_pem"].encode())
    key.verify(base64.b64decode(download.headers["X-Ledger-Signature"]), download.data)
    batch = batch_of(rounds["velo"], "cae")
    done = client.post(
        f"/payout-batches/{batch.id}/paid",
        data={"next": "/caes/ECOTONE", "paid_on": "2025-03-28", "bank_reference": "VIR-0328-ECO"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/caes/ECOTONE")
    db.session.expire_all()
    assert batch_of(rounds["velo"], "cae").state == "paid"
    recon = client.get("/caes/ECOTONE/reconciliation?lang=en").get_data(as_text=True)
    assert "€407.28" in recon and "the batches and the ledger agree" in recon
    assert client.get("/caes/ECOTONE/salary-lines?period=March").status_code == 422


def test_another_accountant_gets_403_on_the_pages(client, make_person, scenario):
    other = make_person("Other accountant")
    create_cae(client, scenario["people"]["admin"], code="OTHER", name="Autre")
    grant_accountant(client, scenario["people"]["admin"], "OTHER", other)
    login(client, other)
    for url in ("/caes/ECOTONE", "/caes/ECOTONE/reconciliation", "/caes/ECOTONE/salary-lines?period=2025-03"):
        assert client.get(url).status_code == 403, url
    assert client.get("/caes/OTHER").status_code == 200


def test_steward_marks_an_invoice_batch_paid_from_the_commons_page(client, scenario):
    people, rounds = scenario["people"], scenario["rounds"]
    login(client, people["steward"])
    page = client.get("/commons/velo/payouts?lang=en").get_data(as_text=True)
    invoice = batch_of(rounds["velo"], "invoice")
    assert f"Mark batch {invoice.id} paid" in page
    assert (
        client.post(
            f"/payout-batches/{invoice.id}/paid",
            data={"next": "/commons/velo/payouts", "paid_on": "2025-03-29", "bank_reference": "VIR-INV"},
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert batch_of(rounds["velo"], "invoice").state == "paid"
    login(client, people["dave"])
    assert client.get("/commons/velo/payouts").status_code == 403


def test_only_the_batchs_payer_marks_it_paid_from_the_page(client, make_person, scenario):
    """The CAE's accountant for a CAE batch, a steward (or an admin) for an invoice batch: the
    others get 403 and the batch stays as it was."""
    people, rounds = scenario["people"], scenario["rounds"]
    other = make_person("Other accountant")
    create_cae(client, people["admin"], code="OTHER", name="Autre")
    grant_accountant(client, people["admin"], "OTHER", other)
    cae, invoice = batch_of(rounds["velo"], "cae"), batch_of(rounds["velo"], "invoice")
    login(client, people["acc"])
    assert client.get("/caes/ECOTONE/salary-lines?period=2025-03").status_code == 200  # exported: payable now
    body = {"paid_on": "2025-03-28", "bank_reference": "VIR-1"}
    refused = {
        cae.id: (people["steward"], people["admin"], people["dave"], other),
        invoice.id: (people["acc"], people["dave"], other),
    }
    for batch_id, actors in refused.items():
        for actor in actors:
            login(client, actor)
            assert client.post(f"/payout-batches/{batch_id}/paid", data=body).status_code == 403, (batch_id, actor.email)
    db.session.expire_all()
    assert (batch_of(rounds["velo"], "cae").state, batch_of(rounds["velo"], "invoice").state) == ("exported", "pending")
    assert batch_of(rounds["velo"], "cae").bank_reference is None
    for batch_id, actor in ((cae.id, people["acc"]), (invoice.id, people["admin"])):
        login(client, actor)
        assert client.post(f"/payout-batches/{batch_id}/paid", data=body).status_code == 302
    db.session.expire_all()
    assert (batch_of(rounds["velo"], "cae").state, batch_of(rounds["velo"], "invoice").state) == ("paid", "paid")
