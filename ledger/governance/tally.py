"""Counting a vote: pure functions over plain numbers, exact rationals throughout.

With colleges (SCIC), each college's share of yes votes is weighed by the college's weight, whatever
its size: a college of three weighs as much as a college of three hundred with the same weight. A
college where nobody voted has no share; the others' weights are renormalized among themselves,
so that an absent college neither approves nor refuses. Without colleges, the whole commons is
one college and this is one person, one vote.

The quorum is a share of eligible people (a head count): turnout, not weight, says whether the
collective took part.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class CollegeCount:
    """The ballots of one college: ``weight`` > 0, ``eligible`` people who may vote."""

    code: str
    weight: Fraction
    eligible: int
    yes: int
    no: int

    @property
    def cast(self) -> int:
        return self.yes + self.no

    @property
    def yes_share(self) -> Fraction | None:
        """The college's share of yes among its votes cast; None when nobody in it voted."""
        return Fraction(self.yes, self.cast) if self.cast else None


@dataclass(frozen=True)
class CollegeResult:
    code: str
    weight: Fraction
    eligible: int
    cast: int
    yes: int
    yes_share: Fraction | None
    # The college's part of the overall result: its normalized weight among voting colleges.
    effective_weight: Fraction


@dataclass(frozen=True)
class VoteResult:
    colleges: tuple[CollegeResult, ...]
    eligible: int
    cast: int
    turnout: Fraction  # cast / eligible (0 when nobody is eligible)
    yes_share: Fraction | None  # weighted; None when nobody voted
    quorum_met: bool
    adopted: bool


def weighted_yes_share(colleges: list[CollegeCount]) -> Fraction | None:
    """Σ weight × yes share over the colleges that voted, divided by the sum of their weights."""
    voting = [c for c in colleges if c.cast]
    total = sum((c.weight for c in voting), Fraction(0))
    if not voting or total == 0:
        return None
    return sum((c.weight * c.yes_share for c in voting), Fraction(0)) / total


def count(colleges: list[CollegeCount], *, quorum: Fraction, majority: Fraction) -> VoteResult:
    """The result of a vote: adopted when turnout reaches ``quorum`` and the weighted yes share
    is strictly above ``majority`` (a tie at one half does not adopt)."""
    eligible = sum(c.eligible for c in colleges)
    cast = sum(c.cast for c in colleges)
    share = weighted_yes_share(colleges)
    voting_weight = sum((c.weight for c in colleges if c.cast), Fraction(0))
    results = tuple(
        CollegeResult(
            code=c.code,
            weight=c.weight,
            eligible=c.eligible,
            cast=c.cast,
            yes=c.yes,
            yes_share=c.yes_share,
            effective_weight=(c.weight / voting_weight) if c.cast and voting_weight else Fraction(0),
        )
        for c in colleges
    )
    turnout = Fraction(cast, eligible) if eligible else Fraction(0)
    quorum_met = eligible > 0 and cast > 0 and turnout >= quorum
    return VoteResult(
        colleges=results,
        eligible=eligible,
        cast=cast,
        turnout=turnout,
        yes_share=share,
        quorum_met=quorum_met,
        adopted=quorum_met and share is not None and share > majority,
    )


def percent(value: Fraction | None) -> str:
    """A share as a percentage with one decimal ("66.7"), for display only: the decision uses the Fraction."""
    if value is None:
        return "—"
    tenths = round(value * 1000)
    return f"{tenths // 10}.{tenths % 10}"
