"""Payout batches: a finalized round's lines grouped by route (and by CAE for the `cae` route)."""

from __future__ import annotations

from sqlalchemy import select

from ledger.extensions import db
from ledger.payouts.models import PayoutBatch, PayoutLine
from ledger.rounds.models import AllocationLine, Round

# Routes whose money leaves the commons and so must be exported and marked paid.
PAYABLE_ROUTES = ("cae", "invoice")


def create_batches(round_: Round) -> list[PayoutBatch]:
    """Group the round's payable allocation lines into batches; safe to call twice."""
    lines = db.session.scalars(select(AllocationLine).where(AllocationLine.round_id == round_.id).order_by(AllocationLine.person_id)).all()
    batches: dict[tuple[str, int | None], PayoutBatch] = {
        (b.route, b.cae_id): b for b in db.session.scalars(select(PayoutBatch).where(PayoutBatch.round_id == round_.id))
    }
    existing_lines = set(db.session.scalars(
        select(PayoutLine.allocation_line_id).join(PayoutBatch).where(PayoutBatch.round_id == round_.id)
    ))
    for line in lines:
        amount = line.net_cents + line.topup_cents
        if line.route not in PAYABLE_ROUTES or amount == 0 or line.id in existing_lines:
            continue
        key = (line.route, line.cae_id if line.route == "cae" else None)
        if key not in batches:
            batches[key] = PayoutBatch(round_id=round_.id, route=key[0], cae_id=key[1], state="pending")
            db.session.add(batches[key])
            db.session.flush()
        db.session.add(PayoutLine(
            batch_id=batches[key].id, allocation_line_id=line.id, person_id=line.person_id, amount_cents=amount,
            cae_contribution_cents=line.cae_contribution_cents, salary_budget_cents=line.salary_budget_cents,
        ))
    db.session.flush()
    return list(batches.values())
