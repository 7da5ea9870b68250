"""Schemathesis against /api/v1/openapi.json: generated requests to every operation never get a 5xx
nor a response that contradicts the schema (body and content type).

Bounded for CI: a few examples per operation (LEDGER_SCHEMATHESIS_EXAMPLES to go further), on a
small installation, as an administrator (so requests reach past authentication) — and, for each
operation, once anonymously, which must be a documented refusal too.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    use_after_free,
)

from tests.rounds_support import World, fund_commons

EXAMPLES = int(os.environ.get("LEDGER_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def admin(app, make_person, make_commons):
    person = make_person("Admin", admin=True, password=None)
    make_commons(person, "velo")
    fund_commons(World("velo", person), 100_000)
    return person


def check_operation(operation, token: str) -> list[str]:
    """Run generated cases against one operation; the failures, described (empty when it holds)."""
    failures: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # how schemathesis reports failed checks
            failures.append(f"{operation.label}: {describe(exc)}")
            raise

    try:
        run()
    except (AssertionError, BaseExceptionGroup):
        pass  # recorded above, hypothesis's smallest example last
    return failures[-1:]


def describe(exc: BaseException) -> str:
    inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    return " | ".join(" ".join(str(e).split())[:6000] for e in inner)


# Split in two so that xdist's two workers share the work.
@pytest.mark.parametrize("half", [0, 1])
def test_api_never_errors_and_answers_as_documented(app, admin, half):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures = []
    for operation in operations[half::2]:
        failures += check_operation(operation, admin.token)
    assert failures == []


STATEFUL_STEPS = int(os.environ.get("LEDGER_SCHEMATHESIS_STEPS", "6"))


def test_stateful_sequences_never_error_and_a_deleted_resource_stays_gone(app, admin):
    """Links between operations (inferred by schemathesis from ids in answers and paths) chain
    calls: create, read, change, delete, read again. On top of the checks above, a resource
    deleted must answer 404 afterwards (use_after_free) and one created must be readable."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    workflow = schema.as_state_machine()
    checks = [*CHECKS, use_after_free, ensure_resource_availability]

    class AsAdmin(workflow):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {admin.token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=checks, transport_kwargs=kwargs)

    AsAdmin.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


# Found by the runs above, kept as plain regressions.


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/payout-batches/99999999999999999999/paid"),
        ("GET", "/api/v1/rounds/9223372036854775808"),
        ("GET", "/api/v1/contributions/18446744073709551616"),
    ],
)
def test_an_id_beyond_64_bits_is_not_found_not_a_server_error(client, admin, method, path):
    response = client.open(path, method=method, json={}, headers={"Authorization": f"Bearer {admin.token}"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_times_in_the_api_carry_their_utc_offset_on_every_engine(client, admin):
    response = client.post(
        "/api/v1/commons/velo/rules",
        headers={"Authorization": f"Bearer {admin.token}"},
        json={
            "reason": "offsets",
            "allocation_method": "time",
            "hourly_value_cents": 1500,
            "levy_rate": "0.05",
            "cap_cents": None,
            "min_vouches": 0,
            "cadence": "manual",
        },
    )
    assert response.status_code == 201, response.get_json()
    history = client.get("/api/v1/commons/velo/rules", headers={"Authorization": f"Bearer {admin.token}"}).get_json()
    stamps = [version["created_at"] for version in (history if isinstance(history, list) else history["versions"])]
    assert stamps and all(stamp.endswith("+00:00") for stamp in stamps), stamps
