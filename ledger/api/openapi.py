"""What every operation of the OpenAPI document says, added in one place so that a generated
client works unmodified: a stable ``operationId``, the bearer scheme as its security
requirement, every refusal the service answers documented with the error envelope, and the
``Idempotency-Key`` header where a retry is replayed."""

from __future__ import annotations

import re

from apispec import BasePlugin
from flask import Flask

from ledger.api.idempotency import IDEMPOTENCY_HEADER
from ledger.people.auth import is_public

WRITES = {"post", "put", "patch", "delete"}
# Status → (component name, description). Every write may be refused for each of these reasons;
# reads for all but a conflict.
REFUSALS = {
    "401": ("NOT_AUTHENTICATED", "No valid bearer token (every operation but the public reads needs one)"),
    "403": ("FORBIDDEN", "The token's person may not do this"),
    "404": ("NOT_FOUND", "No such resource"),
    "409": ("CONFLICT", "Refused by the state of things (a rule, a race, an idempotency key reused)"),
    "422": ("UNPROCESSABLE_ENTITY", "Invalid input; the fields are named"),
    "429": ("TOO_MANY_REQUESTS", "Slow down"),
    "503": ("UNAVAILABLE", "The database is unavailable; nothing was saved"),
}


def register_refusals(spec) -> None:
    """The error responses as components, each with the envelope (422 is flask-smorest's own)."""
    for name, description in REFUSALS.values():
        if name != "UNPROCESSABLE_ENTITY":
            spec.components.response(
                name,
                {"description": description, "content": {"application/json": {"schema": "ErrorEnvelope"}}},
            )


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ContractPlugin(BasePlugin):
    def __init__(self, app: Flask):
        self.app = app
        self.seen: set[str] = set()

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        view_class = getattr(view, "view_class", None)
        blueprint, _, name = rule.endpoint.partition(".")
        for method, operation in operations.items():
            if method not in WRITES | {"get"}:
                continue
            operation.setdefault("operationId", self._operation_id(method, blueprint, name))
            # Anonymous ({}) only where the operation is marked public: the before-request check reads the same mark.
            operation.setdefault("security", [{"bearer": []}, {}] if is_public(view, method) else [{"bearer": []}])
            responses = operation.setdefault("responses", {})
            for status, (component, _description) in REFUSALS.items():
                if status == "409" and method not in WRITES:
                    continue
                responses.setdefault(status, component)
            function = getattr(view_class, method, None)
            if getattr(function, "_idempotent", False):
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_HEADER["name"] for p in parameters if isinstance(p, dict)):
                    parameters.append(dict(IDEMPOTENCY_HEADER))

    def _operation_id(self, method: str, blueprint: str, name: str) -> str:
        """``<verb>_<view>``, e.g. ``post_contributions``; prefixed by the blueprint if two views share a name."""
        candidate = f"{method}_{snake(name)}"
        if candidate in self.seen:
            candidate = f"{method}_{blueprint}_{snake(name)}"
        self.seen.add(candidate)
        return candidate
