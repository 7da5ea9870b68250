"""The invoice summary: what a person may invoice, per commons and round, for the `invoice` route."""

from __future__ import annotations

from sqlalchemy import select

from ledger.extensions import db
from ledger.payouts.exports.salary_lines import parse_period
from ledger.payouts.models import PayoutBatch, PayoutLine
from ledger.people.models import Person
from ledger.rounds.models import Round


def invoice_summary(person: Person, period: str | None = None) -> dict:
    """The person's `invoice` payout lines (of rounds finalized in ``period`` if given) and their total."""
    query = (
        select(PayoutLine, PayoutBatch, Round)
        .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .join(Round, Round.id == PayoutBatch.round_id)
        .where(PayoutLine.person_id == person.id, PayoutBatch.route == "invoice")
        .order_by(Round.finalized_at, Round.id)
    )
    if period:
        start, end = parse_period(period)
        query = query.where(Round.finalized_at >= start, Round.finalized_at < end)
    lines = [
        {
            "batch_id": batch.id,
            "round_id": round_.id,
            "commons": round_.commons.slug,
            "commons_name": round_.commons.name,
            "period_start": round_.period_start,
            "period_end": round_.period_end,
            "amount_cents": line.amount_cents,
            "state": batch.state,
        }
        for line, batch, round_ in db.session.execute(query).all()
    ]
    return {
        "period": period,
        "lines": lines,
        "total_cents": sum(line["amount_cents"] for line in lines),
        "unpaid_cents": sum(line["amount_cents"] for line in lines if line["state"] != "paid"),
    }
