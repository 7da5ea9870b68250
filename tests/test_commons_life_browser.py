"""A real browser (Debian's chromium) lives the whole life of a new commons with no API call: the
admin creates it and invites a steward by mail, the steward chooses a password from the mailed
link, invites two contributors and records a grant; both declare, one objects, a vote settles it;
the steward is stopped moving the round on early, then finalizes once the windows are over through
the confirmation page; the CAE's accountant exports the salary lines and marks the batch paid with
a bank reference; the contributor sees the payment in "My money". Every mail is read from a real
SMTP server; the server's clock (a test clock, `LEDGER_TEST_CLOCK`) moves past the windows."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ledger.extensions import db
from ledger.formatting import day, hours, money
from ledger.payouts.service import create_cae
from ledger.people.service import create_person
from ledger.timeutil import test_clock, today
from tests.browser_support import forget_who_was_here
from tests.mail_support import body_of, link_in, start_smtp

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

    app = make_app(WTF_CSRF_ENABLED=True, LEDGER_SMTP_URL=smtp[0], LEDGER_TEST_CLOCK=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}", smtp[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    forget_who_was_here(page)  # whoever was logged in before
    page.goto(f"{base}/login")
    page.get_by_label(re.compile("Adresse e-mail|Email")).fill(email)
    page.get_by_label(re.compile("Mot de passe|Password")).fill(password)
    page.get_by_role("button", name=re.compile("Se connecter|Log in")).click()
    page.wait_for_url(lambda url: "/login" not in url)  # logged in before the language changes
    page.goto(f"{base}/lang/en?next=/")


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def in_english(app, format_, value) -> str:
    """A value as the English pages show it (the story's browser reads English)."""
    from flask_babel import force_locale

    with app.app_context(), force_locale("en"):
        return format_(value)


def euros(app, cents: int) -> str:
    return in_english(app, money, cents)


def set_password_from_mail(page, base: str, inbox, email: str, password: str) -> None:
    from playwright.sync_api import expect

    forget_who_was_here(page)  # a newcomer's own browser
    path = urlsplit(link_in(inbox.wait_for(email)[0], "/invitation/")).path
    page.goto(f"{base}/lang/en?next={path}")
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password again").fill(password)
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_text("Your password is set")).to_be_visible()


