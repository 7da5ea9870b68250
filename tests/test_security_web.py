"""CSRF on every form, login rate limiting, and security headers on pages, API and errors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.routing import IntegerConverter

from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.people.models import LoginAttempt
from ledger.timeutil import utcnow

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def form_routes(app) -> list[tuple[str, str]]:
    """Every (method, url) of the server-rendered pages that changes something: derived from the
    URL map, so that a form added later is covered without touching this test."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or not (rule.methods & WRITE_METHODS):
            continue
        values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "velo" for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        found.extend((method, url) for method in sorted(rule.methods & WRITE_METHODS))
    return found


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_every_form_refuses_a_post_without_its_csrf_token_and_stores_nothing(csrf_app, make_person, make_commons):
    steward = make_person("Steward", admin=True)
    make_commons(steward, "velo")
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["person_id"] = steward.id  # logged in: the forms would otherwise act for them
    routes = form_routes(csrf_app)
    assert len(routes) >= 10, routes  # login, logout, tokens, contributions, review, rounds, payouts …
    assert ("POST", "/login") in routes and ("POST", "/contributions/new") in routes
    refused = {}
    for method, url in routes:
        response = client.open(url, method=method, data={"description": "x", "hours": "1", "label": "t", "route": "waive"})
        refused[(method, url)] = response.status_code
    assert {key: status for key, status in refused.items() if status != 400} == {}
    db.session.rollback()
    assert db.session.scalar(select(func.count(Commons.id))) == 1


def test_a_form_with_its_token_is_accepted(csrf_app, make_person):
    make_person(email="ines@example.org", password="a good long password")
    client = csrf_app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": "ines@example.org", "password": "a good long password", "csrf_token": token})
    assert response.status_code == 302
    wrong = csrf_app.test_client().post(
        "/login", data={"email": "ines@example.org", "password": "x", "csrf_token": token[:-2] + "xx"}
    )
    assert wrong.status_code == 400


def test_the_api_takes_bearer_tokens_without_csrf_and_ignores_session_cookies(csrf_app, make_person):
    person = make_person("Ana", admin=True)
    client = csrf_app.test_client()
    created = client.post(
        "/api/v1/commons", json={"slug": "velo", "name": "Vélo"}, headers={"Authorization": f"Bearer {person.token}"}
    )
    assert created.status_code == 201
    with client.session_transaction() as session:
        session["person_id"] = person.id
    # A logged-in browser session is no credential for the API: a forged cross-site POST gets 401.
    forged = client.post("/api/v1/commons", json={"slug": "forged", "name": "Forged"})
    assert forged.status_code == 401
    db.session.rollback()
    assert db.session.scalar(select(func.count(Commons.id))) == 1


def fail_login(client, email: str, address: str = "127.0.0.1") -> int:
    return client.post("/login", data={"email": email, "password": "guess"}, environ_base={"REMOTE_ADDR": address}).status_code


def test_login_rate_limit_counts_an_email_whatever_its_case(make_app, make_person):
    client = make_app(LEDGER_LOGIN_RATE_LIMIT=3).test_client()
    make_person(email="ines@example.org", password="a good long password")
    statuses = [
        fail_login(client, email) for email in ("ines@example.org", "INES@example.org", "Ines@Example.org", "ines@example.org")
    ]
    assert statuses == [401, 401, 401, 429]


def test_login_rate_limit_stops_one_address_trying_a_password_on_many_accounts(make_app, make_person):
    client = make_app(LEDGER_LOGIN_RATE_LIMIT=2).test_client()
    for n in range(10):  # one password is enough to check the other address logs in (hashing is slow)
        make_person(email=f"p{n}@example.org", password="a good long password" if n == 9 else None)
    statuses = [fail_login(client, f"p{n}@example.org", "203.0.113.9") for n in range(10)]
    assert statuses == [401] * 10  # limit 2 × 5 failures from one address
    assert fail_login(client, "p0@example.org", "203.0.113.9") == 429
    assert fail_login(client, "someone-else@example.org", "203.0.113.9") == 429
    # Another address is not punished for it, within its own per-email limit.
    ok = client.post(
        "/login",
        data={"email": "p9@example.org", "password": "a good long password"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert ok.status_code == 302


def test_login_rate_limit_lifts_after_the_window(make_app, make_person):
    client = make_app(LEDGER_LOGIN_RATE_LIMIT=2).test_client()
    make_person(email="ines@example.org", password="a good long password")
    assert [fail_login(client, "ines@example.org") for _ in range(3)] == [401, 401, 429]
    db.session.execute(update(LoginAttempt).values(attempted_at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    response = client.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    assert response.status_code == 302


HEADER_PATHS = [
    "/",
    "/login",
    "/transparency",
    "/api/v1/openapi.json",
    "/api/v1/me",
    "/api/v1/commons/nope",
    "/no-such-page",
    "/healthz",
]


@pytest.mark.parametrize("path", HEADER_PATHS)
def test_security_headers_on_pages_api_and_errors(client, path):
    response = client.get(path)
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = {part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split(";") if part.strip()}
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert set(csp["script-src"]) == {"'self'"}  # plotly.js is served by the service itself, no CDN


def test_session_cookie_is_http_only_and_same_site(client, make_person):
    make_person(email="ines@example.org", password="a good long password")
    response = client.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
