"""What only a real PostgreSQL shows for declarations: simultaneous double submits."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from tests.test_contributions_web import form, login

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_app):
    """The suite's ``app``, replaced here by one on PostgreSQL (make_person and client follow it)."""
    return pg_app


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