def declare(page, base: str, on, worked: str, what: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/contributions/new")
    page.get_by_label("Date of the work").fill(on.isoformat())
    page.get_by_label("Hours").fill(worked)
    page.get_by_label("Category").select_option("maintenance")
    page.get_by_label("What did you do?").fill(what)
    page.get_by_role("button", name="Declare", exact=True).click()
    expect(page.get_by_text("Your contribution was recorded")).to_be_visible()


def test_the_whole_life_of_a_new_commons_in_the_browser(live, browser_page):
    from playwright.sync_api import expect

    from ledger.rounds.models import AllocationLine, Round

    app, base, inbox = live
    page = browser_page
    with app.app_context():
        create_person("admin@example.org", "Alix Admin", PASSWORD, admin=True)
        create_person("carla@example.org", "Carla Compta", PASSWORD)
        create_cae("ECOTONE", "Ecotone", "0.10", "0.45")  # no page creates a CAE: the installation does
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
    # …and makes Carla the accountant of the CAE.
    page.goto(f"{base}/caes/ECOTONE")
    page.locator("#cae-accountant-form").get_by_label("Email").fill("carla@example.org")
    page.get_by_role("button", name="Make accountant").click()
    expect(page.get_by_text("carla@example.org is now an accountant of Ecotone")).to_be_visible()
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

    # She invites two contributors and records a grant.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vélo partagé").click()  # her menu
    page.get_by_role("link", name="Manage this commons").click()
    for email, name, role in (("ana@example.org", "Ana Contributor", "contributor"), ("bob@example.org", "Bob Member", "member")):
        form = page.locator("#invite-form")
        form.get_by_label("Email").fill(email)
        form.get_by_label("Name").fill(name)
        form.get_by_label("Role").select_option(role)
        form.get_by_role("button", name="Send the invitation").click()
        expect(page.get_by_text(f"{email} is invited as {role}")).to_be_visible()
    income = page.locator("#income-form")
    income.get_by_label("Amount (€)").fill("2000")
    income.get_by_label("Source").select_option("grant")
    income.get_by_label("Funder").fill("Métropole")
    income.get_by_label(re.compile("^Earmark")).fill("ateliers")
    income.get_by_role("button", name="Record the income").click()
    expect(page.get_by_text("Income recorded.")).to_be_visible()
    expect(page.locator("#incomes")).to_contain_text("Métropole")

    # She opens this week's round.
    page.get_by_role("link", name="Open a round").click()
    page.get_by_label("First day of the period").fill((today() - timedelta(days=3)).isoformat())
    page.get_by_label("Last day of the period").fill((today() + timedelta(days=3)).isoformat())
    page.get_by_label("Envelope (€)").fill("500")
    page.get_by_role("button", name="Open the round").click()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "open")
    round_url = page.url
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        round_id, allocation_on = round_.id, round_.allocation_on

    # Both contributors set their password from the mail and declare; Ana chooses the CAE route
    # once Carla, the accountant, has added her (with her analytic code).
    set_password_from_mail(page, base, inbox, "ana@example.org", "ana's long secret")
    set_password_from_mail(page, base, inbox, "bob@example.org", "bob's long secret")
    log_in(page, base, "carla@example.org")
    member = page.locator("#cae-member-form")
    page.goto(f"{base}/caes/ECOTONE")
    member.get_by_label("Email").fill("ana@example.org")
    member.get_by_label("Employee reference").fill("E-042")
    member.get_by_label("Contract").select_option("CESA")
    member.get_by_label("Analytic code").fill("ACT-VELO")
    page.get_by_role("button", name="Add the member").click()
    expect(page.locator("#members + table td.analytic-code")).to_have_text("ACT-VELO")
    assert serious_violations(page) == []  # one label per input, though two forms ask an email
    log_in(page, base, "ana@example.org", "ana's long secret")
    page.goto(f"{base}/account/payouts")
    page.get_by_label("Payout route").select_option("cae")
    page.get_by_label("CAE", exact=True).select_option("ECOTONE")
    page.get_by_role("button", name="Save the route for Vélo partagé").click()
    expect(page.get_by_label("Payout route")).to_have_value("cae")
    declare(page, base, today() - timedelta(days=1), "6", "Réparé douze vélos de la flotte")
    log_in(page, base, "bob@example.org", "bob's long secret")
    declare(page, base, today() - timedelta(days=2), "4", "Tenu l'atelier du samedi")

    # Bob objects to Ana's work; the mail tells Ana and asks Sam to vote.
    page.goto(f"{base}/commons/velo/review")
    page.locator("tbody tr", has_text="Réparé douze vélos").get_by_role("link", name=re.compile("Review")).click()
    page.get_by_label("Why do you object?").fill("Douze vélos en une journée, vraiment ?")
    page.get_by_role("button", name="Object").click()
    expect(page.get_by_text("Your objection was recorded")).to_be_visible()
    page.get_by_label("Reject the contribution").check()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_text("Your vote was recorded")).to_be_visible()  # one ballot: below the quorum
    assert "Douze vélos en une journée" in body_of(inbox.wait_for("ana@example.org", count=2)[1])
    vote_mail = [m for m in inbox.to("sam@example.org") if "/contributions/" in body_of(m)]
    assert len(vote_mail) == 1

    # Sam follows the mailed link and votes to keep it: the quorum is met, and a tie keeps the work.
    log_in(page, base, "sam@example.org", "sam's long secret")
    expect(page.locator('li[data-kind="cast_vote"]')).to_contain_text("Réparé douze vélos")  # her to-do list
    page.goto(link_in(vote_mail[0], "/contributions/"))
    page.get_by_label("Keep the contribution").check()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_text("the objection is dismissed")).to_be_visible()

    # She tries to move the round on early: stopped until she writes a reason, kept in the history.
    page.goto(round_url)
    expect(page.locator("#early-warning")).to_contain_text("The declaration window ends on")
    page.get_by_role("button", name="Open the review").click()
    expect(page.get_by_text(re.compile("to open the review before, write why"))).to_be_visible()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "open")
    page.get_by_label("Why move before the window ends").fill("Assemblée avancée au jeudi")
    page.get_by_role("button", name="Open the review").click()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "review")
    expect(page.locator(".round-history")).to_contain_text("Assemblée avancée au jeudi")
    page.get_by_role("button", name="Compute the allocation").click()
    expect(page.get_by_text(re.compile("to compute the allocation before, write why"))).to_be_visible()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "review")
    assert serious_violations(page) == []

    # The review window passes: no reason is asked any more; she finalizes through the confirmation.
    test_clock(app).move_to(allocation_on)
    page.goto(round_url)
    expect(page.locator("#early-warning")).to_have_count(0)
    page.get_by_role("button", name="Compute the allocation").click()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "allocated")
    with app.app_context():
        lines = {
            line.route: line for line in db.session.scalars(db.select(AllocationLine).where(AllocationLine.round_id == round_id))
        }
    ana, bob = lines["cae"], lines["invoice"]
    assert (ana.hours, ana.gross_cents, ana.levy_cents, bob.gross_cents, bob.levy_cents) == (6, 9000, 450, 6000, 300)
    page.locator("#finalize-link").click()
    expect(page.locator("#final-warning")).to_contain_text("This is final.")
    expect(page.locator("#total-gross")).to_have_text(euros(app, 15_000))
    expect(page.locator("#route-cae")).to_have_text(euros(app, ana.net_cents))
    expect(page.locator("#route-invoice")).to_have_text(euros(app, bob.net_cents))
    expect(page.locator("#to-fund")).to_have_text(euros(app, 750))  # the levies: 5 % of 150 €
    # the grant less the gross retributions (their levies go to the fund): nothing else is owed
    left = 200_000 - ana.gross_cents - bob.gross_cents
    expect(page.locator("#left-in-treasury")).to_have_text(euros(app, left))
    assert serious_violations(page) == []
    page.locator("#confirm-finalize").click()
    expect(page.locator("#round-state")).to_have_attribute("data-state", "finalized")

    # Carla exports the month's salary lines, then marks the batch paid with the bank's reference.
    log_in(page, base, "carla@example.org")
    page.goto(f"{base}/caes/ECOTONE")
    month = allocation_on.strftime("%Y-%m")
    page.get_by_label("Payroll month (YYYY-MM)").fill(month)
    page.get_by_label("What to download").select_option("file")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the signed CSV").click()
    assert download.value.suggested_filename == f"salary-lines-ECOTONE-{month}.csv"
    rows = Path(download.value.path()).read_bytes().decode("utf-8-sig").split("\r\n")
    # Ana alone goes through the CAE: her hours, gross, levy, no top-up, the CAE's 10 % of her net
    assert ana.cae_contribution_cents == 855
    assert rows[1].startswith(f"{month};ECOTONE;E-042;Contributor;Ana;CESA;6,00;90,00;4,50;0,00;8,55;") and rows[2:] == [""]
    page.goto(f"{base}/caes/ECOTONE")
    page.get_by_label("Paid on").fill(allocation_on.isoformat())
    page.get_by_label("Bank reference").fill("VIR-0042")
    page.get_by_role("button", name=re.compile("^Mark batch .* paid$")).click()
    expect(page.get_by_text(re.compile("marked paid; its ledger transaction is written"))).to_be_visible()
    page.goto(f"{base}/caes/ECOTONE/reconciliation")
    expect(page.locator("td.bank-reference")).to_have_text("VIR-0042")

    # Ana finds the payment in "My money", with its figures.
    log_in(page, base, "ana@example.org", "ana's long secret")
    page.goto(f"{base}/account/money?year={allocation_on.year}")
    row = page.locator(f"#money-round-{round_id}")
    expect(row.locator("td.payment")).to_have_attribute("data-payment", "paid")
    expect(row.locator("td.payment")).to_have_text(f"paid on {in_english(app, day, allocation_on)}")
    expect(row.locator("td").nth(0)).to_have_text(in_english(app, hours, 6))
    figures = [row.locator("td").nth(n) for n in (1, 2, 4)]  # gross, levy, net
    for cell, cents in zip(figures, (9000, 450, ana.net_cents), strict=True):
        expect(cell).to_have_text(euros(app, cents))
    assert ana.net_cents == 8550  # 90 € less the 5 % levy
    expect(page.locator("#total-paid")).to_have_text(euros(app, ana.net_cents + ana.topup_cents))
    assert serious_violations(page) == []
