"""Issue 16 item 11: the OpenAPI document is complete enough for a generated client to work
unmodified, and the API behaves as it says (401 before validation, Allow on 405, 404 after delete)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.timeutil import today
from tests.rounds_support import World, fund_commons

ENVELOPE = "#/components/schemas/ErrorEnvelope"
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in WRITES | {"get"}:
                yield path, method, operation


def response_schema(spec, response):
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]["$ref"]


def test_every_operation_has_a_unique_id_a_security_requirement_and_documented_refusals(spec):
    ids = []
    for path, method, operation in operations(spec):
        ids.append(operation.get("operationId"))
        assert operation.get("security"), (method, path)
        assert {"bearer": []} in operation["security"]
        expected = {"401", "403", "404", "422"} | ({"409"} if method in WRITES else set())
        assert expected <= set(operation["responses"]), (method, path)
        for status in expected:
            assert response_schema(spec, operation["responses"][status]) == ENVELOPE, (method, path, status)
    assert None not in ids and len(ids) == len(set(ids)) >= 40
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_idempotent_operations_declare_their_header(spec):
    declared = {
        (method, path)
        for path, method, operation in operations(spec)
        if any(p.get("name") == "Idempotency-Key" and p["in"] == "header" for p in operation.get("parameters", []))
    }
    assert ("post", "/api/v1/contributions") in declared and ("post", "/api/v1/commons/{slug}/income") in declared
    assert all(method == "post" for method, _path in declared)


def test_exports_are_typed(spec):
    def content(path):
        return spec["paths"][path]["get"]["responses"]["200"]["content"]

    csv, text = {"text/csv": {"schema": {"type": "string"}}}, {"text/plain": {"schema": {"type": "string"}}}
    assert content("/api/v1/exports/salary-lines") == csv and content("/api/v1/exports/sage") == csv
    assert content("/api/v1/exports/fec") == text and content("/api/v1/exports/fec/description") == text


def test_one_paging_convention(spec):
    paged = []
    for path, _method, operation in operations(spec):
        names = {p["name"] for p in operation.get("parameters", [])}
        assert not names & {"page", "per_page"}, path
        if "limit" in names:
            assert "offset" in names, path
            paged.append(path)
    assert {"/api/v1/contributions", "/api/v1/ledger/transactions"} <= set(paged)


def test_an_unauthenticated_bad_request_is_401_not_422(client):
    for path, body in [("/api/v1/contributions", {"hours": "not a number"}), ("/api/v1/commons", [1, 2])]:
        response = client.post(path, json=body)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "not_authenticated"


def fill(path: str) -> str:
    """The path with every parameter given a value no resource has."""
    return re.sub(r"\{(\w+)\}", lambda m: "nowhere" if m.group(1) in ("slug", "code") else "999999", path)


def test_every_api_route_is_in_the_document(app, spec):
    """The document is the list the next tests read: no API operation escapes it."""
    documented = {(path, method) for path, method, _operation in operations(spec)}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and app.view_functions[rule.endpoint].__dict__.get("view_class"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                assert (path, method.lower()) in documented, (method, path)


@pytest.mark.parametrize("token", [None, "Bearer not-a-token"], ids=["anonymous", "bad token"])
def test_every_operation_needing_a_token_answers_401_before_reading_its_input(client, spec, token):
    """Reads as well as writes: a bad query string or body is not looked at before the person is known."""
    headers = {"Authorization": token} if token else {}
    guarded = [(path, method, op) for path, method, op in operations(spec) if {} not in op["security"]]
    assert len(guarded) >= 60 and sum(method == "get" for _p, method, _o in guarded) >= 20
    for path, method, operation in guarded:
        query = {p["name"]: "not-valid!" for p in operation.get("parameters", []) if p["in"] == "query"}
        query["limit"] = "-1"
        body = {} if method == "get" else {"json": [1, 2]}
        response = client.open(fill(path), method=method.upper(), query_string=query, headers=headers, **body)
        assert response.status_code == 401, (method, path, response.get_json())
        assert response.get_json()["error"]["code"] == "not_authenticated"


def test_the_operations_documented_as_public_answer_without_a_token(client, spec, make_person, make_commons):
    make_commons(make_person("Steward"), "velo")
    public = [(path, method) for path, method, op in operations(spec) if {} in op["security"]]
    assert public and all(method == "get" for _path, method in public)
    for path, method in public:
        response = client.get(re.sub(r"\{slug\}", "velo", fill(path)))
        assert response.status_code != 401, (method, path)
    assert client.get("/api/v1/commons/velo").status_code == 200


def test_a_405_says_which_methods_are_allowed(client, make_person):
    response = client.put("/api/v1/contributions", json={}, headers=make_person().headers)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"


# A client generated by openapi-python-client from the document, used as is.


@pytest.fixture
def world(make_person, make_commons):
    steward, ana, bob = make_person("Steward"), make_person("Ana"), make_person("Bob")
    make_commons(steward, "velo", members={"member": ana, "member2": bob})
    world = World("velo", steward, {"ana": ana, "bob": bob})
    fund_commons(world, 500_000)
    return world


def generate_client(spec_json: str, where: Path):
    (where / "openapi.json").write_text(spec_json)
    (where / "config.yaml").write_text("post_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            *("generate", "--path", "openapi.json", "--meta", "none"),
            *("--config", "config.yaml", "--output-path", "ledger_client"),
        ],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout  # nothing of the document was skipped
    sys.path.insert(0, str(where))
    return importlib.import_module("ledger_client")


def test_a_generated_client_declares_reviews_and_runs_a_round(app, client, world, tmp_path):
    import httpx

    generated = generate_client(client.get("/api/v1/openapi.json").get_data(as_text=True), tmp_path)
    try:
        from ledger_client.api.contributions import get_contributions, post_contributions
        from ledger_client.api.review import post_vouches
        from ledger_client.api.rounds import get_allocation_item, post_advance, post_commons_rounds
        from ledger_client.models import AdvanceIn, ContributionIn, RoundIn

        def as_(actor):
            return generated.AuthenticatedClient(
                base_url="http://ledger.test", token=actor.token, httpx_args={"transport": httpx.WSGITransport(app=app)}
            )

        steward, ana, bob = as_(world.steward), as_(world.people["ana"]), as_(world.people["bob"])
        start, end = today() - timedelta(days=7), today() - timedelta(days=1)
        opened = post_commons_rounds.sync_detailed(
            "velo", client=steward, body=RoundIn(period_start=start, period_end=end, envelope_cents=100_000)
        )
        assert opened.status_code == 201, opened.content
        round_id = opened.parsed.id
        declared = post_contributions.sync_detailed(
            client=ana,
            body=ContributionIn(commons="velo", date=end, hours="6", category="production", description="Rebuilt wheels"),
            idempotency_key="flow-1",
        )
        assert declared.status_code == 201, declared.content
        assert declared.parsed.round_id == round_id
        vouched = post_vouches.sync_detailed(declared.parsed.id, client=bob)
        assert vouched.status_code == 201, vouched.content
        early = AdvanceIn(reason="Everyone has declared and been vouched for")  # the windows are not over yet
        states = [post_advance.sync(round_id, client=steward, body=early).state for _ in range(2)]
        assert [str(s) for s in states] == ["review", "allocated"]
        allocation = get_allocation_item.sync(round_id, client=ana)
        [line] = [line for line in allocation.lines if line.person_id == world.people["ana"].id]
        assert line.hours == "6.00" and line.claim_cents == 6 * 1500
        assert str(post_advance.sync(round_id, client=steward).state) == "finalized"
        mine = get_contributions.sync(client=ana)
        assert [c.id for c in mine] == [declared.parsed.id]
        refused = post_advance.sync_detailed(round_id, client=steward)
        assert refused.status_code == 409 and refused.parsed.error.code == "already_finalized"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "ledger_client" or n.startswith("ledger_client.")]:
            del sys.modules[name]
