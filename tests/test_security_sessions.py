"""Issue 16 item 10: sessions end for good at logout, personal data is never cached, login timing
and failures do not reveal accounts nor lock their owners out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from payouts_support import create_cae, grant_accountant
from sqlalchemy import update

from ledger.extensions import db
from ledger.people.models import LoginAttempt
from ledger.timeutil import utcnow

PASSWORD = "a good long password"


def log_in(client, email="ines@example.org", password=PASSWORD, address="127.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_session_cookie_kept_from_before_logout_no_longer_logs_in(make_app, make_person):
    app = make_app()
    make_person(email="ines@example.org", password=PASSWORD)
    browser = app.test_client()
    assert log_in(browser).status_code == 302
    stolen = session_cookie(browser)
    assert browser.get("/account/tokens").status_code == 200
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_the_persons_sessions_on_every_device_and_a_new_login_works(make_app, make_person):
    app = make_app()
    make_person(email="ines@example.org", password=PASSWORD)
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop), log_in(phone)
    assert phone.get("/account/tokens").status_code == 200
    laptop.post("/logout")
    assert phone.get("/account/tokens").status_code == 302
    log_in(phone)
    assert phone.get("/account/tokens").status_code == 200


def test_an_administrator_ends_a_persons_sessions_from_the_cli(make_app, make_person):
    app = make_app()
    make_person(email="ines@example.org", password=PASSWORD)
    browser = app.test_client()
    log_in(browser)
    assert browser.get("/account/tokens").status_code == 200
    result = app.test_cli_runner().invoke(cli_command(), ["users", "end-sessions", "--email", "ines@example.org"])
    assert result.exit_code == 0 and "every session of <ines@example.org> ended" in result.output
    assert browser.get("/account/tokens").status_code == 302


def cli_command():
    from ledger.cli import cli

    return cli


def test_employee_references_are_served_with_no_store(client, make_person):
    admin, acc, alice = make_person("Admin", admin=True), make_person("Acc"), make_person("Alice")
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    added = client.post(
        "/api/v1/caes/ECOTONE/members",
        json={"email": alice.email, "employee_ref": "E-1", "contract_type": "CESA"},
        headers=acc.headers,
    )
    assert added.get_json()["employee_ref"] == "E-1"
    assert added.headers["Cache-Control"] == "no-store"
    listed = client.get("/api/v1/caes/ECOTONE/members", headers=acc.headers)
    assert listed.get_json()[0]["employee_ref"] == "E-1" and listed.headers["Cache-Control"] == "no-store"
    # what carries no personal data may be cached as usual
    assert "no-store" not in client.get("/api/v1/caes/ECOTONE", headers=acc.headers).headers.get("Cache-Control", "")


def test_an_unknown_email_is_refused_after_hashing_like_a_known_one(client, make_person, monkeypatch):
    from ledger.people import passwords

    make_person(email="ines@example.org", password=PASSWORD)
    calls = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, stored, given):
            calls.append(stored)
            return real.verify(stored, given)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    assert log_in(client, password="wrong password").status_code == 401
    assert log_in(client, email="nobody@example.org", password="wrong password").status_code == 401
    assert len(calls) == 2  # one Argon2 verification each: the same work, the same time
    assert calls[0] != calls[1]


def test_failures_from_elsewhere_never_lock_the_owner_out(make_app, make_person):
    client = make_app().test_client()  # the default limit
    make_person(email="ines@example.org", password=PASSWORD)
    for _ in range(12):
        log_in(client, password="guess", address="203.0.113.9")
    assert log_in(client, address="198.51.100.7").status_code == 302


def test_failures_from_one_address_bring_a_growing_delay_not_a_lock_out(make_app, make_person):
    client = make_app(LEDGER_LOGIN_RATE_LIMIT=3).test_client()
    make_person(email="ines@example.org", password=PASSWORD)
    assert [log_in(client, password="guess").status_code for _ in range(3)] == [401, 401, 401]
    waits = []
    for _ in range(3):
        refused = log_in(client, password="guess")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        # the guesser waits it out, then fails again
        for attempt in db.session.query(LoginAttempt):
            attempt.attempted_at = attempt.attempted_at - timedelta(seconds=waits[-1])
        db.session.commit()
        assert log_in(client, password="guess").status_code == 401
    assert waits[0] <= 2 < waits[1] < waits[2] <= 15 * 60, waits
    # the owner at that address waits the delay too, then logs in: nobody is locked out for 15 minutes
    assert log_in(client).status_code == 429
    db.session.execute(update(LoginAttempt).values(attempted_at=utcnow() - timedelta(seconds=waits[-1] * 2 + 1)))
    db.session.commit()
    assert log_in(client).status_code == 302


@pytest.mark.parametrize("address", ["203.0.113.9"])
def test_a_refusal_for_waiting_does_not_count_as_a_failure(make_app, make_person, address):
    client = make_app(LEDGER_LOGIN_RATE_LIMIT=1).test_client()
    make_person(email="ines@example.org", password=PASSWORD)
    log_in(client, password="guess", address=address)
    for _ in range(5):
        assert log_in(client, password="guess", address=address).status_code == 429
    assert db.session.query(LoginAttempt).count() == 1


def test_static_files_never_carry_the_session_cookie_so_a_late_one_cannot_bring_an_old_session_back(make_app, make_person):
    """Seen in CI: the icon of Théo's last page answered after Camille logged in on the same browser,
    its refreshed cookie replaced hers and the steward's form was gone."""
    app = make_app()
    make_person(email="ines@example.org", password=PASSWORD)
    browser = app.test_client()
    assert log_in(browser).status_code == 302
    page = browser.get("/")
    assert "session=" in page.headers.get("Set-Cookie", "")  # pages still refresh the session
    for path in ("/static/css/app.css", "/static/img/icon.svg", "/favicon.ico"):
        asset = browser.get(path)
        assert asset.status_code in (200, 301) and "Set-Cookie" not in asset.headers, path
        asset.close()
