"""States and kinds are StrEnums: the models' CHECK constraints, the schemas and the labels all come from them."""

from __future__ import annotations

from sqlalchemy import CheckConstraint

from ledger.commons.models import Membership, PayoutRoute
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
    ):
        assert check_of(model, name) == f"{name} IN ({', '.join(repr(m.value) for m in enum)})"


def test_every_state_and_route_has_a_label(app):
    from ledger.web.labels import BATCH_LABELS, ROUND_LABELS, ROUTE_LABELS, ROUTE_SHORT_LABELS

    assert set(ROUND_LABELS) == set(RoundState)
    assert set(ROUTE_LABELS) == set(ROUTE_SHORT_LABELS) == set(PayoutRoute)
    assert set(BATCH_LABELS) == set(BatchState)
    assert ROUND_LABELS["open"] is ROUND_LABELS[RoundState.OPEN]  # a stored string finds its label
