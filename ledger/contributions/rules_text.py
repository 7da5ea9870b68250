"""A commons' rules in force, said in plain words for the people who declare their work."""

from __future__ import annotations

from flask_babel import gettext as _

from ledger.contributions.categories import label_of
from ledger.contributions.models import Category
from ledger.formatting import money, percent
from ledger.rounds.models import RuleVersion


def _method(rules: RuleVersion) -> str:
    hourly = money(rules.hourly_value_cents)
    if rules.allocation_method == "time":
        return _(
            "Retribution follows time: each counted hour is worth %(hourly)s, weighted by category. "
            "If the round's envelope cannot pay every claim, it is shared in proportion to the claims.",
            hourly=hourly,
        )
    if rules.allocation_method == "self":
        return _(
            "Each person states the amount they ask for, seen by all; requests are paid in full if the envelope allows, otherwise in proportion."
        )
    if rules.allocation_method == "peer":
        return _(
            "Each member shares 100 points among the others' contributions; the envelope is split in proportion to the points received."
        )
    return _(
        "Retribution mixes time (%(share)s of the envelope, at %(hourly)s per hour) and points shared by the members.",
        share=percent(rules.hybrid_time_weight),
        hourly=hourly,
    )


def _cadence(rules: RuleVersion) -> str:
    if rules.cadence == "manual":
        return _("Rounds are opened and closed by a steward.")
    period = _("month") if rules.cadence == "monthly" else _("quarter")
    return _(
        "One round per %(period)s. After the period ends you have %(declaration)s more days to declare, "
        "then members have %(review)s days to review before the allocation is computed.",
        period=period,
        declaration=rules.declaration_days,
        review=rules.review_days,
    )


def _review(rules: RuleVersion) -> str:
    if rules.min_vouches:
        trust = _("A contribution counts once %(n)s other members vouched for it.", n=rules.min_vouches)
    else:
        trust = _("Trust a priori: your contribution counts as declared unless someone objects.")
    if rules.objection_procedure == "vote":
        procedure = _(
            "An objection needs a written reason; you can answer it or amend your hours. "
            "It is then decided by a vote of the members (one person, one vote; quorum %(quorum)s); a tie keeps your contribution.",
            quorum=percent(rules.quorum),
        )
    else:
        procedure = _(
            "An objection needs a written reason; you can answer it or amend your hours. A steward then mediates and decides."
        )
    return f"{trust} {procedure}"


def summary(rules: RuleVersion | None, categories: list[Category]) -> list[str]:
    """Sentences describing ``rules``, from the version and its reason to the weekly care threshold."""
    if rules is None:
        return [_("This commons has no rules yet: ask a steward.")]
    lines = [
        _(
            "Rules version %(version)s, in force since %(date)s (%(reason)s).",
            version=rules.version,
            date=rules.effective_from.isoformat(),
            reason=rules.reason.rstrip("."),
        ),
        _method(rules),
        _cadence(rules),
        _review(rules),
        _(
            "A solidarity levy of %(rate)s of each retribution feeds the solidarity fund shared by all commons.",
            rate=percent(rules.levy_rate),
        ),
    ]
    if rules.cap_cents is not None:
        lines.append(_("No one receives more than %(cap)s in one round.", cap=money(rules.cap_cents)))
    weights = rules.category_weights or {}
    counted = [f"{label_of(c)} ×{weights.get(c.code, '1')}" for c in categories]
    lines.append(
        _(
            "What counts: every kind of work for the commons, including what usually goes unseen. Categories and weights: %(list)s.",
            list=", ".join(counted),
        )
    )
    lines.append(
        _(
            "Above %(n)s hours in one week, we will gently point it out: it never blocks a declaration.",
            n=rules.weekly_hours_threshold,
        )
    )
    lines.append(
        _(
            "Late work is accepted up to %(n)s period(s) back; nothing dated before the commons started.",
            n=rules.late_periods,
        )
    )
    return lines


def legitimacy() -> str:
    return _(
        "Claiming what is due to you is legitimate. Declaring your time, including care, upkeep and welcoming "
        "newcomers, is how the collective sees and shares the work: trust a priori, review a posteriori."
    )
