"""How a rule setting and its value read to people, on the rules page and on proposals: a label
for the setting, values in words (amounts, percentages, category names, cadences) instead of
the stored codes ("hourly_value_cents 1500", "{'care': '1.5'}", "monthly")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.contributions.categories import categories_of, label_of
from ledger.formatting import money, number, percent
from ledger.web.labels import METHOD_LABELS

FIELD_LABELS = {
    "cadence": _l("Round cadence"),
    "declaration_days": _l("Days to declare after the period"),
    "review_days": _l("Days of review"),
    "allocation_method": _l("Allocation method"),
    "hourly_value_cents": _l("Hourly value"),
    "cap_cents": _l("Cap per person and round"),
    "category_weights": _l("Category weights"),
    "min_vouches": _l("Vouches needed"),
    "objection_procedure": _l("How objections are decided"),
    "quorum": _l("Quorum"),
    "levy_rate": _l("Solidarity levy"),
    "hybrid_time_weight": _l("Time share of the hybrid method"),
    "weekly_hours_threshold": _l("Weekly hours threshold"),
    "decision_procedure": _l("How the rules are changed"),
    "majority": _l("Majority"),
    "decision_days": _l("Days to decide a proposal"),
    "late_periods": _l("Periods back a late declaration may reach"),
}
CADENCE_LABELS = {"monthly": _l("monthly"), "quarterly": _l("quarterly"), "manual": _l("opened by hand")}
OBJECTION_PROCEDURE_LABELS = {"vote": _l("by a vote of the members"), "mediation": _l("by a steward's mediation")}
RATES = ("levy_rate", "quorum", "majority", "hybrid_time_weight")


def category_names(commons_id: int) -> dict[str, str]:
    """Each category's code → the label a reader sees."""
    return {c.code: label_of(c) for c in categories_of(commons_id, active_only=False)}


def weights_text(weights: dict, names: dict[str, str], *, separator: str = "; ") -> str:
    """{"care": "1.5"} → "Soin = 1,5" (category labels, the reader's decimals)."""
    return separator.join(f"{names.get(code, code)} = {number(Decimal(str(w)), 4)}" for code, w in (weights or {}).items())


def setting_value(name: str, value, names: dict[str, str], procedures: dict | None = None) -> str:
    """A setting's value as a person reads it."""
    if value is None:
        return _("none")
    if name in ("hourly_value_cents", "cap_cents"):
        return money(value)
    if name in RATES:
        return percent(Decimal(str(value)))
    if name == "category_weights":
        return weights_text(value, names) or _("all 1")
    if name == "cadence":
        return str(CADENCE_LABELS.get(value, value))
    if name == "allocation_method":
        return str(METHOD_LABELS.get(value, value))
    if name == "objection_procedure":
        return str(OBJECTION_PROCEDURE_LABELS.get(value, value))
    if name == "decision_procedure" and procedures:
        return str(procedures.get(value, value))
    return str(value)


def setting_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


# One "name = number" pair; pairs are separated by ";", a newline, or a comma that is not a
# decimal comma ("Soin=1,5, Entretien=1,2" holds two pairs).
PAIR_RE = re.compile(r"\s*(?P<name>[^=;\n]+?)\s*=\s*(?P<value>[0-9]+(?:[.,][0-9]+)?)\s*(?:[;,\n]|\Z)")


def parse_weights(text: str, names: dict[str, str]) -> dict[str, Decimal]:
    """ "Soin=1,5; maintenance=1.2" → {"care": Decimal("1.5"), "maintenance": Decimal("1.2")}.

    A category is named by its code or by its label as the reader sees it, in any case; a name
    that is neither is kept as typed, and the rules' service refuses it naming the unknown
    category. ValueError when the text is not pairs of a name and
    a number between 0 and 10.
    """
    codes = {code.casefold(): code for code in names} | {label.casefold(): code for code, label in names.items()}
    weights: dict[str, Decimal] = {}
    position, text = 0, (text or "").strip()
    while position < len(text):
        found = PAIR_RE.match(text, position)
        if found is None:
            raise ValueError(text[position:])
        try:
            weight = Decimal(found["value"].replace(",", "."))
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
            raise ValueError(found["value"]) from exc
        if not 0 <= weight <= 10:
            raise ValueError(found["value"])
        name = found["name"].strip()
        weights[codes.get(name.casefold(), name)] = weight
        position = found.end()
    return weights
