"""A real browser (Debian's chromium) drives the contribution pages, with CSRF on and axe-core checks."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.commons.service import add_member, create_commons
from ledger.contributions.service import declare
from ledger.contributions.validation import Draft
from ledger.extensions import db
from ledger.people.service import create_person
from ledger.timeutil import today

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).parent / "artifacts"


def prepare(app) -> dict:
    """A commons with a steward, a member, a new contributor, and one declared contribution by someone else."""
    from decimal import Decimal

    with app.app_context():
        steward = create_person("camille@example.org", "Camille Morel", PASSWORD)
        member = create_person("mathis@example.org", "Mathis Girard", PASSWORD)
        newcomer = create_person("lea@example.org", "Léa Fontaine", PASSWORD)
        other = create_person("theo@example.org", "Théo Marchand", PASSWORD)
        admin = create_person("admin@example.org", "Admin", None, admin=True)
        commons = create_commons(
            "roue-libre", "La Roue Libre", "Atelier vélo", admin, steward=steward, started_on=today() - timedelta(days=60)
        )
        add_member(commons, member.email, "member")
        add_member(commons, newcomer.email, "contributor")
        add_member(commons, other.email, "contributor")
        declare(
            other,
            commons,
            Draft(
                on=today() - timedelta(days=2),
                hours=Decimal("9"),
                category="maintenance",
                description="Rangement complet de l'atelier",
                evidence_url=None,
            ),
        )
        db.session.commit()
    return {"member": "mathis@example.org", "newcomer": "lea@example.org"}


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label(re.compile("Adresse e-mail|Email")).fill(email)
    page.get_by_label(re.compile("Mot de passe|Password")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Se connecter|Log in")).click()


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"contributions-{name}.png"), full_page=True)


def test_a_newcomer_declares_fixes_an_error_and_withdraws_and_a_member_votes_an_objection_down(live_server, browser_page):
    from playwright.sync_api import expect

    page, base = browser_page, live_server.url
    emails = prepare(live_server.app)

    # A new contributor logs in (in French, the default) and switches to English.
    log_in(page, base, emails["newcomer"])
    page.goto(f"{base}/contributions/new")
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.get_by_role("heading", name="Déclarer une contribution")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Declare a contribution")).to_be_visible()
    expect(page.get_by_text("Claiming what is due to you is legitimate")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "form")

    # A first try with hours that are not quarter hours: the error is beside the field and summarized.
    yesterday = (today() - timedelta(days=1)).isoformat()
    page.get_by_label("Date of the work").fill(yesterday)
    page.get_by_label("Hours").fill("1.3")
    page.get_by_label("Category").select_option("welcoming")
    page.get_by_label("What did you do?").fill("Welcomed two newcomers at the Saturday workshop")
    page.get_by_role("button", name="Declare", exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#hours-error")).to_have_text(re.compile("^Use steps of a quarter of an hour"))
    expect(page.get_by_label("Hours")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    shot(page, "form-error")

    # Fixed, and listed with its status.
    page.get_by_label("Hours").fill("1.5")
    page.get_by_role("button", name="Declare", exact=True).click()
    expect(page.get_by_role("heading", name="My contributions")).to_be_visible()
    expect(page.get_by_text("Your contribution was recorded")).to_be_visible()
    row = page.locator("tbody tr", has_text="Welcomed two newcomers")
    expect(row.locator("td").nth(3)).to_have_text("1.5")
    expect(row.get_by_text("declared")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "list")

    # Withdrawn, with the keyboard only.
    row.get_by_role("link", name=re.compile("^Withdraw")).focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Withdraw this contribution").focus()
    page.keyboard.press("Enter")
    row = page.locator("tbody tr", has_text="Welcomed two newcomers")
    expect(row.get_by_text("withdrawn")).to_be_visible()
    expect(row.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    page.get_by_role("button", name=re.compile("Log out")).click()

    # A member objects to someone else's contribution and votes it down.
    log_in(page, base, emails["member"])
    page.goto(f"{base}/commons/roue-libre/review")
    page.locator("tbody tr", has_text="Rangement complet").get_by_role("link", name=re.compile("Review")).click()
    page.get_by_role("button", name="Object").click()
    expect(page.locator("#reason-error")).to_be_visible()  # a reason is required
    page.get_by_label("Why do you object?").fill("Nine hours for tidying up seems a lot; I was there for two.")
    page.get_by_role("button", name="Object").click()
    expect(page.get_by_text("Your objection was recorded")).to_be_visible()
    page.get_by_label("Reject the contribution").check()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_text("the objection is upheld")).to_be_visible()
    expect(page.locator("dd .status", has_text="rejected")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "objection-upheld")
