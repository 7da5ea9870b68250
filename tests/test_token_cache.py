"""The token → person cache: a known token costs one indexed read of the people revision, and a
revocation (or any change of the person) made by any process is seen at the very next request."""

from __future__ import annotations

from sqlalchemy import select

from ledger.extensions import db
from ledger.people.models import ApiToken, Person
from ledger.people.service import revoke_token
from tests.test_contributions_statement_count import counted_statements


def me(client, actor):
    db.session.remove()  # each request on a fresh session, as in a worker
    with counted_statements() as statements:
        response = client.get("/api/v1/me", headers=actor.headers)
    return response, statements


def test_a_revoked_token_is_refused_at_the_next_request(client, make_person):
    ana = make_person("Ana")
    first, statements = me(client, ana)
    assert first.status_code == 200 and first.get_json()["display_name"] == "Ana"
    assert any("api_tokens" in s for s in statements), "the first request reads the token"
    cached, statements = me(client, ana)
    assert cached.status_code == 200 and cached.get_json()["display_name"] == "Ana"
    assert not any("api_tokens" in s for s in statements), "a known token is not read again"
    assert any("revision_counters" in s for s in statements)

    # Revoked elsewhere (another worker, the web page): nothing tells this process but the counter.
    person = db.session.get(Person, ana.id)
    token = db.session.scalar(select(ApiToken).where(ApiToken.person_id == ana.id))
    assert revoke_token(person, token.id)
    db.session.commit()
    refused, _ = me(client, ana)
    assert refused.status_code == 401


def test_a_change_of_the_person_is_seen_at_the_next_request(client, make_person):
    ana = make_person("Ana")
    assert me(client, ana)[0].get_json()["display_name"] == "Ana"
    person = db.session.get(Person, ana.id)
    person.display_name = "Ana B."
    db.session.commit()
    assert me(client, ana)[0].get_json()["display_name"] == "Ana B."
