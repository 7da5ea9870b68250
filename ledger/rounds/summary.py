"""What finalizing a round will write, stated before the steward confirms it.

Finalization cannot be undone (the entries are signed and the chain is append-only), so the
confirmation page shows these totals, read from the allocation preview the steward has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import Account, Posting
from ledger.accounts.service import balance
from ledger.extensions import db
from ledger.rounds.models import AllocationLine, Round


@dataclass(frozen=True)
class RouteTotal:
    route: str
    people: int
    net_cents: int


@dataclass(frozen=True)
class FinalizationSummary:
    """The totals one finalization writes, in cents."""

    envelope_cents: int
    gross_cents: int
    levy_cents: int
    topup_cents: int
    routes: list[RouteTotal] = field(default_factory=list)
    to_fund_cents: int = 0  # levies plus what contributors give to the fund
    left_in_treasury_cents: int = 0  # the treasury once this round and what is already owed are paid
    entries: int = 0

    @property
    def unspent_cents(self) -> int:
        """What the envelope does not use; it stays in the commons' treasury."""
        return self.envelope_cents - self.gross_cents


def finalization_summary(round_: Round) -> FinalizationSummary:
    """Totals per route, to the fund and left in the treasury, from the round's allocation preview."""
    lines = db.session.scalars(select(AllocationLine).where(AllocationLine.round_id == round_.id)).all()
    by_route: dict[str, list[AllocationLine]] = {}
    for line in lines:
        by_route.setdefault(line.route, []).append(line)
    routes = [RouteTotal(route, len(group), sum(line.net_cents for line in group)) for route, group in sorted(by_route.items())]
    net = {r.route: r.net_cents for r in routes}
    gross = sum(line.gross_cents for line in lines)
    levy = sum(line.levy_cents for line in lines)
    owed = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount_cents), 0))
        .join(Account)
        .where(Account.commons_id == round_.commons_id, Account.kind.in_(("payable:person", "payable:cae")))
    )
    treasury = balance(chart.commons_treasury(round_.commons).code) + int(owed or 0)
    entries = sum(
        bool(line.gross_cents) + bool(line.topup_cents) + bool(line.net_cents and line.route in ("waive", "fund"))
        for line in lines
    )
    return FinalizationSummary(
        envelope_cents=round_.envelope_cents,
        gross_cents=gross,
        levy_cents=levy,
        topup_cents=sum(line.topup_cents for line in lines),
        routes=routes,
        to_fund_cents=levy + net.get("fund", 0),
        # Waived money never leaves the commons; everything else of the gross does.
        left_in_treasury_cents=treasury - (gross - net.get("waive", 0)),
        entries=entries,
    )
