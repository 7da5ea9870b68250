"""Reusing a round's stored preview at finalization when nothing it was computed from changed.

The fingerprint is a SHA-256 over everything the allocation reads, in a canonical order: the
pinned rule version and its settings, the envelope, the counted work (so the contributions and
their reviews), peer points and self requests, the payout routes, and the fund's terms with its
available balance and the caps left. Equal fingerprints mean ``allocate`` would return the
lines already stored, so finalization posts those instead of computing them again.

The review's part (the counted work and the points, a GROUP BY over the round's contributions)
is the one costly to gather again. Its digest is stored with the revision of the round's review
counters read before the preview gathered it; when finalization finds that revision again,
nothing the review reads changed, and the stored digest stands in for gathering it.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy import inspect, select

from ledger import revisions
from ledger.contributions.models import Contribution, Objection, Vouch
from ledger.extensions import db
from ledger.rounds.allocation import RoundInput
from ledger.rounds.allocation.model import Line
from ledger.rounds.models import AllocationLine, PeerPoints, Round

# One counter per round, bumped by every change of what its review reads: its contributions
# (one joining or leaving it too), their vouches and objections, its peer points. A statement
# run through the session on those tables, whose rows are not known, bumps the family's counter
# instead, which every round's revision includes.
REVIEW = "round-review"


def review_counter(round_id: int) -> str:
    return f"{REVIEW}:{round_id}"


def _rounds_changed(obj) -> list[str]:
    if isinstance(obj, Contribution):
        # its round now and, when it moved, the one it left (Contribution.round_id keeps active history)
        ids = {obj.round_id, *inspect(obj).attrs.round_id.history.deleted}
    elif isinstance(obj, (Vouch, Objection)):
        contribution = db.session.get(Contribution, obj.contribution_id)
        ids = {contribution.round_id if contribution is not None else None}
    elif isinstance(obj, PeerPoints):
        ids = {obj.round_id}
    else:
        return []
    return [review_counter(round_id) for round_id in ids if round_id is not None]


revisions.watch_each(
    REVIEW,
    _rounds_changed,
    tables=(Contribution.__tablename__, Vouch.__tablename__, Objection.__tablename__, PeerPoints.__tablename__),
)


def review_revision(round_id: int) -> str | None:
    """The revision of what the round's review reads, or None when this transaction changed it.
    Read before the review: a change committed after it moves the revision."""
    family, own = revisions.settled(REVIEW), revisions.settled(review_counter(round_id))
    return None if family is None or own is None else f"{family}:{own}"


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


# The long parts, one item per counted contribution or per person, are sorted flat tuples whose
# repr (written in C) is canonical enough: repr is exact, so two different inputs never share a
# text, and the same number written with another exponent would only cost a recompute. Walking
# them with _canonical took a second per fingerprint for 10,000 people.


def review_digest(inp: RoundInput) -> str:
    """The digest of the review's part of the input: the counted work and the peer points."""
    work = sorted((w.person_id, w.category, w.hours.normalize(), w.contribution_id) for w in inp.work)
    return hashlib.sha256(f"{work!r}|{inp.points!r}".encode()).hexdigest()


def fingerprint(rule_version_id: int, inp: RoundInput, review: str | None = None) -> str:
    """The fingerprint of the whole input; ``review`` is its review part's digest when known
    (``inp.work`` and ``inp.points`` are then not read)."""
    routes = sorted((person, r.route, r.cae_id, r.cae_code, r.cae_rate) for person, r in inp.routes.items())
    fund = inp.fund
    terms = (fund.topup_ratio, fund.per_person_cap_cents, fund.available_cents, fund.admitted)
    text = "|".join(
        (
            review or review_digest(inp),
            _canonical((rule_version_id, inp.envelope_cents, inp.rules, terms)),
            repr(sorted(fund.cap_left.items())),
            repr(routes),
            repr(sorted(inp.requests.items())),
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
