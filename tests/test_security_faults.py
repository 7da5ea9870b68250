"""Issue 16 item 7: hostile bodies and database faults answer 4xx or 503 with the error envelope,
never a 500, and store nothing."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ledger.commons.models import Commons
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.timeutil import today

YESTERDAY = (today() - timedelta(days=1)).isoformat()


@pytest.fixture
def velo(make_person, make_commons):
    steward = make_person("Steward", admin=True)
    make_commons(steward, "velo")
    return steward


def post_raw(client, path, body: str, actor):
    return client.post(path, data=body.encode("utf-8", "surrogatepass"), content_type="application/json", headers=actor.headers)


def contribution(**overrides) -> dict:
    return {"commons": "velo", "date": YESTERDAY, "hours": "2", "category": "care", "description": "Repaired bikes"} | overrides


SURROGATE_BODIES = [
    ("/api/v1/contributions", contribution(description="\ud800 repaired"), "description"),
    ("/api/v1/commons", {"slug": "jardin", "name": "Jardin \ud800"}, "name"),
    (
        "/api/v1/commons/velo/income",
        {"amount_cents": 100, "source": "donation", "funder": "\ud800", "date": YESTERDAY},
        "funder",
    ),
]


@pytest.mark.parametrize("path, body, field", SURROGATE_BODIES)
def test_a_lone_surrogate_is_refused_naming_its_field(client, velo, path, body, field):
    # json.dumps writes the surrogate as the escape "\ud800", exactly what an attacker sends
    response = post_raw(client, path, json.dumps(body), velo)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Contribution.id))) == 0
    assert db.session.scalar(select(func.count(Commons.id))) == 1


def test_a_surrogate_in_a_key_or_a_list_is_refused_too(client, velo):
    response = post_raw(client, "/api/v1/commons", json.dumps({"slug": "a", "name": "b", "tags": ["ok", "\udfff"]}), velo)
    assert response.status_code == 422 and "tags.1" in response.get_json()["error"]["fields"]


def test_a_hundred_thousand_deep_array_is_a_400_with_the_envelope(client, velo):
    response = post_raw(client, "/api/v1/contributions", "[" * 100_000 + "]" * 100_000, velo)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"_body": ["nested too deeply"]}


def test_a_five_thousand_digit_integer_is_a_422_with_the_envelope(client, velo):
    body = json.dumps(contribution()).replace('"hours": "2"', '"hours": ' + "9" * 5000)
    response = post_raw(client, "/api/v1/contributions", body, velo)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"
    income = '{"amount_cents": ' + "1" * 5000 + ', "source": "donation", "funder": "A", "date": "' + YESTERDAY + '"}'
    assert post_raw(client, "/api/v1/commons/velo/income", income, velo).status_code == 422


def test_a_disk_full_at_commit_answers_503_with_the_envelope(app, client, velo, monkeypatch):
    def full(*args, **kwargs):
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(db.session, "commit", full)
    response = client.post("/api/v1/contributions", json=contribution(), headers=velo.headers)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # still a full answer
    monkeypatch.undo()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_readyz_says_unavailable_when_the_database_is_read_only(make_app, database_url):
    writable = make_app().test_client().get("/readyz")  # also leaves a SQLite file in WAL mode, as in service
    assert writable.status_code == 200 and writable.get_json()["detail"] == "ok"
    with read_only(database_url) as url:
        response = make_app(SQLALCHEMY_DATABASE_URI=url).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable" and "refuses writes" in response.get_json()["detail"]


@contextmanager
def read_only(database_url: str):
    """The same database, answering reads but refusing writes (a read-only file, or on PostgreSQL
    a database whose transactions are read-only, as on a standby)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
        return
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'))
    try:
        yield database_url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{url.database}" RESET default_transaction_read_only'))
        admin.dispose()
