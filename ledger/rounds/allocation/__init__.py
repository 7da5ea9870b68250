"""The allocation of a round: pure functions over plain data (SPEC 3.1).

``allocate(RoundInput) -> Allocation``. The four methods (``shares``) only decide claims and gross
amounts; the levy, the solidarity top-up and the payout routing (``pipeline``) are common to all,
and ``explain`` records the numbers of each person's computation for ``words`` to put in words.
"""

from ledger.rounds.allocation.model import Allocation, FundTerms, Line, RoundInput, Route, Rules, Step, Work
from ledger.rounds.allocation.pipeline import allocate

__all__ = ["Allocation", "FundTerms", "Line", "RoundInput", "Route", "Rules", "Step", "Work", "allocate"]
