"""What only a real PostgreSQL shows for declarations: simultaneous double submits."""

from __future__ import annotations

import threading

import pytest
from conftest import ENGINE, _truncate_all, fresh_pg_database, worker_id
from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.migrate import upgrade
from tests.test_contributions_web import form, login

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def pg_database(request, postgres_url):
    if ENGINE == "postgresql":
        return None
    url = fresh_pg_database(postgres_url, f"ledger_test_contributions_{worker_id(request)}")
    upgrade(url)
    return url


@pytest.fixture
def app(pg_database, make_app):
    """An app on PostgreSQL: the suite's own when it runs on PostgreSQL, else a dedicated database."""
    if pg_database is None:
        app = make_app()
    else:
        _truncate_all(pg_database)
        app = make_app(SQLALCHEMY_DATABASE_URI=pg_database)
    with app.app_context():
        yield app


def test_simultaneous_double_submits_store_one_contribution(app, client, make_person):
    """A double click racing with the same one-time form token: one row, and no error page."""
    assert db.engine.dialect.name == "postgresql"
    steward, contributor = make_person("Steward", admin=True), make_person("Racer")
    client.post("/api/v1/commons", json={"slug": "velo", "name": "Vélo"}, headers=steward.headers)
    client.post("/api/v1/commons/velo/members", json={"email": contributor.email, "role": "contributor"}, headers=steward.headers)
    for attempt in range(5):
        statuses: list[int] = []
        barrier = threading.Barrier(2)

        def submit():
            with app.app_context():
                browser = app.test_client()
                login(browser, contributor)
                barrier.wait()
                statuses.append(browser.post("/contributions/new", data=form(nonce=f"race-{attempt}")).status_code)

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert statuses == [302, 302]
    db.session.remove()
    assert db.session.scalar(select(func.count(Contribution.id))) == 5
