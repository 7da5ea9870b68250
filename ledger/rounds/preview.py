"""Reusing a round's stored preview at finalization when nothing it was computed from changed.

The fingerprint is a SHA-256 over everything the allocation reads, in a canonical order: the
pinned rule version and its settings, the envelope, the counted work (so the contributions and
their reviews), peer points and self requests, the payout routes, and the fund's terms with its
available balance and the caps left. Equal fingerprints mean ``allocate`` would return the
lines already stored, so finalization posts those instead of computing them again.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy import select

from ledger.extensions import db
from ledger.rounds.allocation import RoundInput
from ledger.rounds.allocation.model import Line
from ledger.rounds.models import AllocationLine, Round


def _canonical(value) -> str:
    """A text that equal inputs always give: dicts and work sorted, numbers normalized."""
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
        )
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value.normalize()) if value else "0"
    if hasattr(value, "__dataclass_fields__"):
        return type(value).__name__ + _canonical({name: getattr(value, name) for name in value.__dataclass_fields__})
    return repr(value)


def fingerprint(rule_version_id: int, inp: RoundInput) -> str:
    # The long parts, one item per counted contribution or per person, are sorted flat tuples
    # whose repr (written in C) is canonical enough: repr is exact, so two different inputs never
    # share a text, and the same number written with another exponent would only cost a recompute.
    # Walking them with _canonical took a second per fingerprint for 10,000 people.
    work = sorted((w.person_id, w.category, w.hours.normalize(), w.contribution_id) for w in inp.work)
    routes = sorted((person, r.route, r.cae_id, r.cae_code, r.cae_rate) for person, r in inp.routes.items())
    fund = inp.fund
    terms = (fund.topup_ratio, fund.per_person_cap_cents, fund.available_cents, fund.admitted)
    text = "|".join(
        (
            _canonical((rule_version_id, inp.envelope_cents, inp.rules, terms)),
            repr(sorted(fund.cap_left.items())),
            repr(work),
            repr(routes),
            repr(sorted(inp.requests.items())),
            repr(inp.points),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def stored_lines(round_: Round) -> list[Line]:
    """The round's stored lines, with what posting them needs (explanations stay in their rows).

    Read as columns, not objects: a round may have ten thousand lines."""
    columns = [getattr(AllocationLine, name) for name in LINE_FIELDS]
    rows = db.session.execute(select(*columns).where(AllocationLine.round_id == round_.id).order_by(AllocationLine.person_id))
    return [Line(**dict(zip(LINE_FIELDS, row, strict=True))) for row in rows]


LINE_FIELDS = (
    "person_id",
    "hours",
    "weighted_hours",
    "claim_cents",
    "gross_cents",
    "levy_cents",
    "topup_cents",
    "net_cents",
    "route",
    "cae_id",
    "cae_contribution_cents",
    "salary_budget_cents",
)
