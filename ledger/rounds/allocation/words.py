"""Explanation steps in plain words, in the reader's language (Flask-Babel, English source) and
person: a person reads their own line as "you", anyone else's with that person's name.

Steps are stored as their key and numbers (``to_json``), never as text, and put into words here
each time they are shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask_babel import gettext as _

from ledger.formatting import money, number
from ledger.rounds.allocation.model import Step

# Parameters holding decimal numbers (hours, weights, percentages) as text such as "57.5";
# amounts are whole cents (int); anything else (a category, a CAE's code) is shown as it is.
DECIMAL_PARAMS = ("hours", "weighted", "weight", "share", "time_share", "peer_share", "time_weight", "rate", "ratio")

Words = Callable[[dict], str]


def both(words: Words) -> tuple[Words, Words]:
    """A step that reads the same whoever reads it (it does not speak of the person)."""
    return words, words


# Each step: (the line's own person reading it, someone else reading it, with %(name)s).
SENTENCES: dict[str, tuple[Words, Words]] = {
    "hours": (
        lambda p: _("You declared %(hours)s hours of counted work in this round.", **p),
        lambda p: _("%(name)s declared %(hours)s hours of counted work in this round.", **p),
    ),
    "weight": (
        lambda p: _("%(category)s counts %(weight)s×: your %(hours)s hours there count as %(weighted)s.", **p),
        lambda p: _("%(category)s counts %(weight)s×: the %(hours)s hours of %(name)s there count as %(weighted)s.", **p),
    ),
    "weighted_total": (
        lambda p: _("In all, your work weighs %(weighted)s hours.", **p),
        lambda p: _("In all, the work of %(name)s weighs %(weighted)s hours.", **p),
    ),
    "no_hours": (
        lambda p: _("No counted hours of yours in this round."),
        lambda p: _("No counted hours of %(name)s in this round.", **p),
    ),
    "self_request": (
        lambda p: _("You asked for %(requested)s.", **p),
        lambda p: _("%(name)s asked for %(requested)s.", **p),
    ),
    "time_claim": both(lambda p: _("At %(rate)s per hour, %(weighted)s hours make %(amount)s.", **p)),
    "cap": (
        lambda p: _("The rules cap what one person receives at %(cap)s, so your claim is %(claim)s.", **p),
        lambda p: _("The rules cap what one person receives at %(cap)s, so the claim of %(name)s is %(claim)s.", **p),
    ),
    "covered": (
        lambda p: _(
            "The envelope (%(envelope)s) covered every claim (%(claims)s in all), so you receive your full claim: %(gross)s.",
            **p,
        ),
        lambda p: _(
            "The envelope (%(envelope)s) covered every claim (%(claims)s in all), so %(name)s receives their full claim: "
            "%(gross)s.",
            **p,
        ),
    ),
    "shared": (
        lambda p: _(
            "The claims added up to %(claims)s, more than the envelope of %(envelope)s: everyone receives the same "
            "share of their claim (%(share)s%%), so you receive %(gross)s.",
            **p,
        ),
        lambda p: _(
            "The claims added up to %(claims)s, more than the envelope of %(envelope)s: everyone receives the same "
            "share of their claim (%(share)s%%), so %(name)s receives %(gross)s.",
            **p,
        ),
    ),
    "peer": (
        lambda p: _(
            "Members gave you %(share)s%% of all the points; the envelope of %(envelope)s is shared by points, "
            "so you receive %(gross)s.",
            **p,
        ),
        lambda p: _(
            "Members gave %(name)s %(share)s%% of all the points; the envelope of %(envelope)s is shared by points, "
            "so %(name)s receives %(gross)s.",
            **p,
        ),
    ),
    "hybrid": (
        lambda p: _(
            "Your time share is %(time_share)s%% and your share of the points %(peer_share)s%%; with time counting "
            "for %(time_weight)s%%, your part of the envelope of %(envelope)s is %(weight)s%%, so you receive %(gross)s.",
            **p,
        ),
        lambda p: _(
            "The time share of %(name)s is %(time_share)s%% and their share of the points %(peer_share)s%%; with time "
            "counting for %(time_weight)s%%, their part of the envelope of %(envelope)s is %(weight)s%%, so %(name)s "
            "receives %(gross)s.",
            **p,
        ),
    ),
    "share_capped": (
        lambda p: _("Your share was held at the cap of %(cap)s; the rest went to the others.", **p),
        lambda p: _("The share of %(name)s was held at the cap of %(cap)s; the rest went to the others.", **p),
    ),
    "levy": both(
        lambda p: _("The solidarity levy of %(rate)s%% takes %(levy)s for the solidarity fund, which leaves %(net)s.", **p)
    ),
    # The top-up, each sentence naming the limit that decided it: the fund's share of a
    # shortfall, its means for this round, or its cap per person and month.
    "topup_ratio": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim; the solidarity fund covers %(ratio)s%% of a "
            "shortfall, so it adds %(topup)s.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s; the solidarity fund covers %(ratio)s%% "
            "of a shortfall, so it adds %(topup)s.",
            **p,
        ),
    ),
    "topup_means": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim. The solidarity fund covers %(ratio)s%% of a "
            "shortfall, %(requested)s for this round, but it had only %(available)s available: shared by shortfall, "
            "it adds %(topup)s.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s. The solidarity fund covers %(ratio)s%% "
            "of a shortfall, %(requested)s for this round, but it had only %(available)s available: shared by "
            "shortfall, it adds %(topup)s.",
            **p,
        ),
    ),
    "topup_capped": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim. The solidarity fund gives one person at most "
            "%(cap)s a month across all commons and had already granted you %(already)s this month: that cap holds "
            "the top-up at %(topup)s.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s. The solidarity fund gives one person at "
            "most %(cap)s a month across all commons and had already granted %(name)s %(already)s this month: that "
            "cap holds the top-up at %(topup)s.",
            **p,
        ),
    ),
    "topup_cap": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim. The solidarity fund gives one person at most "
            "%(cap)s a month across all commons: that cap holds the top-up at %(topup)s.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s. The solidarity fund gives one person at "
            "most %(cap)s a month across all commons: that cap holds the top-up at %(topup)s.",
            **p,
        ),
    ),
    "no_topup": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim, and the solidarity fund could not add anything this time.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s, and the solidarity fund could not add "
            "anything this time.",
            **p,
        ),
    ),
    "fund_not_admitted": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim; this commons is not admitted to the solidarity "
            "fund (the fund manager decides), so the fund adds nothing.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s; this commons is not admitted to the "
            "solidarity fund (the fund manager decides), so the fund adds nothing.",
            **p,
        ),
    ),
    "no_topup_no_hours": (
        lambda p: _(
            "The envelope fell %(shortfall)s short of your claim; the solidarity fund tops up validated work only, "
            "and you have no counted hours in this round, so it adds nothing.",
            **p,
        ),
        lambda p: _(
            "The envelope fell %(shortfall)s short of the claim of %(name)s; the solidarity fund tops up validated "
            "work only, and %(name)s has no counted hours in this round, so it adds nothing.",
            **p,
        ),
    ),
    "fund_claim_bounded": both(
        lambda p: _(
            "The solidarity fund covers validated work only: %(hours)s counted hours at %(rate)s per hour, %(amount)s at most.",
            **p,
        )
    ),
    "route_cae": (
        lambda p: _(
            "%(paid)s goes to your CAE %(cae)s: it keeps %(rate)s%% for its shared services (%(contribution)s), "
            "and %(salary)s is your salary budget.",
            **p,
        ),
        lambda p: _(
            "%(paid)s goes to the CAE %(cae)s of %(name)s: it keeps %(rate)s%% for its shared services "
            "(%(contribution)s), and %(salary)s is the salary budget of %(name)s.",
            **p,
        ),
    ),
    "route_waive": (
        lambda p: _("You chose to leave your %(net)s to the commons.", **p),
        lambda p: _("%(name)s chose to leave their %(net)s to the commons.", **p),
    ),
    "route_fund": (
        lambda p: _("You chose to give your %(net)s to the solidarity fund.", **p),
        lambda p: _("%(name)s chose to give their %(net)s to the solidarity fund.", **p),
    ),
    "route_invoice": (
        lambda p: _("You invoice %(paid)s.", **p),
        lambda p: _("%(name)s invoices %(paid)s.", **p),
    ),
}

# Steps of explanations stored before the top-up named its binding limit: still shown as written then.
SENTENCES["topup"] = (
    lambda p: _(
        "The envelope fell %(shortfall)s short of your claim; the solidarity fund adds %(topup)s "
        "(it covers up to %(ratio)s%% of shortfalls, as far as it can).",
        **p,
    ),
    lambda p: _(
        "The envelope fell %(shortfall)s short of the claim of %(name)s; the solidarity fund adds %(topup)s "
        "(it covers up to %(ratio)s%% of shortfalls, as far as it can).",
        **p,
    ),
)
SENTENCES["topup_period_cap"] = (
    lambda p: _(
        "The solidarity fund gives one person at most %(cap)s per month across all commons; %(already)s was "
        "already granted to you this month, so it adds %(topup)s.",
        **p,
    ),
    lambda p: _(
        "The solidarity fund gives one person at most %(cap)s per month across all commons; %(already)s was "
        "already granted to %(name)s this month, so it adds %(topup)s.",
        **p,
    ),
)


def sentence(step: Step, name: str | None = None) -> str:
    """One step as a sentence, amounts and decimal numbers formatted for the reader's language;
    in the second person, or about ``name`` when the reader is someone else."""
    p = {
        key: (money(value) if isinstance(value, int) else number(value) if key in DECIMAL_PARAMS else value)
        for key, value in step.params.items()
    }
    try:
        own, other = SENTENCES[step.key]
    except KeyError:
        raise ValueError(f"unknown explanation step {step.key!r}") from None
    return own(p) if name is None else other(p | {"name": name})


# Built once (json.dumps builds a new encoder per call when given options): a round stores 10,000.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def to_json(steps: list[Step]) -> str:
    """Stored form of an explanation: ``[[key, {params}], …]``, compact (no spaces), so that each
    reader gets it in their language and person."""
    return _COMPACT.encode([[s.key, s.params] for s in steps])


def from_json(text: str) -> list[Step]:
    """Steps from ``to_json``, or from the ``{"key", "params"}`` objects stored before it."""
    return [Step(*item) if isinstance(item, list) else Step(item["key"], item["params"]) for item in json.loads(text or "[]")]


def render(steps: list[Step] | str, name: str | None = None) -> str:
    """The whole explanation as one paragraph, for its own person (``name`` None) or about ``name``."""
    if isinstance(steps, str):
        steps = from_json(steps)
    return " ".join(sentence(step, name) for step in steps)
