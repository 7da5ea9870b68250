""" "My money": what each of a person's finalized rounds gave them, and where the payment stands.

One row per round in which the person has an allocation line, with the payment's state read from
their payout line and its batch: `pending` (not exported yet), `exported` (sent to the CAE),
`paid` (with the day the money left the bank), or `none` for a route that pays nothing out
(waived, given to the fund). Totals are for one calendar year of finalization.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import extract, select

from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.payouts.models import PayoutBatch, PayoutLine
from ledger.people.models import Person
from ledger.rounds.models import AllocationLine, Round

# Rounds whose allocation is written: before that a line is only a preview.
WRITTEN_STATES = ("finalized", "paid")


@dataclass(frozen=True)
class MoneyRow:
    round_id: int
    commons_name: str
    period_start: date
    period_end: date
    hours: Decimal
    gross_cents: int
    levy_cents: int
    topup_cents: int
    net_cents: int
    route: str
    payment: str  # pending | exported | paid | none
    paid_on: date | None
    explanation: str
    finalized_at: datetime | None

    @property
    def received_cents(self) -> int:
        """What reaches the person: the net and the fund's top-up, unless left or given away."""
        return 0 if self.route in ("waive", "fund") else self.net_cents + self.topup_cents


@dataclass
class MyMoney:
    year: int
    rows: list[MoneyRow] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.rows)

    @property
    def totals(self) -> dict[str, int]:
        names = ("gross_cents", "levy_cents", "topup_cents", "net_cents", "received_cents")
        paid = sum(row.received_cents for row in self.rows if row.payment == "paid")
        return {**{name: self.total(name) for name in names}, "paid_cents": paid}


def years_of(person: Person) -> list[int]:
    """The years in which a round of this person was finalized, newest first."""
    stamps = db.session.scalars(
        select(Round.finalized_at)
        .join(AllocationLine, AllocationLine.round_id == Round.id)
        .where(AllocationLine.person_id == person.id, Round.state.in_(WRITTEN_STATES))
    ).all()
    return sorted({stamp.year for stamp in stamps if stamp}, reverse=True)


def my_money(person: Person, year: int) -> MyMoney:
    """The person's written allocation lines of rounds finalized in ``year``, newest first."""
    rows = db.session.execute(
        select(AllocationLine, Round, Commons.name, PayoutBatch.state, PayoutBatch.paid_on)
        .join(Round, Round.id == AllocationLine.round_id)
        .join(Commons, Commons.id == Round.commons_id)
        .outerjoin(PayoutLine, PayoutLine.allocation_line_id == AllocationLine.id)
        .outerjoin(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .where(
            AllocationLine.person_id == person.id,
            Round.state.in_(WRITTEN_STATES),
            extract("year", Round.finalized_at) == year,
        )
        .order_by(Round.finalized_at.desc(), Round.id.desc())
    ).all()
    return MyMoney(
        year,
        [
            MoneyRow(
                round_id=round_.id,
                commons_name=name,
                period_start=round_.period_start,
                period_end=round_.period_end,
                hours=Decimal(line.hours),
                gross_cents=line.gross_cents,
                levy_cents=line.levy_cents,
                topup_cents=line.topup_cents,
                net_cents=line.net_cents,
                route=line.route,
                payment=batch_state or "none",
                paid_on=paid_on,
                explanation=line.explanation,
                finalized_at=round_.finalized_at,
            )
            for line, round_, name, batch_state, paid_on in rows
        ],
    )
