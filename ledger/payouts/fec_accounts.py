"""The chart of accounts mapped to French account numbers (plan comptable général) for the FEC.

Each ledger account has a ``kind`` (see ``ledger.accounts.chart``); the FEC shows it under the
number below. An installation whose accountant prefers other numbers sets
``LEDGER_FEC_ACCOUNTS`` in the configuration: a mapping ``kind → [number, label]`` (in the
environment, a JSON object) that overrides these defaults one kind at a time.

Each commons and the solidarity fund keep their own books (``ledger.accounts.numbering``): a
commons' FEC holds only its own accounts, the fund's FEC only the fund's, so no liaison account
is needed — every transaction's postings balance within each entity (the FEC export checks it).
The fund is an association-like pool: levies it receives are "other operating income", the
top-ups it grants are "financial aid granted" (PCG of associations, ANC 2018-06, 657).

``equity`` is where the à-nouveaux put the result of the years before (report à nouveau,
110 when it is a surplus, ``equity:debit`` 119 when a deficit).
"""

from __future__ import annotations

import json
import os

from flask import current_app

DEFAULT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "treasury": ("512000", "Banque"),
    "income:grant": ("740000", "Subventions d'exploitation"),
    "income:sale": ("707000", "Ventes de marchandises"),
    "income:donation": ("754100", "Dons manuels"),
    "income:membership_fee": ("756000", "Cotisations"),
    "income:public_contract": ("706000", "Prestations de services"),
    "income:subscription": ("706100", "Abonnements"),
    "retributions": ("622600", "Rétributions contributives"),
    "payable:person": ("467000", "Contributeurs, rétributions à payer"),
    "equity": ("110000", "Report à nouveau (solde créditeur)"),
    "equity:debit": ("119000", "Report à nouveau (solde débiteur)"),
    "fund:treasury": ("512000", "Banque"),
    "fund:levies": ("758000", "Contributions de solidarité des communs"),
    "fund:donations": ("754100", "Dons manuels"),
    "fund:topups": ("657000", "Aides financières accordées"),
    "fund:payable": ("467000", "Contributeurs, compléments à payer"),
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
    return UNMAPPED
