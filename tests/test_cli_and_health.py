"""The console script, the probes, the OpenAPI document and the docs page."""

import re

from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.people.models import Person


def test_users_create_and_tokens_create_give_a_working_token(runner, client):
    created = runner.invoke(
        [
            "users",
            "create",
            "--email",
            "Anais@Example.org",
            "--name",
            "Anaïs Garnier",
            "--password",
            "long enough password",
            "--admin",
        ]
    )
    assert created.exit_code == 0, created.output
    assert "anais@example.org" in created.output and "(admin)" in created.output
    token = runner.invoke(["tokens", "create", "--email", "anais@example.org"]).output.strip()
    assert token.startswith("lgr_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["display_name"] == "Anaïs Garnier" and me["is_admin"] is True


def test_users_create_refuses_a_duplicate_and_a_short_password(runner):
    assert runner.invoke(["users", "create", "--email", "a@example.org", "--name", "A"]).exit_code == 0
    duplicate = runner.invoke(["users", "create", "--email", "a@example.org", "--name", "B"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    short = runner.invoke(["users", "create", "--email", "b@example.org", "--name", "B", "--password", "short"])
    assert short.exit_code == 1 and "at least 10" in short.output
    assert db.session.scalar(select(func.count(Person.id))) == 1


def test_tokens_create_for_an_unknown_person_fails(runner):
    result = runner.invoke(["tokens", "create", "--email", "ghost@example.org"])
    assert result.exit_code == 1 and "no person" in result.output


def test_demo_loads_into_an_empty_database_only_and_verifies(runner):
    first = runner.invoke(["demo"])
    assert first.exit_code == 0, first.output
    assert "demo-password" in first.output and "@demo.communs.example" in first.output
    assert db.session.scalar(select(func.count(Commons.id))) >= 3
    assert db.session.scalar(select(func.count(Person.id))) >= 20
    assert db.session.scalar(select(func.count(LedgerTransaction.id))) >= 10
    verified = runner.invoke(["verify"])
    assert verified.exit_code == 0 and "ledger intact" in verified.output
    again = runner.invoke(["demo"])
    assert again.exit_code == 1 and "not empty" in again.output


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"


def test_readiness_reports_an_unmigrated_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "ledger init" in response.get_json()["detail"]


def test_every_response_carries_a_request_id_and_security_headers(client):
    response = client.get("/healthz", headers={"X-Request-Id": "abc123"})
    assert response.headers["X-Request-Id"] == "abc123"
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_document_describes_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/commons",
        "/api/v1/commons/{slug}",
        "/api/v1/commons/{slug}/members",
        "/api/v1/commons/{slug}/income",
        "/api/v1/ledger/transactions",
        "/api/v1/ledger/verify",
        "/api/v1/keys/signing",
    ):
        assert path in spec["paths"], path
    income = spec["components"]["schemas"]["IncomeIn"]
    assert set(income["required"]) >= {"amount_cents", "source", "funder", "date"}


def test_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html  # nothing from a CDN
    asset = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()


def test_a_database_error_answers_503_not_500(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'gone.db'}")
    response = app.test_client().get("/api/v1/commons")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"


def test_ledger_serve_answers_on_its_port_and_runs_the_scheduler(tmp_path):
    """The real console script: init, then serve on a free loopback port until stopped."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # HOME here: gunicorn's control socket would be made in $HOME/.gunicorn (checked absent below).
    env = {**os.environ, "LEDGER_INSTANCE_DIR": str(tmp_path / "instance"), "LEDGER_LOG_JSON": "1", "HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("XDG_RUNTIME_DIR", None)
    ledger = str(Path(sys.executable).with_name("ledger"))
    subprocess.run([ledger, "init"], env=env, check=True, capture_output=True, timeout=60)
    server = subprocess.Popen(
        [ledger, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None and '"status":"ok"' in body.replace(" ", "")
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert "scheduler started" in output
    assert "Control socket" not in output and not (tmp_path / ".gunicorn").exists()


def test_every_page_names_its_icon_so_no_browser_asks_for_a_missing_favicon(client):
    """Without a named icon a browser asks for /favicon.ico and logs a 404 in the console."""
    import re

    for path in ("/login", "/transparency", "/api/v1/docs"):
        html = client.get(path).get_data(as_text=True)
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert icon, f"{path} names no icon"
        served = client.get(icon.group(1))
        assert served.status_code == 200 and served.mimetype == "image/svg+xml" and b"<svg" in served.data
        served.close()
    # JSON and downloads have no head: the browser asks for /favicon.ico, which leads to the same icon.
    asked = client.get("/api/v1/ledger/verify", headers={"Accept": "application/json"})
    assert asked.status_code == 200 and asked.is_json
    fallback = client.get("/favicon.ico", follow_redirects=True)
    assert fallback.status_code == 200 and fallback.mimetype == "image/svg+xml" and b"<svg" in fallback.data
    fallback.close()
