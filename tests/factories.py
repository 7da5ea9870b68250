"""Test data shared by the test files, and the one way a test logs a browser in."""

from __future__ import annotations

PASSWORD = "correct horse battery"


def login(client, who, password: str = PASSWORD) -> None:
    """Log ``client`` in as ``who`` (an Actor, or an e-mail address) through the login page."""
    email = who if isinstance(who, str) else who.email
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
