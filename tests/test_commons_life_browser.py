"""A real browser (Debian's chromium) sets up a new commons with no API call: the admin creates
it and invites a steward by mail, the steward chooses a password from the mailed link, invites a
contributor, records a grant, opens a round and is stopped when moving it on before its window
ends. Every mail is read from a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ledger.extensions import db
from ledger.people.service import create_person
from ledger.timeutil import today
from tests.mail_support import link_in, start_smtp

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield f"smtp://{controller.hostname}:{controller.port}", inbox
    controller.stop()


@pytest.fixture
def live(make_app, smtp):
    import threading

    from werkzeug.serving import make_server

    app = make_app(WTF_CSRF_ENABLED=True, LEDGER_SMTP_URL=smtp[0])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}", smtp[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label(re.compile("Adresse e-mail|Email")).fill(email)
    page.get_by_label(re.compile("Mot de passe|Password")).fill(password)
    page.get_by_role("button", name=re.compile("Se connecter|Log in")).click()
    page.goto(f"{base}/lang/en?next=/")


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def test_a_new_commons_is_set_up_in_the_browser(live, browser_page):
    from playwright.sync_api import expect

    app, base, inbox = live
    page = browser_page
    with app.app_context():
        create_person("admin@example.org", "Alix Admin", PASSWORD, admin=True)
        db.session.commit()

    # The admin creates the commons and invites its steward.
    log_in(page, base, "admin@example.org")
    page.get_by_role("link", name="Create a commons").click()
    page.get_by_label("Name", exact=True).fill("Vélo partagé")
    page.get_by_label(re.compile("^Short name")).fill("velo")
    page.get_by_label(re.compile("^Started on")).fill((today() - timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Create the commons").click()
    expect(page.get_by_role("heading", name="Manage Vélo partagé")).to_be_visible()
    assert serious_violations(page) == []
    form = page.locator("#invite-form")
    form.get_by_label("Email").fill("sam@example.org")
    form.get_by_label("Name").fill("Sam Steward")
    form.get_by_label("Role").select_option("steward")
    form.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("sam@example.org is invited as steward")).to_be_visible()
    page.get_by_role("button", name=re.compile("Log out")).click()

    # The steward chooses a password from the mailed link, then logs in.
    url = link_in(inbox.wait_for("sam@example.org")[0], "/invitation/")
    page.goto(url)
    page.get_by_label("New password", exact=True).fill("sam's long secret")  # the browser kept English
    page.get_by_label("New password again").fill("sam's long secret")
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_text("Your password is set")).to_be_visible()
    page.goto(url)
    expect(page.locator("#link-refused")).to_contain_text("already used")  # a link works once
    log_in(page, base, "sam@example.org", "sam's long secret")

    # She invites a contributor and records a grant.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vélo partagé").click()  # her menu
    page.get_by_role("link", name="Manage this commons").click()
    form = page.locator("#invite-form")
    form.get_by_label("Email").fill("ana@example.org")
    form.get_by_label("Name").fill("Ana Contributor")
    form.get_by_label("Role").select_option("contributor")
    form.get_by_role("button", name="Send the invitation").click()
    inbox.wait_for("ana@example.org")
    income = page.locator("#income-form")
    income.get_by_label("Amount (€)").fill("2000")
    income.get_by_label("Source").select_option("grant")
    income.get_by_label("Funder").fill("Métropole")
    income.get_by_label(re.compile("^Earmark")).fill("ateliers")
    income.get_by_role("button", name="Record the income").click()
    expect(page.get_by_text("Income recorded.")).to_be_visible()
    expect(page.locator("#incomes")).to_contain_text("Métropole")

    # She opens this month's round and cannot move it on before its window ends without a reason.
    page.get_by_role("link", name="Open a round").click()
    page.get_by_label("First day of the period").fill((today() - timedelta(days=3)).isoformat())
    page.get_by_label("Last day of the period").fill((today() + timedelta(days=3)).isoformat())
    page.get_by_label("Envelope (€)").fill("500")
    page.get_by_role("button", name="Open the round").click()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "open")
    expect(page.locator("#early-warning")).to_contain_text("The declaration window ends on")
    page.get_by_role("button", name="Open the review").click()
    expect(page.get_by_text(re.compile("to open the review before, write why"))).to_be_visible()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "open")
    page.get_by_label("Why move before the window ends").fill("Assemblée avancée au jeudi")
    page.get_by_role("button", name="Open the review").click()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "review")
    expect(page.locator(".round-history")).to_contain_text("Assemblée avancée au jeudi")
    assert serious_violations(page) == []
