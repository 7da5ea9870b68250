"""Reading and starting a commons' rules. Every change is a new RuleVersion row."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ledger.commons.models import Commons
from ledger.contributions.models import Category
from ledger.errors import N_, ValidationFailed, field_error
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.models import RuleVersion
from ledger.versions import in_force


def create_initial_rules(commons: Commons, author: Person, effective_from: date) -> RuleVersion:
    """Version 1: trust a priori (no vouch needed), the `time` method, a 5% solidarity levy."""
    rules = RuleVersion(
        commons_id=commons.id,
        version=1,
        author_id=author.id,
        effective_from=effective_from,
        reason=N_("Initial rules: trust a priori, time-based retribution."),  # shown translated ("recorded")
        cadence="monthly",
        declaration_days=5,
        review_days=7,
        allocation_method="time",
        hourly_value_cents=1500,
        cap_cents=None,
        category_weights={},
        min_vouches=0,
        objection_procedure="vote",
        quorum="0.5",
        levy_rate="0.05",
        hybrid_time_weight="0.5",
        weekly_hours_threshold=48,
        late_periods=1,
    )
    db.session.add(rules)
    db.session.flush()
    return rules


def rules_in_force(commons_id: int, on: date | None = None) -> RuleVersion | None:
    """The commons' version in force on ``on`` (default: today); see ``ledger.versions``."""
    return in_force(RuleVersion, RuleVersion.commons_id == commons_id, on=on)


def latest_rules(commons_id: int) -> RuleVersion | None:
    """The newest version, scheduled or not: the one a new version follows."""
    return db.session.scalar(
        select(RuleVersion).where(RuleVersion.commons_id == commons_id).order_by(RuleVersion.version.desc()).limit(1)
    )


def check_category_weights(commons: Commons, weights: dict | None) -> None:
    """Weights must name the commons' categories: a typo would silently weigh nothing."""
    if not weights:
        return
    known = set(db.session.scalars(select(Category.code).where(Category.commons_id == commons.id)))
    unknown = sorted(set(weights) - known)
    if unknown:
        raise ValidationFailed(
            _("category_weights: unknown categories: %(names)s", names=", ".join(unknown)),
            fields={f"category_weights.{code}": [_("no category '%(code)s' in this commons", code=code)] for code in unknown},
        )


# The fields of a version that a steward sets; everything else (version, author, dates) is derived.
RULE_FIELDS = (
    "cadence",
    "declaration_days",
    "review_days",
    "allocation_method",
    "hourly_value_cents",
    "cap_cents",
    "category_weights",
    "min_vouches",
    "objection_procedure",
    "quorum",
    "levy_rate",
    "hybrid_time_weight",
    "weekly_hours_threshold",
    "decision_procedure",
    "majority",
    "decision_days",
    "late_periods",
)


def rules_history(commons_id: int) -> list[RuleVersion]:
    """Every version, oldest first: the full public history."""
    return list(db.session.scalars(select(RuleVersion).where(RuleVersion.commons_id == commons_id).order_by(RuleVersion.version)))


# How many periods back work may still be declared late: beyond a year the review is no review.
MAX_LATE_PERIODS = 12


def stored_settings(values: dict) -> dict:
    """``values`` as a version stores them: rates and weights as decimal strings; unknown names dropped.

    Refused (for a steward's version and a member's proposal alike): a late window outside
    0 to ``MAX_LATE_PERIODS`` periods.
    """
    late = values.get("late_periods")
    if late is not None and not 0 <= late <= MAX_LATE_PERIODS:
        raise field_error("late_periods", _("must be between 0 and %(n)s periods", n=MAX_LATE_PERIODS))
    stored = {}
    for name, value in values.items():
        if name not in RULE_FIELDS:
            continue
        if name == "category_weights":
            value = {code: str(weight) for code, weight in sorted((value or {}).items())}
        elif name in ("levy_rate", "quorum", "hybrid_time_weight", "majority"):
            value = str(value)
        stored[name] = value
    return stored


def propose_rules(commons: Commons, author: Person, reason: str, effective_from: date, values: dict) -> RuleVersion:
    """A new version n+1: the previous version's values overridden by ``values`` (already validated).

    Weights and rates are stored as decimal strings so that no float ever comes near them.
    Refused: weights naming no category of the commons, and a date before the latest version's
    (history is never rewritten: a version cannot slip in under one already published).
    """
    check_category_weights(commons, values.get("category_weights"))
    previous = latest_rules(commons.id)
    if previous is not None and effective_from < previous.effective_from:
        raise field_error(
            "effective_from",
            _("cannot be before the latest version's date (%(date)s)", date=previous.effective_from.isoformat()),
        )
    settings = {name: getattr(previous, name) for name in RULE_FIELDS} if previous else {}
    settings.update(stored_settings(values))
    rules = RuleVersion(
        commons_id=commons.id,
        version=(previous.version + 1) if previous else 1,
        author_id=author.id,
        reason=reason.strip(),
        effective_from=effective_from,
        **settings,
    )
    db.session.add(rules)
    db.session.flush()
    return rules


def rules_changes(old: RuleVersion | None, new: RuleVersion) -> list[tuple[str, object, object]]:
    """What changed from ``old`` to ``new``: (field, before, after) for each field that differs."""
    if old is None:
        return []
    return [(name, getattr(old, name), getattr(new, name)) for name in RULE_FIELDS if getattr(old, name) != getattr(new, name)]


def allocation_rules(version):
    """The pure allocation's view of a rule version (or of any object with the same attributes)."""
    from decimal import Decimal

    from ledger.rounds.allocation import Rules

    return Rules(
        method=version.allocation_method,
        hourly_value_cents=version.hourly_value_cents,
        cap_cents=version.cap_cents,
        levy_rate=Decimal(version.levy_rate),
        hybrid_time_weight=Decimal(version.hybrid_time_weight),
        category_weights={code: Decimal(weight) for code, weight in (version.category_weights or {}).items()},
    )
