"""Commons, members and income through the API: values, the error envelope, and nothing stored on refusal."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.commons.models import Commons, Income, Membership
from ledger.extensions import db
from ledger.timeutil import today


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) for model in (Commons, Membership, Income, LedgerTransaction)
    )


def assert_envelope(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if field:
        assert field in body["error"]["fields"], body
    return body["error"]


def test_create_and_read_a_commons(client, make_person):
    steward = make_person("Camille Morel", show_name_publicly=True, admin=True)
    created = client.post(
        "/api/v1/commons",
        json={"slug": "roue-libre", "name": "La Roue Libre", "description": "Atelier vélo"},
        headers=steward.headers,
    )
    assert created.status_code == 201
    body = client.get("/api/v1/commons/roue-libre").get_json()
    assert body["name"] == "La Roue Libre" and body["treasury_cents"] == 0 and body["rule_version"] == 1
    assert body["members"] == [{"person_id": steward.id, "public_name": "Camille Morel", "role": "steward"}]
    # A new commons starts this month and does not draw on the fund until the fund manager admits it.
    assert body["started_on"] == today().replace(day=1).isoformat() and body["fund_status"] == "pending"


def test_members_are_shown_under_their_pseudonym_unless_they_consent(client, make_person, make_commons):
    steward = make_person("Camille Morel", show_name_publicly=True)
    shy = make_person("Léa Fontaine", show_name_publicly=False)
    make_commons(steward, "velo", members={"contributor": shy})
    body = client.get("/api/v1/commons/velo").get_json()
    names = {m["person_id"]: m["public_name"] for m in body["members"]}
    assert names[steward.id] == "Camille Morel"
    assert names[shy.id].startswith("contributor-") and "Léa" not in str(body)
    assert "email" not in str(body)


def test_income_is_a_balanced_ledger_transaction_and_fills_the_treasury(client, make_person, make_commons):
    steward = make_person()
    make_commons(steward, "velo")
    response = client.post(
        "/api/v1/commons/velo/income",
        json={"amount_cents": 120_000, "source": "grant", "funder": "Métropole", "date": "2026-03-01", "earmark": "Ateliers"},
        headers=steward.headers,
    )
    assert response.status_code == 201
    income = response.get_json()
    assert income["amount_cents"] == 120_000 and income["funder"] == "Métropole" and income["date"] == "2026-03-01"
    assert client.get("/api/v1/commons/velo").get_json()["treasury_cents"] == 120_000
    tx = client.get("/api/v1/ledger/transactions").get_json()["items"][0]
    assert tx["id"] == income["transaction_id"] and tx["kind"] == "income"
    assert sorted(p["amount_cents"] for p in tx["postings"]) == [-120_000, 120_000]
    assert client.get("/api/v1/ledger/verify").get_json()["ok"] is True


def test_adding_a_member_and_refusing_a_second_time(client, make_person, make_commons):
    steward, newcomer = make_person(), make_person()
    make_commons(steward, "velo")
    added = client.post("/api/v1/commons/velo/members", json={"email": newcomer.email, "role": "member"}, headers=steward.headers)
    assert added.status_code == 201 and added.get_json()["role"] == "member" and added.get_json()["person_id"] == newcomer.id
    again = client.post("/api/v1/commons/velo/members", json={"email": newcomer.email, "role": "member"}, headers=steward.headers)
    assert_envelope(again, 409, "email")


INCOME_OK = {"amount_cents": 5000, "source": "donation", "funder": "Dons", "date": "2026-01-10"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**INCOME_OK, "amount_cents": "5000"}, "amount_cents"),
        ({**INCOME_OK, "amount_cents": 50.5}, "amount_cents"),
        ({**INCOME_OK, "amount_cents": True}, "amount_cents"),
        ({**INCOME_OK, "amount_cents": -100}, "amount_cents"),
        ({**INCOME_OK, "amount_cents": 0}, "amount_cents"),
        ({**INCOME_OK, "amount_cents": 10**15}, "amount_cents"),
        ({k: v for k, v in INCOME_OK.items() if k != "amount_cents"}, "amount_cents"),
        ({**INCOME_OK, "source": "lottery"}, "source"),
        ({k: v for k, v in INCOME_OK.items() if k != "funder"}, "funder"),
        ({**INCOME_OK, "funder": "x" * 161}, "funder"),
        ({**INCOME_OK, "funder": ""}, "funder"),
        ({**INCOME_OK, "date": "31/01/2026"}, "date"),
        ({**INCOME_OK, "date": (date.today() + timedelta(days=3)).isoformat()}, "date"),
        ({**INCOME_OK, "earmark": "e" * 161}, "earmark"),
        ({**INCOME_OK, "surprise": 1}, "surprise"),
    ],
)
def test_bad_income_is_refused_naming_the_field_and_stores_nothing(client, make_person, make_commons, payload, field):
    steward = make_person()
    make_commons(steward, "velo")
    before = counts()
    assert_envelope(client.post("/api/v1/commons/velo/income", json=payload, headers=steward.headers), 422, field)
    assert counts() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "No slug"}, "slug"),
        ({"slug": "Bad Slug!", "name": "x"}, "slug"),
        ({"slug": "a" * 65, "name": "x"}, "slug"),
        ({"slug": "ok", "name": "n" * 161}, "name"),
        ({"slug": "ok", "name": 42}, "name"),
    ],
)
def test_bad_commons_is_refused_naming_the_field(client, make_person, payload, field):
    person = make_person(admin=True)
    before = counts()
    assert_envelope(client.post("/api/v1/commons", json=payload, headers=person.headers), 422, field)
    assert counts() == before


def test_malformed_json_is_a_400_envelope(client, make_person):
    person = make_person()
    response = client.post("/api/v1/commons", data="{not json", content_type="application/json", headers=person.headers)
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "role": "member"}, "email"),
        ({"email": "nobody@example.org", "role": "member"}, "email"),
        ({"email": "x@example.org", "role": "king"}, "role"),
    ],
)
def test_bad_member_is_refused(client, make_person, make_commons, payload, field):
    steward = make_person()
    make_commons(steward, "velo")
    before = counts()
    assert_envelope(client.post("/api/v1/commons/velo/members", json=payload, headers=steward.headers), 422, field)
    assert counts() == before


def test_unknown_commons_is_a_404_envelope(client, make_person):
    person = make_person()
    assert_envelope(client.get("/api/v1/commons/nowhere"), 404)
    assert_envelope(client.post("/api/v1/commons/nowhere/income", json=INCOME_OK, headers=person.headers), 404)
    assert_envelope(
        client.post("/api/v1/commons/nowhere/members", json={"email": person.email, "role": "member"}, headers=person.headers),
        404,
    )


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "/api/v1/commons", {"slug": "x", "name": "x"}),
        ("post", "/api/v1/commons/velo/income", INCOME_OK),
        ("post", "/api/v1/commons/velo/members", {"email": "a@b.org", "role": "member"}),
        ("get", "/api/v1/me", None),
    ],
)
def test_unauthenticated_calls_get_401_and_store_nothing(client, make_person, make_commons, method, path, payload):
    make_commons(make_person(), "velo")
    before = counts()
    for headers in ({}, {"Authorization": "Bearer lgr_forged"}, {"Authorization": "Basic abc"}):
        assert_envelope(getattr(client, method)(path, json=payload, headers=headers), 401)
    assert counts() == before


@pytest.mark.parametrize("role", ["contributor", "member", None])
def test_only_stewards_record_income_or_add_members(client, make_person, make_commons, role):
    steward, other = make_person(), make_person()
    make_commons(steward, "velo", members={role: other} if role else None)
    before = counts()
    assert_envelope(client.post("/api/v1/commons/velo/income", json=INCOME_OK, headers=other.headers), 403)
    assert_envelope(
        client.post("/api/v1/commons/velo/members", json={"email": steward.email, "role": "member"}, headers=other.headers), 403
    )
    assert counts() == before


def test_a_revoked_token_no_longer_works(app, client, make_person):
    from ledger.people.models import ApiToken
    from ledger.timeutil import utcnow

    person = make_person()
    assert client.get("/api/v1/me", headers=person.headers).get_json()["email"] == person.email
    db.session.execute(db.update(ApiToken).where(ApiToken.person_id == person.id).values(revoked_at=utcnow()))
    db.session.commit()
    assert_envelope(client.get("/api/v1/me", headers=person.headers), 401)


def test_idempotency_key_replays_the_first_answer_and_stores_once(client, make_person, make_commons):
    steward = make_person()
    make_commons(steward, "velo")
    headers = {**steward.headers, "Idempotency-Key": "income-2026-01-10"}
    first = client.post("/api/v1/commons/velo/income", json=INCOME_OK, headers=headers)
    second = client.post("/api/v1/commons/velo/income", json=INCOME_OK, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json() and second.headers["Idempotent-Replay"] == "true"
    assert db.session.scalar(select(func.count(Income.id))) == 1
    reused = client.post("/api/v1/commons/velo/income", json={**INCOME_OK, "amount_cents": 1}, headers=headers)
    assert_envelope(reused, 409, "Idempotency-Key")


def test_signing_key_is_served_and_checks_the_checkpoint_signing_a_transaction(client, make_person, make_commons):
    import base64

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    steward = make_person()
    make_commons(steward, "velo")
    client.post("/api/v1/commons/velo/income", json=INCOME_OK, headers=steward.headers)
    key = client.get("/api/v1/keys/signing").get_json()
    assert key["algorithm"] == "Ed25519" and key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    tx = client.get("/api/v1/ledger/transactions").get_json()["items"][0]
    note = client.get("/api/v1/ledger/checkpoints/latest").get_json()["note"]
    body, signature_line = note.split("\n\n")
    assert body.split("\n")[1] == str(tx["seq"]) and body.endswith(f"chain {tx['hash']}")
    blob = base64.b64decode(signature_line.split(" ")[2])
    load_pem_public_key(key["public_key_pem"].encode()).verify(blob[4:], (body + "\n").encode())


def test_ledger_transactions_are_paginated_and_filtered(client, make_person, make_commons):
    steward = make_person()
    make_commons(steward, "velo")
    make_commons(steward, "lieu")
    for n in range(3):
        client.post("/api/v1/commons/velo/income", json={**INCOME_OK, "amount_cents": 100 + n}, headers=steward.headers)
    client.post("/api/v1/commons/lieu/income", json=INCOME_OK, headers=steward.headers)
    velo_id = client.get("/api/v1/commons/velo").get_json()["id"]
    page = client.get(f"/api/v1/ledger/transactions?commons_id={velo_id}&limit=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert [t["postings"][0]["amount_cents"] for t in page["items"]] == [102, 101]
    assert_envelope(client.get("/api/v1/ledger/transactions?limit=100000"), 422, "limit")
    second = client.get(f"/api/v1/ledger/transactions?commons_id={velo_id}&limit=2&offset=2").get_json()
    assert [t["postings"][0]["amount_cents"] for t in second["items"]] == [100] and second["offset"] == 2


def test_ids_too_large_for_the_database_are_refused_cleanly(client, make_person):
    person = make_person()
    huge = 10**30
    assert_envelope(client.get(f"/api/v1/rounds/{huge}", headers=person.headers), 404)
    assert_envelope(client.put(f"/api/v1/rounds/{huge}/self-requests", json={"amount_cents": 1}, headers=person.headers), 404)
    assert_envelope(client.get(f"/api/v1/ledger/transactions?commons_id={huge}"), 422, "commons_id")
    assert_envelope(client.get(f"/api/v1/contributions?round={huge}", headers=person.headers), 422, "round")


def test_a_number_overflowing_the_database_is_a_422_not_a_500(app, client):
    from ledger.errors import handle_out_of_range

    with app.test_request_context("/api/v1/x"):
        response = handle_out_of_range(OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_failed"
