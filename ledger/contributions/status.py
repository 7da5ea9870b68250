"""The status a person sees for a contribution, derived from what is stored (never stored itself)."""

from __future__ import annotations

from collections.abc import Iterable

# In the order people meet them; templates and the API use these codes.
DISPLAY_STATUSES = ("declared", "under_objection", "carried_over", "counted", "paid", "rejected", "withdrawn")


def display_status(
    *, stored: str, round_state: str | None, objection_states: Iterable[str], carried_from_round_id: int | None
) -> str:
    """One word for where a contribution stands.

    Withdrawal and rejection are final; an open objection outranks everything that depends on
    the round; work carried over stays "carried over" until its new round counts it.
    """
    states = set(objection_states)
    if stored == "withdrawn":
        return "withdrawn"
    if stored == "rejected" or "upheld" in states:
        return "rejected"
    if "open" in states:
        return "under_objection"
    if round_state == "paid":
        return "paid"
    if round_state in ("allocated", "finalized") and stored == "declared":
        return "counted"
    if stored == "carried_over" or carried_from_round_id is not None:
        return "carried_over"
    return "declared"
