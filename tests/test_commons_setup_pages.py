"""Setting up and running a commons in the pages: creation by an admin, invitations by mail,
roles, categories, income, the FEC page and signed downloads. Mail is read from a real SMTP server."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from payouts_support import payroll_scenario
from sqlalchemy import func, select, update

from ledger.commons.models import Commons, Income, Membership
from ledger.contributions.models import Category
from ledger.extensions import db
from ledger.people.links import AccountLink
from ledger.people.models import Person
from ledger.people.passwords import check_password
from ledger.people.service import create_person
from ledger.timeutil import utcnow
from tests.mail_support import body_of, link_in


@pytest.fixture
def site(mail_app):
    app, inbox = mail_app
    admin = create_person("admin@example.org", "Admin", "correct horse battery", admin=True)
    plain = create_person("plain@example.org", "Plain", "correct horse battery")
    db.session.commit()
    return app.test_client(), inbox, admin.id, plain.id


def login(client, email, password="correct horse battery"):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_only_an_admin_creates_a_commons_from_the_page(site):
    client, _, _, _ = site
    login(client, "plain@example.org")
    assert client.get("/commons/new").status_code == 403
    assert client.post("/commons/new", data={"slug": "x", "name": "X"}).status_code == 403
    assert db.session.scalar(select(func.count(Commons.id))) == 0
    client.post("/logout")
    login(client, "admin@example.org")
    bad = client.post("/commons/new?lang=en", data={"slug": "Not A Slug", "name": "Vélo"})
    assert bad.status_code == 200 and "minuscules" in bad.get_data(as_text=True)
    done = client.post("/commons/new", data={"slug": "velo", "name": "Vélo partagé", "description": "Un atelier"})
    assert done.headers["Location"].endswith("/commons/velo/manage")
    commons = db.session.scalar(select(Commons).where(Commons.slug == "velo"))
    assert commons.name == "Vélo partagé"
    assert db.session.scalar(select(Membership.role).where(Membership.commons_id == commons.id)) == "steward"


def test_an_invitation_by_mail_lets_the_person_choose_a_password_once(site):
    client, inbox, _, _ = site
    login(client, "admin@example.org")
    client.post("/commons/new", data={"slug": "velo", "name": "Vélo"})
    sent = client.post("/commons/velo/invite", data={"email": "Steph@Example.org", "name": "Stéphanie", "role": "steward"})
    assert sent.status_code == 302
    message = inbox.wait_for("steph@example.org")[0]
    assert message["Subject"] == "Vous êtes invité·e à Vélo"
    assert "Admin vous invite à Vélo en tant que référent·e." in body_of(message)
    url = urlsplit(link_in(message, "/invitation/")).path
    steph = db.session.scalar(select(Person).where(Person.email == "steph@example.org"))
    assert steph.password_hash is None and steph.display_name == "Stéphanie"
    client.post("/logout")
    assert client.post(url, data={"password": "short", "confirm": "short"}).status_code == 200
    assert client.post(url, data={"password": "steph's long secret", "confirm": "steph's long secret"}).status_code == 302
    db.session.expire_all()
    assert check_password(db.session.get(Person, steph.id).password_hash, "steph's long secret")
    login(client, "steph@example.org", "steph's long secret")
    assert client.get("/commons/velo/manage").status_code == 200  # she is steward
    client.post("/logout")
    reused = client.post(url, data={"password": "another secret!", "confirm": "another secret!"})
    assert reused.status_code == 410
    db.session.expire_all()
    assert check_password(db.session.get(Person, steph.id).password_hash, "steph's long secret")


def test_an_expired_invitation_is_refused_and_a_refused_invitation_sends_nothing(site):
    client, inbox, _, _ = site
    login(client, "admin@example.org")
    client.post("/commons/new", data={"slug": "velo", "name": "Vélo"})
    client.post("/commons/velo/invite", data={"email": "late@example.org", "name": "Late", "role": "contributor"})
    url = urlsplit(link_in(inbox.wait_for("late@example.org")[0], "/invitation/")).path
    db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(url).status_code == 410
    again = client.post("/commons/velo/invite?lang=en", data={"email": "late@example.org", "name": "Late", "role": "member"})
    assert again.status_code == 422 and "fait déjà partie" in again.get_data(as_text=True)
    bad_role = client.post("/commons/velo/invite", data={"email": "x@example.org", "name": "X", "role": "king"})
    assert bad_role.status_code == 422
    assert db.session.scalar(select(func.count(Person.id)).where(Person.email == "x@example.org")) == 0
    assert len(inbox.messages) == 1


def test_a_member_cannot_invite_and_the_steward_changes_roles_but_keeps_one_steward(site):
    client, inbox, admin_id, plain_id = site
    login(client, "admin@example.org")
    client.post("/commons/new", data={"slug": "velo", "name": "Vélo"})
    client.post("/commons/velo/invite", data={"email": "plain@example.org", "name": "Plain", "role": "contributor"})
    assert "Connectez-vous avec votre mot de passe habituel" in body_of(inbox.wait_for("plain@example.org")[0])
    client.post(f"/commons/velo/members/{plain_id}/role", data={f"m{plain_id}-role": "member"})
    assert db.session.scalar(select(Membership.role).where(Membership.person_id == plain_id)) == "member"
    client.post(f"/commons/velo/members/{admin_id}/role", data={f"m{admin_id}-role": "contributor"})
    db.session.expire_all()
    assert db.session.scalar(select(Membership.role).where(Membership.person_id == admin_id)) == "steward"
    client.post("/logout")
    login(client, "plain@example.org")
    assert client.get("/commons/velo/manage").status_code == 403
    assert client.post("/commons/velo/invite", data={"email": "y@example.org", "name": "Y", "role": "steward"}).status_code == 403
    assert db.session.scalar(select(func.count(Person.id)).where(Person.email == "y@example.org")) == 0


def test_steward_adds_a_category_and_records_income_with_funder_and_earmark(site):
    client, _, _, _ = site
    login(client, "admin@example.org")
    client.post("/commons/new", data={"slug": "velo", "name": "Vélo", "started_on": "2026-01-01"})
    assert client.post("/commons/velo/categories", data={"code": "repairs", "label": "Réparations"}).status_code == 302
    assert db.session.scalar(select(Category.label).where(Category.code == "repairs")) == "Réparations"
    assert client.post("/commons/velo/categories", data={"code": "Bad Code", "label": "x"}).status_code == 422
    future = (date.today() + timedelta(days=3)).isoformat()
    refused = client.post(
        "/commons/velo/income?lang=en",
        data={"amount": "1200.50", "source": "grant", "funder": "Métropole", "earmark": "", "received_on": future},
    )
    assert refused.status_code == 422 and "ne peut pas être dans le futur" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Income.id))) == 0
    done = client.post(
        "/commons/velo/income",
        data={"amount": "1200.50", "source": "grant", "funder": "Métropole", "earmark": "ateliers", "received_on": "2026-01-10"},
    )
    assert done.status_code == 302
    income = db.session.scalar(select(Income))
    early = client.post(
        "/commons/velo/income",
        data={"amount": "10", "source": "grant", "funder": "Métropole", "earmark": "", "received_on": "2025-12-31"},
    )
    assert early.status_code == 422  # before the day the admin said the commons started
    assert (income.amount_cents, income.source, income.funder, income.earmark, income.received_on) == (
        120050,
        "grant",
        "Métropole",
        "ateliers",
        date(2026, 1, 10),
    )
    page = client.get("/commons/velo/manage?lang=en").get_data(as_text=True)
    assert "Métropole" in page and "ateliers" in page and "200,50" in page  # the first request chose French


@pytest.fixture
def scenario(client, make_person, make_commons):
    return payroll_scenario(client, make_person, make_commons)


def as_person(client, actor):
    with client.session_transaction() as session:
        session["person_id"] = actor.id


def public_key(client):
    return load_pem_public_key(client.get("/keys/signing.pem").data)


def test_salary_lines_page_offers_a_zip_with_the_signature_and_says_when_a_month_is_empty(client, scenario):
    people = scenario["people"]
    as_person(client, people["acc"])
    page = client.get("/caes/ECOTONE?lang=en").get_data(as_text=True)
    assert "openssl pkeyutl -verify" in page and "/keys/signing.pem" in page
    empty = client.get("/caes/ECOTONE/salary-lines?period=2024-01&form=zip&lang=en", follow_redirects=True)
    assert "No salary line for 2024-01" in empty.get_data(as_text=True) and empty.mimetype == "text/html"
    got = client.get("/caes/ECOTONE/salary-lines?period=2025-03&form=zip")
    assert got.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.data))
    names = sorted(archive.namelist())
    assert names == [
        "CHECK.txt",
        "ledger-signing.pem",
        "salary-lines-ECOTONE-2025-03.csv",
        "salary-lines-ECOTONE-2025-03.csv.sig",
    ]
    content = archive.read("salary-lines-ECOTONE-2025-03.csv")
    signature = base64.b64decode(archive.read("salary-lines-ECOTONE-2025-03.csv.sig"))
    public_key(client).verify(signature, content)  # raises if it does not verify
    assert "E-002" in content.decode("utf-8-sig")
    sig_only = client.get("/caes/ECOTONE/salary-lines?period=2025-03&form=sig")
    assert sig_only.headers["Content-Disposition"].endswith('.csv.sig"')
    public_key(client).verify(base64.b64decode(sig_only.data), content)


def test_fec_page_downloads_the_signed_file_for_stewards_and_refuses_others(client, scenario):
    people = scenario["people"]
    as_person(client, people["dave"])
    assert client.get("/commons/velo/fec").status_code == 403
    as_person(client, people["steward"])
    page = client.get("/commons/velo/fec?lang=en").get_data(as_text=True)
    assert "openssl pkeyutl -verify" in page
    empty = client.get("/commons/velo/fec?start=2020-01-01&end=2020-12-31&form=file&lang=en")
    assert empty.mimetype == "text/html" and "rien à télécharger" in empty.get_data(as_text=True)  # French from the first request
    no_siren = client.get("/commons/velo/fec?start=2025-01-01&end=2025-12-31&form=file")
    assert no_siren.mimetype == "text/html" and "SIREN" in no_siren.get_data(as_text=True)
    identity = client.put(
        "/api/v1/commons/velo/legal-identity",
        json={"siren": "900000019", "legal_name": "Vélo SAS"},
        headers=people["steward"].headers,
    )
    assert identity.status_code == 200, identity.get_json()
    got = client.get("/commons/velo/fec?start=2025-01-01&end=2025-12-31&form=file")
    assert got.mimetype == "text/plain" and "900000019FEC20251231.txt" in got.headers["Content-Disposition"]
    public_key(client).verify(base64.b64decode(got.headers["X-Ledger-Signature"]), got.data)
    assert got.data.decode("iso-8859-15").splitlines()[0].startswith("JournalCode")
