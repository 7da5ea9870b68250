"""The demo's rounds: finalized months with a top-up and a carried-over contribution, a verifiable ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.rounds.models import Round


def test_demo_rounds_are_finalized_topped_up_carried_over_and_the_ledger_verifies(runner):
    result = runner.invoke(["demo"])
    assert result.exit_code == 0, result.output
    states = db.session.execute(select(Round.commons_id, Round.state).order_by(Round.commons_id, Round.period_start)).all()
    by_commons: dict[int, list[str]] = {}
    for commons_id, state in states:
        by_commons.setdefault(commons_id, []).append(state)
    assert len(by_commons) == 3
    for seq in by_commons.values():
        assert (
            seq[:2] in (["finalized", "finalized"], ["paid", "finalized"], ["finalized", "paid"], ["paid", "paid"])
            and seq[2] == "open"
        )
    kinds = db.session.scalars(select(LedgerTransaction.kind)).all()
    assert kinds.count("round:topup") >= 1 and kinds.count("fund:donation") == 1
    assert db.session.scalar(select(func.count(Contribution.id)).where(Contribution.carried_from_round_id.is_not(None))) >= 1
    assert runner.invoke(["verify"]).exit_code == 0
