"""Round lifecycle: open → review → allocated → finalized → paid."""

from __future__ import annotations


def tick() -> dict:
    """Advance every round whose dates have passed. Rounds arrive with the rounds issue."""
    return {"advanced": []}
