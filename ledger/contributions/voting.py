"""Deciding an objection by vote: one person, one vote, a quorum from the rules."""

from __future__ import annotations

from decimal import Decimal

from ledger.contributions.models import ObjectionState


def decide(*, keep: int, reject: int, eligible: int, quorum: Decimal) -> str | None:
    """The objection's new state once enough people voted, else None (still open).

    Votes cast must reach ``quorum`` × ``eligible``. A majority to reject upholds the objection;
    a majority to keep, or a tie, dismisses it: trust a priori, the declaration stands.
    """
    cast = keep + reject
    if eligible <= 0 or cast == 0 or Decimal(cast) < quorum * eligible:
        return None
    return ObjectionState.UPHELD if reject > keep else ObjectionState.DISMISSED
