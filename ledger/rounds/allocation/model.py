"""Plain data in and out of the allocation: no database, no Flask."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

# Routes whose money is paid to the person (and so may be topped up by the fund).
PAID_ROUTES = ("cae", "invoice")


@dataclass(frozen=True)
class Rules:
    """The parts of a rule version the allocation reads."""

    method: str
    hourly_value_cents: int
    cap_cents: int | None
    levy_rate: Decimal
    category_weights: dict[str, Decimal] = field(default_factory=dict)
    hybrid_time_weight: Decimal = Decimal("0.5")

    def weight(self, category: str) -> Decimal:
        return self.category_weights.get(category, Decimal(1))


@dataclass(frozen=True)
class FundTerms:
    """What the solidarity fund may give to this round.

    ``admitted``: whether the fund manager admitted the commons (else no top-up at all).
    ``cap_left``: per person, what the per-person cap still allows in the fund's period once the
    top-ups already granted to them (any commons) are counted; a person not listed has the whole cap.
    """

    topup_ratio: Decimal
    per_person_cap_cents: int | None
    available_cents: int
    admitted: bool = True
    cap_left: dict[int, int] = field(default_factory=dict)

    def cap_for(self, person_id: int) -> int | None:
        if self.per_person_cap_cents is None:
            return None
        return self.cap_left.get(person_id, self.per_person_cap_cents)


class Work(NamedTuple):
    """One counted contribution (or one person's counted hours in a category).

    A named tuple rather than a frozen dataclass: a round of 10,000 people builds 66,000 of them
    twice, and a tuple is built in C."""

    person_id: int
    category: str
    hours: Decimal
    contribution_id: int = 0


@dataclass(frozen=True)
class Route:
    route: str = "invoice"
    cae_id: int | None = None
    cae_code: str | None = None
    cae_rate: Decimal | None = None


@dataclass(frozen=True)
class RoundInput:
    envelope_cents: int
    rules: Rules
    fund: FundTerms
    work: tuple[Work, ...] = ()
    routes: dict[int, Route] = field(default_factory=dict)
    # `self`: the amount each person asks for.
    requests: dict[int, int] = field(default_factory=dict)
    # `peer`/`hybrid`: (giver, receiver, points) over counted contributions.
    points: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class Step:
    """One sentence of an explanation: a message key and its numbers."""

    key: str
    params: dict


@dataclass
class Line:
    person_id: int
    hours: Decimal
    weighted_hours: Decimal
    claim_cents: int
    gross_cents: int
    levy_cents: int = 0
    topup_cents: int = 0
    net_cents: int = 0
    route: str = "invoice"
    cae_id: int | None = None
    cae_contribution_cents: int = 0
    salary_budget_cents: int = 0
    # The part of the claim the fund may cover (validated work only), and whether the
    # per-person cap of the fund's period held the top-up down.
    fund_claim_cents: int = 0
    topup_capped: bool = False
    steps: list[Step] = field(default_factory=list)

    @property
    def paid_cents(self) -> int:
        """What leaves for the person's route: net plus top-up."""
        return self.net_cents + self.topup_cents


@dataclass
class Allocation:
    method: str
    envelope_cents: int
    lines: list[Line]
    claims_cents: int
    distributed_cents: int
    fund_requested_cents: int
    fund_granted_cents: int

    @property
    def left_in_treasury_cents(self) -> int:
        return self.envelope_cents - self.distributed_cents


def paid_out_cents(line) -> int:
    """What is paid out to the person for a line (stored or computed): net plus top-up on a paid
    route; nothing when they leave their net to the commons or give it to the fund."""
    return line.net_cents + line.topup_cents if line.route in PAID_ROUTES else 0


def totals(lines) -> dict:
    """The allocation table's totals row: every column summed over the lines."""
    return {
        "hours": sum((line.hours for line in lines), Decimal(0)),
        **{
            key: sum(getattr(line, key) for line in lines)
            for key in ("claim_cents", "gross_cents", "levy_cents", "net_cents", "topup_cents")
        },
        "paid_out_cents": sum(paid_out_cents(line) for line in lines),
    }
