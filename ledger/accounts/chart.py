"""The chart of accounts: which account holds what, named by a stable code.

Each function returns an AccountSpec; ``ledger.accounts.service.post`` creates the account the
first time it is used. The ``kind`` is what the FEC export maps to a French account number. Every
account here is posted to: a CAE payout settles each person's payable account directly (the
commons pays the CAE on the person's behalf; the FEC line carries the member's analytic code).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: str
    kind: str
    commons_id: int | None = None
    person_id: int | None = None
    cae_id: int | None = None


def commons_treasury(commons) -> AccountSpec:
    """The commons' money at hand (bank)."""
    return AccountSpec(
        f"commons:{commons.id}:treasury", f"Treasury of {commons.name}", "asset", "treasury", commons_id=commons.id
    )


def commons_income(commons, source: str) -> AccountSpec:
    """Income of a commons by source (grant, sale, donation …)."""
    return AccountSpec(
        f"commons:{commons.id}:income:{source}",
        f"{source} income of {commons.name}",
        "income",
        f"income:{source}",
        commons_id=commons.id,
    )


def commons_retributions(commons) -> AccountSpec:
    """What the commons spends on retributions (gross amounts)."""
    return AccountSpec(
        f"commons:{commons.id}:retributions",
        f"Retributions paid by {commons.name}",
        "expense",
        "retributions",
        commons_id=commons.id,
    )


def person_payable(person_id: int, commons) -> AccountSpec:
    """What a commons owes one person, until it is paid out."""
    return AccountSpec(
        f"commons:{commons.id}:payable:{person_id}",
        f"Owed by {commons.name} to person {person_id}",
        "liability",
        "payable:person",
        commons_id=commons.id,
        person_id=person_id,
    )


def fund_treasury() -> AccountSpec:
    """The solidarity fund's money."""
    return AccountSpec("fund:treasury", "Solidarity fund treasury", "asset", "fund:treasury")


def fund_levies() -> AccountSpec:
    return AccountSpec("fund:levies", "Solidarity levies received", "income", "fund:levies")


def fund_donations() -> AccountSpec:
    return AccountSpec("fund:donations", "Donations to the solidarity fund", "income", "fund:donations")


def fund_topups() -> AccountSpec:
    return AccountSpec("fund:topups", "Top-ups paid by the solidarity fund", "expense", "fund:topups")


def fund_payable(person_id: int) -> AccountSpec:
    """What the fund owes one person (their top-ups), until it is paid out."""
    return AccountSpec(
        f"fund:payable:{person_id}", f"Owed by the fund to person {person_id}", "liability", "fund:payable", person_id=person_id
    )
