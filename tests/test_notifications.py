"""Mail about what waits: at once for an objection, a daily digest otherwise, with an opt-out.
Every mail is read from a real SMTP server in the test process."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ledger.extensions import db
from ledger.inbox.notifications import MailPreference, send_digests, set_opt_out
from ledger.people.models import Person
from ledger.rounds.scheduler import run_tick
from tests.mail_support import body_of
from tests.rounds_support import World, advance, declare, fund_commons, open_round


@pytest.fixture
def app(make_app, smtp_server):
    app = make_app(LEDGER_SMTP_URL=smtp_server[0])
    with app.app_context():
        yield app


@pytest.fixture
def inbox(smtp_server):
    return smtp_server[1]


@pytest.fixture
def world(app, make_person, make_commons):
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", name="Vélo", members={"member": ana, "member2": bob})
    w = World("velo", steward, {"ana": ana, "bob": bob})
    fund_commons(w, 100_000)
    return w


def object_in_review(client, world) -> int:
    contribution = declare(world, world.people["ana"], "3", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    advance(client, world, round_id)
    response = client.post(
        f"/api/v1/contributions/{contribution}/objections",
        json={"reason": "these hours were counted twice"},
        headers=world.people["bob"].headers,
    )
    assert response.status_code == 201, response.get_json()
    return contribution


def test_an_objection_mails_the_contributor_and_the_voters_at_once_not_the_objector(client, world, inbox):
    contribution = object_in_review(client, world)
    to_ana = inbox.wait_for(world.people["ana"].email)[0]
    assert to_ana["Subject"] == "Une objection à votre contribution"
    assert "these hours were counted twice" in body_of(to_ana) and f"/contributions/{contribution}" in body_of(to_ana)
    to_steward = inbox.wait_for(world.steward.email)[0]
    assert to_steward["Subject"] == "Une objection à soumettre au vote"
    assert inbox.to(world.people["bob"].email) == []
    assert len(inbox.messages) == 2


def test_an_opted_out_person_gets_no_mail(client, world, inbox):
    set_opt_out(db.session.get(Person, world.steward.id), True)
    db.session.commit()
    object_in_review(client, world)
    inbox.wait_for(world.people["ana"].email)
    assert inbox.to(world.steward.email) == []


def test_the_digest_goes_once_a_day_and_reminds_of_a_review_closing_soon(app, client, world, inbox):
    start = date.today() - timedelta(days=38)  # review from 5 days ago to 2 days ahead
    declare(world, world.people["ana"], "2", start + timedelta(days=1))
    round_id = open_round(client, world, start.isoformat(), (start + timedelta(days=27)).isoformat(), 10_000)["id"]
    run_tick(app)  # the declaration window has ended: the round moves to review
    db.session.expire_all()
    from ledger.rounds.models import Round

    round_ = db.session.get(Round, round_id)
    assert round_.state == "review"
    digests = inbox.wait_for(world.people["ana"].email)
    body = body_of(digests[0])
    assert digests[0]["Subject"] == "Ce qui vous attend"
    assert "Vélo" in body and round_.allocation_on.isoformat() in body
    assert round_.allocation_on == date.today() + timedelta(days=2)
    assert "Bientôt close\xa0: la revue de Vélo se termine dans les 2 jours." in body
    assert (
        db.session.scalar(select(MailPreference.digest_sent_on).where(MailPreference.person_id == world.people["ana"].id))
        == date.today()
    )
    count = len(inbox.messages)
    assert send_digests() == 0  # already sent today
    db.session.commit()
    assert len(inbox.messages) == count


def test_profile_checkbox_opts_out_of_mail(client, world):
    ana = world.people["ana"]
    with client.session_transaction() as session:
        session["person_id"] = ana.id
    page = client.get("/account").get_data(as_text=True)
    checkbox = page.split('name="mail_opt_in"')[0].rsplit("<input", 1)[1] + page.split('name="mail_opt_in"')[1].split(">")[0]
    assert "checked" in checkbox
    client.post("/account", data={"display_name": "Ana", "pseudonym": "ana-p", "locale": "fr"})
    assert db.session.get(MailPreference, ana.id).opted_out is True
