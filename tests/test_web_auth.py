"""Logging in and out, the token page, CSRF and the login rate limit."""

import re

import pytest


@pytest.fixture
def csrf_client(make_app):
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def csrf_token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html).group(1) or ""


def test_login_then_create_a_token_then_logout(client, make_person):
    person = make_person("Inès Roussel", email="ines@example.org", password="a good long password")
    response = client.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    assert response.status_code == 302
    page = client.post("/account/tokens", data={"label": "script"}).get_data(as_text=True)
    token = re.search(r'id="new-token">(lgr_[^<]+)<', page).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["id"] == person.id
    client.post("/logout")
    assert client.get("/account/tokens").status_code == 302


def test_a_wrong_password_is_refused_with_the_error_beside_the_field(client, make_person):
    make_person(email="ines@example.org", password="a good long password")
    response = client.post("/login", data={"email": "ines@example.org", "password": "wrong password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'id="password-error"' in html and 'aria-invalid="true"' in html


def test_login_is_rate_limited_per_email(make_app, make_person):
    client = make_app(LEDGER_LOGIN_RATE_LIMIT=3).test_client()
    make_person(email="ines@example.org", password="a good long password")
    statuses = [client.post("/login", data={"email": "ines@example.org", "password": "guess"}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = client.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    assert blocked.status_code == 429  # even the right password waits out the window


def test_forms_refuse_a_post_without_csrf_token(csrf_client, make_person):
    make_person(email="ines@example.org", password="a good long password")
    response = csrf_client.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    assert response.status_code == 400
    token = csrf_token(csrf_client, "/login")
    ok = csrf_client.post("/login", data={"email": "ines@example.org", "password": "a good long password", "csrf_token": token})
    assert ok.status_code == 302


def test_login_never_redirects_off_site(client, make_person):
    make_person(email="ines@example.org", password="a good long password")
    response = client.post("/login?next=//evil.example/", data={"email": "ines@example.org", "password": "a good long password"})
    assert response.headers["Location"] == "/"


def test_pages_render_in_french_by_default_and_english_on_request(client):
    assert 'lang="fr"' in client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_the_language_a_person_chose_follows_them_to_a_new_device(make_app, make_person):
    make_person(email="ines@example.org", password="a good long password")
    laptop = make_app().test_client()
    laptop.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    laptop.get("/lang/en")
    phone = make_app().test_client()
    assert 'lang="fr"' in phone.get("/").get_data(as_text=True)
    phone.post("/login", data={"email": "ines@example.org", "password": "a good long password"})
    assert 'lang="en"' in phone.get("/").get_data(as_text=True)
