"""The chart of accounts mapped to French account numbers (plan comptable général) for the FEC.

Each ledger account has a ``kind`` (see ``ledger.accounts.chart``); the FEC shows it under the
number below. An installation whose accountant prefers other numbers sets
``LEDGER_FEC_ACCOUNTS`` in the configuration: a mapping ``kind → [number, label]`` (in the
environment, a JSON object) that overrides these defaults one kind at a time.

The solidarity fund is shared by every commons and is not part of a commons' own books: all its
accounts map to one liaison account (4581), so that a transaction that moves money between a
commons and the fund still balances inside the commons' file.
"""

from __future__ import annotations

import json
import os

from flask import current_app

LIAISON_FUND = ("458100", "Fonds de solidarité (compte de liaison)")

DEFAULT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "treasury": ("512000", "Banque"),
    "income:grant": ("740000", "Subventions d'exploitation"),
    "income:sale": ("707000", "Ventes de marchandises"),
    "income:donation": ("754100", "Dons manuels"),
    "income:membership_fee": ("756000", "Cotisations"),
    "income:public_contract": ("706000", "Prestations de services"),
    "income:subscription": ("706100", "Abonnements"),
    "retributions": ("622600", "Rétributions contributives"),
    "levies": ("658000", "Contribution au fonds de solidarité"),
    "equity": ("110000", "Report à nouveau"),
    "payable:person": ("467000", "Contributeurs — rétributions à payer"),
    "payable:cae": ("401000", "CAE — sommes à reverser"),
    "fund:treasury": LIAISON_FUND,
    "fund:levies": LIAISON_FUND,
    "fund:donations": LIAISON_FUND,
    "fund:topups": LIAISON_FUND,
    "fund:payable": LIAISON_FUND,
}
# A kind nobody mapped yet still lands somewhere visible rather than breaking the export.
UNMAPPED = ("471000", "Compte d'attente")


def configured_accounts() -> dict[str, tuple[str, str]]:
    """The defaults overridden by ``LEDGER_FEC_ACCOUNTS`` (a dict, or a JSON object as text)."""
    overrides = current_app.config.get("LEDGER_FEC_ACCOUNTS") or os.environ.get("LEDGER_FEC_ACCOUNTS") or {}
    if isinstance(overrides, str):
        overrides = json.loads(overrides)
    accounts = dict(DEFAULT_ACCOUNTS)
    for kind, (number, label) in overrides.items():
        accounts[kind] = (str(number), str(label))
    return accounts


def account_for(kind: str, accounts: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(CompteNum, CompteLib) of a ledger account kind; other income sources share 'income:*' if set."""
    if kind in accounts:
        return accounts[kind]
    if kind.startswith("income:") and "income:*" in accounts:
        return accounts["income:*"]
    if kind.startswith("fund:"):
        return LIAISON_FUND
    return UNMAPPED
