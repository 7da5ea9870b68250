"""A transaction's memo: an English record inside the hash chain, shown in the reader's language.

The memo is part of what a transaction's hash covers, so it stays as written (English, the same
for every reader and every verifier). Each kind of transaction writes its memo from one template
here; the public pages parse the stored memo back into its values with the same template and
show the translated sentence. A memo no template matches (written by an older version, or by
hand) is shown as stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ledger.accounts.models import TransactionKind
from ledger.errors import N_


@dataclass(frozen=True)
class MemoTemplate:
    record: str  # the English memo as hashed, with {named} values
    text: str  # the same sentence as a msgid, with %(named)s values

    def pattern(self) -> re.Pattern:
        parts = re.split(r"\{(\w+)\}", self.record)
        return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)) + r"\Z", re.S)


# Keyed by the transaction's kind: one template per kind.
MEMOS = {
    TransactionKind.ROUND_RETRIBUTION: MemoTemplate(
        "Round {round}: retribution of person {person}", N_("Round %(round)s: retribution of person %(person)s")
    ),
    TransactionKind.ROUND_TOPUP: MemoTemplate(
        "Round {round}: solidarity top-up for person {person}", N_("Round %(round)s: solidarity top-up for person %(person)s")
    ),
    TransactionKind.ROUND_WAIVE: MemoTemplate(
        "Round {round}: person {person} leaves their retribution to the commons",
        N_("Round %(round)s: person %(person)s leaves their retribution to the commons"),
    ),
    TransactionKind.ROUND_TO_FUND: MemoTemplate(
        "Round {round}: person {person} gives their retribution to the solidarity fund",
        N_("Round %(round)s: person %(person)s gives their retribution to the solidarity fund"),
    ),
    TransactionKind.PAYOUT: MemoTemplate(
        "Payout batch {batch} ({route}) of round {round}", N_("Payout batch %(batch)s (%(route)s) of round %(round)s")
    ),
    TransactionKind.INCOME: MemoTemplate("{source} from {funder}", N_("%(source)s from %(funder)s")),
    TransactionKind.FUND_DONATION: MemoTemplate("donation from {donor}", N_("donation from %(donor)s")),
}
PATTERNS = {kind: template.pattern() for kind, template in MEMOS.items()}

# Stored codes a memo names (a payout route, an income source), in the reader's language.
WORDS = {
    "route": {"cae": _l("CAE"), "invoice": _l("invoice"), "waive": _l("waived"), "fund": _l("to the fund")},
    "source": {
        "grant": _l("grant"),
        "sale": _l("sale"),
        "donation": _l("donation"),
        "membership_fee": _l("membership fee"),
        "public_contract": _l("public contract"),
        "subscription": _l("subscription"),
    },
}


def record(kind: str, **values) -> str:
    """The memo to store (and hash) for a transaction of ``kind``."""
    return MEMOS[kind].record.format(**values)


def shown(kind: str, memo: str) -> str:
    """The memo in the reader's language, or as stored when no template of its kind matches it."""
    found = PATTERNS[kind].match(memo) if kind in PATTERNS else None
    if found is None:
        return memo
    values = {name: str(WORDS.get(name, {}).get(value, value)) for name, value in found.groupdict().items()}
    return gettext(MEMOS[kind].text, **values)


# What each kind of transaction is, for filters and tables; a reversal says what it undoes.
KIND_LABELS = {
    TransactionKind.ROUND_RETRIBUTION: _l("Retribution"),
    TransactionKind.ROUND_TOPUP: _l("Solidarity top-up"),
    TransactionKind.ROUND_WAIVE: _l("Retribution left to the commons"),
    TransactionKind.ROUND_TO_FUND: _l("Retribution given to the fund"),
    TransactionKind.PAYOUT: _l("Payout"),
    TransactionKind.INCOME: _l("Income"),
    TransactionKind.FUND_DONATION: _l("Donation to the fund"),
}


def kind_label(kind: str) -> str:
    if kind.startswith("reversal:"):
        return gettext("Reversal: %(kind)s", kind=kind_label(kind.removeprefix("reversal:")))
    return str(KIND_LABELS.get(kind, kind))
