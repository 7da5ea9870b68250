"""A burst of concurrent declarations against a live server loses none and duplicates none.

Every declaration is sent twice at the same time from two connections with the same
Idempotency-Key (a client retrying a request whose answer it did not see), and each sender retries
while the other one holds the key. Afterwards every declaration exists exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bench.loadgen import json_request, run_load
from ledger.api.idempotency import IdempotencyRecord
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.timeutil import today

PEOPLE = 8
PER_PERSON = 12
CONNECTIONS = 16


@pytest.fixture
def live_server(app):
    """The application served on 127.0.0.1 on a free port by a threaded WSGI server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)


def test_concurrent_retried_declarations_are_stored_exactly_once(app, live_server, make_person, make_commons):
    steward = make_person("Steward")
    people = [make_person(f"Contributor {i}") for i in range(PEOPLE)]
    make_commons(steward, "velo", members={f"member{i}": p for i, p in enumerate(people)})
    db.session.commit()
    declarations = []
    for i, person in enumerate(people):
        for k in range(PER_PERSON):
            payload = {
                "commons": "velo",
                "date": (today() - timedelta(days=k + 1)).isoformat(),
                "hours": "1.25" if k % 2 else "2",
                "category": "care" if k % 3 == 0 else "production",
                "description": f"burst {i}-{k}",
            }
            declarations.append((person, f"burst-{i}-{k}", payload))
    answers: dict[str, list] = {key: [] for _, key, _ in declarations}
    lock = threading.Lock()

    def request_for(connection: int, n: int):
        # Declaration d is sent by connections c and c+1 (mod 16): two senders race on each key.
        index = (n * CONNECTIONS + connection) // 2
        person, key, payload = declarations[index % len(declarations)]
        return json_request("POST", "/api/v1/contributions", payload, {**person_headers(person), "Idempotency-Key": key})

    def person_headers(person):
        return {"Authorization": f"Bearer {person.token}"}

    # A load-generator pass: each connection keeps retrying refused races until its answer is stored.
    sends = len(declarations) * 2 // CONNECTIONS
    result = run_load(live_server, request_for, connections=CONNECTIONS, requests_per_connection=sends)
    assert result.errors == 0 and result.count == len(declarations) * 2
    assert set(result.statuses) <= {201, 409}, result.statuses

    # Every sender retries until it sees the stored answer: the id must be the same for both.
    import http.client

    for person, key, payload in declarations:
        for _ in range(2):
            for _attempt in range(50):
                connection = http.client.HTTPConnection("127.0.0.1", live_server, timeout=30)
                connection.request(
                    "POST",
                    "/api/v1/contributions",
                    body=json.dumps(payload),
                    headers={"Content-Type": "application/json", **person_headers(person), "Idempotency-Key": key},
                )
                response = connection.getresponse()
                body = json.loads(response.read())
                connection.close()
                if response.status == 201:
                    with lock:
                        answers[key].append(body["id"])
                    break
                assert response.status == 409, body
                time.sleep(0.05)
            else:
                pytest.fail(f"{key} never got an answer")

    ids = {key: set(found) for key, found in answers.items()}
    assert all(len(found) == 1 for found in ids.values()), "a retry got a different contribution"
    stored = db.session.execute(
        select(Contribution.id, Contribution.person_id, Contribution.hours, Contribution.description)
    ).all()
    assert len(stored) == len(declarations)  # none lost, none duplicated
    assert {row.id for row in stored} == {next(iter(found)) for found in ids.values()}
    assert sorted(row.description for row in stored) == sorted(payload["description"] for _, _, payload in declarations)
    for person in people:
        hours = db.session.scalar(select(func.sum(Contribution.hours)).where(Contribution.person_id == person.id))
        assert Decimal(hours) == Decimal("2") * 6 + Decimal("1.25") * 6
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == len(declarations)
