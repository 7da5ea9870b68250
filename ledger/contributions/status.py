"""The status a person sees for a contribution, derived from what is stored (never stored itself)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ledger.contributions.models import ContributionStatus, ObjectionState
from ledger.rounds.models import RoundState


class DisplayStatus(StrEnum):
    """In the order people meet them; templates and the API use these codes."""

    DECLARED = "declared"
    UNDER_OBJECTION = "under_objection"
    CARRIED_OVER = "carried_over"
    COUNTED = "counted"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


DISPLAY_STATUSES = tuple(DisplayStatus)


def display_status(
    *, stored: str, round_state: str | None, objection_states: Iterable[str], carried_from_round_id: int | None
) -> str:
    """One word for where a contribution stands.

    Withdrawal and rejection are final; an open objection outranks everything that depends on
    the round; work carried over stays "carried over" until its new round counts it.
    """
    states = set(objection_states)
    if stored == ContributionStatus.WITHDRAWN:
        return DisplayStatus.WITHDRAWN
    if stored == ContributionStatus.REJECTED or ObjectionState.UPHELD in states:
        return DisplayStatus.REJECTED
    if ObjectionState.OPEN in states:
        return DisplayStatus.UNDER_OBJECTION
    if round_state == RoundState.PAID:
        return DisplayStatus.PAID
    if round_state in (RoundState.ALLOCATED, RoundState.FINALIZED) and stored == ContributionStatus.DECLARED:
        return DisplayStatus.COUNTED
    if stored == ContributionStatus.CARRIED_OVER or carried_from_round_id is not None:
        return DisplayStatus.CARRIED_OVER
    return DisplayStatus.DECLARED
