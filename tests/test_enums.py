"""States and kinds are StrEnums: the models' CHECK constraints, the schemas and the labels all come from them."""

from __future__ import annotations

from sqlalchemy import CheckConstraint

from ledger.commons.models import Membership, PayoutRoute
from ledger.contributions.models import Contribution, ContributionStatus
from ledger.payouts.models import BatchState, CaeMembership, ContractType, PayoutBatch
from ledger.rounds.models import Round, RoundState


def check_of(model, name: str) -> str:
    return next(str(c.sqltext) for c in model.__table__.constraints if isinstance(c, CheckConstraint) and c.name.endswith(name))


def test_each_check_constraint_lists_exactly_its_enum():
    for model, name, enum in (
        (Round, "state", RoundState),
        (Membership, "payout_route", PayoutRoute),
        (CaeMembership, "contract_type", ContractType),
        (PayoutBatch, "state", BatchState),
        (Contribution, "status", ContributionStatus),
    ):
        assert check_of(model, name) == f"{name} IN ({', '.join(repr(m.value) for m in enum)})"


def test_every_state_and_route_has_a_label(app):
    from ledger.web.labels import BATCH_LABELS, ROUND_LABELS, ROUTE_LABELS, ROUTE_SHORT_LABELS

    assert set(ROUND_LABELS) == set(RoundState)
    assert set(ROUTE_LABELS) == set(ROUTE_SHORT_LABELS) == set(PayoutRoute)
    assert set(BATCH_LABELS) == set(BatchState)
    assert ROUND_LABELS["open"] is ROUND_LABELS[RoundState.OPEN]  # a stored string finds its label
    from ledger.contributions.status import DisplayStatus
    from ledger.contributions.views import STATUS_LABELS

    assert set(STATUS_LABELS) == set(DisplayStatus) and {str(s) for s in ContributionStatus} <= set(DisplayStatus)


def test_objection_states_and_transaction_kinds_are_enums_the_document_shows(client):
    from ledger.accounts.models import TRANSACTION_KINDS, TransactionKind
    from ledger.contributions.models import Objection, ObjectionState

    assert check_of(Objection, "state") == f"state IN ({', '.join(repr(m.value) for m in ObjectionState)})"
    assert "reversal:round:topup" in TRANSACTION_KINDS and set(TransactionKind) < set(TRANSACTION_KINDS)
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["TransactionOut"]["properties"]["kind"]["enum"] == list(TRANSACTION_KINDS)
    assert schemas["ObjectionOut"]["properties"]["state"]["enum"] == list(ObjectionState)
    query = next(p for p in spec["paths"]["/api/v1/ledger/transactions"]["get"]["parameters"] if p["name"] == "kind")
    assert [kind for kind in query["schema"]["enum"] if kind is not None] == list(TRANSACTION_KINDS)
    refused = client.get("/api/v1/ledger/transactions?kind=round:bonus")
    assert refused.status_code == 422 and "kind" in refused.get_json()["error"]["fields"]


def test_no_transaction_kind_is_spelled_outside_its_enum():
    """Services name a kind through TransactionKind: a literal "round:topup" elsewhere would drift."""
    import ast
    from pathlib import Path

    import ledger
    from ledger.accounts.models import TransactionKind

    spelled = {kind.value for kind in TransactionKind if ":" in kind.value}
    root = Path(ledger.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if path.name == "models.py" and path.parent.name == "accounts":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in spelled:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
