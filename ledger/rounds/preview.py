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
    work = sorted((w.person_id, w.category, w.hours.normalize(), w.contribution_id) for w in inp.work)
    text = _canonical((rule_version_id, inp.envelope_cents, inp.rules, inp.fund, work, inp.routes, inp.requests, inp.points))
    return hashlib.sha256(text.encode()).hexdigest()


def stored_lines(round_: Round) -> list[Line]:
    """The round's stored lines, with what posting them needs (explanations stay in their rows)."""
    rows = db.session.scalars(
        select(AllocationLine).where(AllocationLine.round_id == round_.id).order_by(AllocationLine.person_id)
    )
    return [
        Line(
            person_id=r.person_id,
            hours=r.hours,
            weighted_hours=r.weighted_hours,
            claim_cents=r.claim_cents,
            gross_cents=r.gross_cents,
            levy_cents=r.levy_cents,
            topup_cents=r.topup_cents,
            net_cents=r.net_cents,
            route=r.route,
            cae_id=r.cae_id,
            cae_contribution_cents=r.cae_contribution_cents,
            salary_budget_cents=r.salary_budget_cents,
        )
        for r in rows
    ]
