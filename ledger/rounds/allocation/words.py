"""Explanation steps in plain words, in the reader's language (Flask-Babel, English source)."""

from __future__ import annotations

import json

from flask_babel import gettext as _

from ledger.formatting import money, number
from ledger.rounds.allocation.model import Step

# Parameters holding decimal numbers (hours, weights, percentages) as text such as "57.5";
# amounts are whole cents (int); anything else (a category, a CAE's code) is shown as it is.
DECIMAL_PARAMS = ("hours", "weighted", "weight", "share", "time_share", "peer_share", "time_weight", "rate", "ratio")


def sentence(step: Step) -> str:
    """One step as a sentence; amounts and decimal numbers are formatted for the reader's language."""
    p = {
        key: (money(value) if isinstance(value, int) else number(value) if key in DECIMAL_PARAMS else value)
        for key, value in step.params.items()
    }
    k = step.key
    if k == "hours":
        return _("You declared %(hours)s hours of counted work in this round.", **p)
    if k == "weight":
        return _("%(category)s counts %(weight)s×: your %(hours)s hours there count as %(weighted)s.", **p)
    if k == "weighted_total":
        return _("In all, your work weighs %(weighted)s hours.", **p)
    if k == "no_hours":
        return _("No counted hours of yours in this round.")
    if k == "self_request":
        return _("You asked for %(requested)s.", **p)
    if k == "time_claim":
        return _("At %(rate)s per hour, %(weighted)s hours make %(amount)s.", **p)
    if k == "cap":
        return _("The rules cap what one person receives at %(cap)s, so your claim is %(claim)s.", **p)
    if k == "covered":
        return _(
            "The envelope (%(envelope)s) covered every claim (%(claims)s in all), so you receive your full claim: %(gross)s.", **p
        )
    if k == "shared":
        return _(
            "The claims added up to %(claims)s, more than the envelope of %(envelope)s: everyone receives the same "
            "share of their claim (%(share)s%%), so you receive %(gross)s.",
            **p,
        )
    if k == "peer":
        return _(
            "Members gave you %(share)s%% of all the points; the envelope of %(envelope)s is shared by points, "
            "so you receive %(gross)s.",
            **p,
        )
    if k == "hybrid":
        return _(
            "Your time share is %(time_share)s%% and your share of the points %(peer_share)s%%; with time counting "
            "for %(time_weight)s%%, your part of the envelope of %(envelope)s is %(weight)s%%, so you receive %(gross)s.",
            **p,
        )
    if k == "share_capped":
        return _("Your share was held at the cap of %(cap)s; the rest went to the others.", **p)
    if k == "levy":
        return _("The solidarity levy of %(rate)s%% takes %(levy)s for the solidarity fund, which leaves %(net)s.", **p)
    if k == "topup":
        return _(
            "The envelope fell %(shortfall)s short of your claim; the solidarity fund adds %(topup)s "
            "(it covers up to %(ratio)s%% of shortfalls, as far as it can).",
            **p,
        )
    if k == "no_topup":
        return _(
            "The envelope fell %(shortfall)s short of your claim, and the solidarity fund could not add anything this time.", **p
        )
    if k == "fund_not_admitted":
        return _(
            "The envelope fell %(shortfall)s short of your claim; this commons is not admitted to the solidarity "
            "fund (the fund manager decides), so the fund adds nothing.",
            **p,
        )
    if k == "no_topup_no_hours":
        return _(
            "The envelope fell %(shortfall)s short of your claim; the solidarity fund tops up validated work only, "
            "and you have no counted hours in this round, so it adds nothing.",
            **p,
        )
    if k == "fund_claim_bounded":
        return _(
            "The solidarity fund covers validated work only: %(hours)s counted hours at %(rate)s per hour, %(amount)s at most.",
            **p,
        )
    if k == "topup_period_cap":
        return _(
            "The solidarity fund gives one person at most %(cap)s per month across all commons; %(already)s was "
            "already granted to you this month, so it adds %(topup)s.",
            **p,
        )
    if k == "route_cae":
        return _(
            "%(paid)s goes to your CAE %(cae)s: it keeps %(rate)s%% for its shared services (%(contribution)s), "
            "and %(salary)s is your salary budget.",
            **p,
        )
    if k == "route_waive":
        return _("You chose to leave your %(net)s to the commons.", **p)
    if k == "route_fund":
        return _("You chose to give your %(net)s to the solidarity fund.", **p)
    if k == "route_invoice":
        return _("You invoice %(paid)s.", **p)
    raise ValueError(f"unknown explanation step {k!r}")


def to_json(steps: list[Step]) -> str:
    """Stored form of an explanation: its steps, so that each reader gets it in their language."""
    return json.dumps([{"key": s.key, "params": s.params} for s in steps], ensure_ascii=False)


def from_json(text: str) -> list[Step]:
    return [Step(item["key"], item["params"]) for item in json.loads(text or "[]")]


def render(steps: list[Step] | str) -> str:
    """The whole explanation as one paragraph."""
    if isinstance(steps, str):
        steps = from_json(steps)
    return " ".join(sentence(step) for step in steps)
