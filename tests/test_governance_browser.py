"""A real browser (Debian's chromium): a member proposes, two others vote, the scheduler adopts it at the
deadline, and the next round runs under the adopted version."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ledger.commons.service import add_member, create_commons, record_income
from ledger.extensions import db
from ledger.governance.models import RuleProposal
from ledger.people.service import create_person
from ledger.rounds.lifecycle import tick
from ledger.rounds.rules import propose_rules
from ledger.timeutil import today
from tests.browser_support import forget_who_was_here
from tests.test_contributions_browser import PASSWORD, serious_violations

pytestmark = pytest.mark.browser


def prepare(app) -> None:
    with app.app_context():
        steward = create_person("camille@example.org", "Camille Morel", PASSWORD)
        for email, name in (("mathis@example.org", "Mathis Girard"), ("lea@example.org", "Léa Fontaine")):
            create_person(email, name, PASSWORD)
        create_person("theo@example.org", "Théo Marchand", PASSWORD)
        admin = create_person("admin@example.org", "Alix Admin", PASSWORD, admin=True)
        commons = create_commons(
            "roue-libre", "La Roue Libre", "Atelier vélo", admin, steward=steward, started_on=today() - timedelta(days=365)
        )
        for email in ("mathis@example.org", "lea@example.org", "theo@example.org"):
            add_member(commons, email, "member")
        record_income(
            commons,
            amount_cents=500_000,
            source="grant",
            funder="Métropole",
            received_on=today(),
            earmark=None,
            recorded_by=steward,
        )
        # Version 2: from now on the rules change by vote (a half must vote, a majority of yes).
        propose_rules(commons, steward, "We decide together", today().replace(day=1), {"decision_procedure": "vote"})
        db.session.commit()


def log_in(page, base: str, email: str) -> None:
    forget_who_was_here(page)
    page.goto(f"{base}/login")
    page.get_by_label(re.compile("Adresse e-mail|Email")).fill(email)
    page.get_by_label(re.compile("Mot de passe|Password")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Se connecter|Log in")).click()
    page.wait_for_url(lambda url: "/login" not in url)  # logged in before going on
    page.goto(f"{base}/lang/en")


def test_a_member_proposes_two_vote_it_is_adopted_and_the_next_round_uses_it(live_server, browser_page):
    from playwright.sync_api import expect

    page, base, app = browser_page, live_server.url, live_server.app
    prepare(app)

    # Mathis proposes a higher hourly value.
    log_in(page, base, "mathis@example.org")
    page.goto(f"{base}/commons/roue-libre/proposals")
    expect(page.get_by_role("heading", name="Propose new rules")).to_be_visible()
    page.get_by_label("Title of the proposal").fill("Raise the hourly value to 18 €")
    page.get_by_label("Why this change").fill("Our costs went up; an hour of care is worth more.")
    page.get_by_label("Hourly value (€)").fill("18")
    page.get_by_role("button", name="Submit the proposal").click()
    expect(page.get_by_role("heading", name="Raise the hourly value to 18 €")).to_be_visible()
    expect(page.locator("#changes")).to_contain_text("Hourly value: €15.00 becomes €18.00.")
    expect(page.locator("#turnout")).to_contain_text("0 of 4 eligible voted")
    assert serious_violations(page) == []
    proposal_url = page.url

    # Léa and Théo vote yes.
    for email in ("lea@example.org", "theo@example.org"):
        log_in(page, base, email)
        page.goto(proposal_url)
        page.get_by_role("button", name="Vote yes").click()
        expect(page.locator("#my-vote")).to_have_text("You voted yes.")
    expect(page.locator("#turnout")).to_contain_text("2 of 4 eligible voted")
    assert serious_violations(page) == []

    # The scheduler settles the proposal the day after its deadline.
    with app.app_context():
        proposal = db.session.scalar(select(RuleProposal))
        summary = tick(proposal.deadline + timedelta(days=1))
        db.session.commit()
        assert summary["proposals_settled"] == [proposal.id]
        effective = proposal.deadline + timedelta(days=1)
    page.goto(proposal_url)
    expect(page.locator("#state")).to_contain_text("adopted")
    expect(page.locator("#state")).to_contain_text(
        f"became rules version 3, in force from {effective.strftime('%B')} {effective.day}, {effective.year}"
    )
    expect(page.locator(".outcome")).to_have_text("Adopted: 100% yes, weighted by college; 2 of 4 voted.")
    page.goto(f"{base}/commons/roue-libre/decisions")
    expect(page.get_by_role("cell", name=re.compile("Rules adopted: Raise the hourly value"))).to_be_visible()

    # The steward opens the next round: it pins version 3.
    log_in(page, base, "camille@example.org")
    start = (effective.replace(day=1) + timedelta(days=32)).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    page.goto(f"{base}/commons/roue-libre/rounds")
    page.get_by_label("First day of the period").fill(start.isoformat())
    page.get_by_label("Last day of the period").fill(end.isoformat())
    page.get_by_label("Envelope (€)").fill("1000")
    page.get_by_role("button", name="Open the round").click()
    page.goto(f"{base}/commons/roue-libre/rounds")
    expect(page.locator("tbody tr").first).to_contain_text("version 3")
