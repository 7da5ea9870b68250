"""My account: profile, password change, password reset by mail, and the menus a person's roles allow.
Mail is read from a real SMTP server running in the test process."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from ledger import mail
from ledger.extensions import db
from ledger.people.links import AccountLink
from ledger.people.models import Person
from ledger.people.passwords import check_password
from ledger.people.service import create_person
from ledger.timeutil import utcnow
from tests.mail_support import body_of, link_in


@pytest.fixture
def setup(mail_app):
    app, inbox = mail_app
    person = create_person("zoe@example.org", "Zoé Martin", "correct horse battery", pseudonym="zoe-m")
    person.locale = "fr"
    db.session.commit()
    return app.test_client(), inbox, person.id


def login(client, email="zoe@example.org", password="correct horse battery"):
    return client.post("/login", data={"email": email, "password": password})


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_profile_saves_names_consent_and_language(setup):
    client, _, person_id = setup
    login(client)
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert 'value="Zoé Martin"' in page and 'value="zoe-m"' in page and "API tokens" in page
    saved = client.post(
        "/account", data={"display_name": "Zoé M.", "pseudonym": "zozo", "show_name_publicly": "y", "locale": "en"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    zoe = db.session.get(Person, person_id)
    assert (zoe.display_name, zoe.pseudonym, zoe.show_name_publicly, zoe.locale) == ("Zoé M.", "zozo", True, "en")
    assert zoe.public_name == "Zoé M."
    client.post("/account", data={"display_name": "Zoé M.", "pseudonym": "zozo", "locale": "fr"})
    db.session.expire_all()
    assert db.session.get(Person, person_id).show_name_publicly is False


def test_profile_refuses_a_taken_pseudonym_beside_its_field(setup):
    client, _, person_id = setup
    create_person("other@example.org", "Other", pseudonym="taken-one")
    db.session.commit()
    login(client)
    refused = client.post("/account?lang=en", data={"display_name": "Zoé", "pseudonym": "taken-one", "locale": "en"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Another person uses this pseudonym." in page and 'aria-invalid="true"' in page
    db.session.expire_all()
    assert db.session.get(Person, person_id).pseudonym == "zoe-m"


def test_changing_the_password_needs_the_current_one(setup):
    client, _, person_id = setup
    login(client)
    wrong = client.post(
        "/account/password?lang=en",
        data={"current": "nope nope nope", "password": "a new long pass", "confirm": "a new long pass"},
    )
    assert "Your current password is wrong." in wrong.get_data(as_text=True)
    short = client.post(
        "/account/password?lang=en", data={"current": "correct horse battery", "password": "short", "confirm": "short"}
    )
    assert "Use at least 10 characters." in short.get_data(as_text=True)
    differ = client.post(
        "/account/password?lang=en",
        data={"current": "correct horse battery", "password": "a new long pass", "confirm": "another long one"},
    )
    assert "The two passwords differ." in differ.get_data(as_text=True)
    db.session.expire_all()
    assert check_password(db.session.get(Person, person_id).password_hash, "correct horse battery")
    done = client.post(
        "/account/password",
        data={"current": "correct horse battery", "password": "a new long pass", "confirm": "a new long pass"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert check_password(db.session.get(Person, person_id).password_hash, "a new long pass")


def test_password_reset_by_mail_works_once_and_in_the_persons_language(setup):
    client, inbox, person_id = setup
    asked = client.post("/password/forgot?lang=en", data={"email": "ZOE@example.org"}, follow_redirects=True)
    assert "a link to choose a new password is on its way" in asked.get_data(as_text=True)
    message = inbox.wait_for("zoe@example.org")[0]
    assert message["Subject"] == "Choisissez un nouveau mot de passe"  # Zoé reads French
    assert "Bonjour Zoé Martin" in body_of(message)
    url = link_in(message, "/password/reset/")
    assert client.get(path_of(url)).status_code == 200
    set_ = client.post(path_of(url), data={"password": "brand new secret", "confirm": "brand new secret"})
    assert set_.status_code == 302
    db.session.expire_all()
    assert check_password(db.session.get(Person, person_id).password_hash, "brand new secret")
    assert login(client, password="brand new secret").status_code == 302
    client.post("/logout")
    reused = client.post(path_of(url) + "?lang=en", data={"password": "third secret pass", "confirm": "third secret pass"})
    assert reused.status_code == 410 and "already used" in reused.get_data(as_text=True)
    db.session.expire_all()
    assert check_password(db.session.get(Person, person_id).password_hash, "brand new secret")


def test_an_expired_or_unknown_reset_link_is_refused(setup):
    client, inbox, person_id = setup
    client.post("/password/forgot", data={"email": "zoe@example.org"})
    url = link_in(inbox.wait_for("zoe@example.org")[0], "/password/reset/")
    db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expired = client.post(path_of(url) + "?lang=en", data={"password": "brand new secret", "confirm": "brand new secret"})
    assert expired.status_code == 410 and "a expiré" in expired.get_data(as_text=True)  # French by default
    assert client.get("/password/reset/not-a-token?lang=en").status_code == 410
    db.session.expire_all()
    assert check_password(db.session.get(Person, person_id).password_hash, "correct horse battery")


def test_forgot_password_says_the_same_for_an_unknown_address_and_sends_nothing(setup):
    client, inbox, _ = setup
    answer = client.post("/password/forgot?lang=en", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert "a link to choose a new password is on its way" in answer.get_data(as_text=True)
    assert inbox.messages == [] and db.session.scalar(select(func.count(AccountLink.id))) == 0


def test_resets_are_limited_per_hour(setup):
    client, inbox, _ = setup
    for _ in range(5):
        client.post("/password/forgot", data={"email": "zoe@example.org"})
    inbox.wait_for("zoe@example.org", 3)
    assert db.session.scalar(select(func.count(AccountLink.id))) == 3 and len(inbox.messages) == 3


def test_without_smtp_mail_goes_to_the_outbox_and_ledger_outbox_lists_it(app, client, runner):
    create_person("yan@example.org", "Yan", "correct horse battery")
    db.session.commit()
    client.post("/password/forgot", data={"email": "yan@example.org"})
    rows = mail.outbox()
    assert [(r["to"], r["subject"]) for r in rows] == [("yan@example.org", "Choisissez un nouveau mot de passe")]
    result = runner.invoke(["outbox"])
    assert result.exit_code == 0, result.output
    assert "yan@example.org" in result.output and "Choisissez" in result.output and "1 message(s)" in result.output


def test_menus_show_what_the_roles_allow(client, make_person, make_commons):
    steward, ana, outsider = make_person("Steward"), make_person("Ana"), make_person("Outsider")
    make_commons(steward, "velo", name="Vélo", members={"member": ana})

    def nav(actor) -> str:
        with client.session_transaction() as session:
            session["person_id"] = actor.id
        page = client.get("/?lang=en").get_data(as_text=True)
        return page.split('aria-label="Main"')[1].split("</nav>")[0]

    outsider_nav = nav(outsider)
    assert "My account" in outsider_nav and "Declare" not in outsider_nav and "My money" not in outsider_nav
    assert "API tokens" not in outsider_nav and "CAE payroll" not in outsider_nav
    ana_nav = nav(ana)
    assert "Declare" in ana_nav and "My money" in ana_nav and "/commons/velo" not in ana_nav
    assert "/commons/velo" in nav(steward)
