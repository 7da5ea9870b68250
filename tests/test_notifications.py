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


def test_a_vote_opening_on_the_rules_mails_each_voter_once_but_the_author_contributors_and_the_opted_out(
    client, make_person, make_commons, inbox
):
    from tests.governance_support import propose, set_procedure

    steward, ana, bob, cy, dee = (make_person(n) for n in ("Steward", "Ana", "Bob", "Cy", "Dee"))
    make_commons(steward, "velo", name="Vélo", members={"member": ana, "member2": bob, "member3": cy, "contributor": dee})
    set_opt_out(db.session.get(Person, cy.id), True)
    db.session.commit()
    set_procedure(client, "velo", steward, decision_procedure="vote", quorum="0.5", majority="0.5")
    assert inbox.messages == []  # a direct change opens no vote
    made = propose(client, "velo", ana, title="Raise the hourly value")
    to_steward, to_bob = inbox.wait_for(steward.email)[0], inbox.wait_for(bob.email)[0]
    assert to_steward["Subject"] == to_bob["Subject"] == "Un vote sur les règles de Vélo"
    body = body_of(to_bob)
    assert "« Raise the hourly value »" in body and f"jusqu'au {made['deadline']}" in body
    assert f"/proposals/{made['id']}" in body and body.startswith("Bonjour Bob,")
    # The author opened it, a contributor does not vote, Cy opted out: two mails, no more.
    assert sorted(m["To"] for m in inbox.messages) == sorted([steward.email, bob.email])


def test_a_vote_opening_with_colleges_mails_only_the_members_placed_in_one(client, make_person, make_commons, inbox):
    from tests.governance_support import propose, set_procedure

    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", name="Vélo", members={"member": ana, "member2": bob})
    college = client.post(
        "/api/v1/commons/velo/colleges", json={"code": "workers", "name": "Workers", "weight": "1"}, headers=steward.headers
    )
    assert college.status_code == 201, college.get_json()
    placed = client.put(
        "/api/v1/commons/velo/colleges/members", json={"email": bob.email, "college": "workers"}, headers=steward.headers
    )
    assert placed.status_code == 200, placed.get_json()
    # colleges are set while stewards decide alone; under a vote they change by proposal
    set_procedure(client, "velo", steward, decision_procedure="vote", quorum="0.5", majority="0.5")
    propose(client, "velo", ana)
    inbox.wait_for(bob.email)
    assert [m["To"] for m in inbox.messages] == [bob.email]  # the steward is in no college: she cannot vote


def test_members_are_reminded_once_before_the_declaration_window_closes(client, world, inbox):
    from ledger.inbox.notifications import remind_declarations
    from ledger.rounds.models import Round

    declare(world, world.people["ana"], "3.5", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    assert db.session.get(Round, round_id).review_starts_on == date(2026, 2, 6)  # 5 declaration days, default rules
    set_opt_out(db.session.get(Person, world.people["bob"].id), True)
    db.session.commit()
    assert remind_declarations(on=date(2026, 2, 3), days=2) == 0  # closes in three days: not yet
    assert remind_declarations(on=date(2026, 2, 4), days=0) == 0  # 0 turns the reminders off
    assert remind_declarations(on=date(2026, 2, 4), days=2) == 2  # the steward and Ana; Bob opted out
    assert remind_declarations(on=date(2026, 2, 4), days=2) == 0  # run twice: one reminder
    assert remind_declarations(on=date(2026, 2, 5), days=2) == 0  # and not again the next day
    db.session.commit()
    from ledger import mail

    mail.deliver_queued()
    to_ana = inbox.wait_for(world.people["ana"].email)
    assert len(to_ana) == 1 and to_ana[0]["Subject"] == "Les déclarations de Vélo ferment bientôt"
    body = body_of(to_ana[0])
    assert "du 2026-01-01 au 2026-01-31) ferment à la fin du 2026-02-05" in body
    assert "Vous avez déclaré 3,5 h dans ce tour" in body and "/contributions/new?commons=velo" in body
    assert "Vous avez déclaré 0 h" in body_of(inbox.wait_for(world.steward.email)[0])
    assert inbox.to(world.people["bob"].email) == [] and len(inbox.messages) == 2
    assert db.session.get(Round, round_id).declaration_reminded_on == date(2026, 2, 4)


def test_a_round_past_its_declarations_gets_no_reminder(client, world, inbox):
    from ledger.inbox.notifications import remind_declarations

    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    advance(client, world, round_id)  # a steward opened the review early
    assert remind_declarations(on=date(2026, 2, 4), days=2) == 0


def test_the_scheduled_reminder_job_mails_once_however_often_it_runs(app, client, world, inbox):
    from apscheduler.schedulers.background import BackgroundScheduler

    from ledger.rounds.scheduler import add_tick_job, run_reminders

    start = date.today() - timedelta(days=20)  # declarations close tomorrow: review starts the day after
    open_round(client, world, start.isoformat(), (start + timedelta(days=15)).isoformat(), 10_000)
    assert run_reminders(app) == 3
    assert run_reminders(app) == 0
    inbox.wait_for(world.people["bob"].email)
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        [world.steward.email, world.people["ana"].email, world.people["bob"].email]
    )
    scheduler = BackgroundScheduler(timezone="UTC")  # not started: its jobs are only read
    add_tick_job(scheduler, app, "test")
    job = scheduler.get_job("declaration-reminders")
    assert job.func is run_reminders and job.trigger.interval == timedelta(hours=1)
