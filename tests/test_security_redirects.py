"""Issue 16 item 6: every redirect target a request supplies goes through one helper, which keeps
it on this site (browsers drop tabs and line breaks, read backslashes as slashes)."""

from __future__ import annotations

import pytest

from ledger.web.auth import safe_next

OFF_SITE = [
    "//evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/\\evil.example",
    "%2F%2Fevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%20/evil.example",
    "/x%0d%0aSet-Cookie:%20a=b",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site_nor_fails(client, target):
    response = client.get(f"/lang/en?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site_nor_fails(client, make_person, target):
    make_person(email="ines@example.org", password="a good long password")
    response = client.post(f"/login?next={target}", data={"email": "ines@example.org", "password": "a good long password"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_same_site_path_is_kept(client):
    assert client.get("/lang/en?next=/contributions%3Fcommons%3Dvelo").headers["Location"] == "/contributions?commons=velo"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\r\n/x", "/ /evil", "\\\\evil", "/\x7f/evil", None, ""])
def test_the_helper_refuses_control_characters_and_whitespace(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/"
