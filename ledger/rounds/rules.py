"""Reading and starting a commons' rules. Every change is a new RuleVersion row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.models import RuleVersion


def create_initial_rules(commons: Commons, author: Person, effective_from: date) -> RuleVersion:
    """Version 1: trust a priori (no vouch needed), the `time` method, a 5% solidarity levy."""
    rules = RuleVersion(
        commons_id=commons.id, version=1, author_id=author.id, effective_from=effective_from,
        reason="Initial rules: trust a priori, time-based retribution.",
        cadence="monthly", declaration_days=5, review_days=7, allocation_method="time",
        hourly_value_cents=1500, cap_cents=None, category_weights={}, min_vouches=0,
        objection_procedure="vote", quorum="0.5", levy_rate="0.05", hybrid_time_weight="0.5",
        weekly_hours_threshold=48,
    )
    db.session.add(rules)
    db.session.flush()
    return rules


def current_rules(commons_id: int, on: date | None = None) -> RuleVersion | None:
    """The version in force on ``on`` (default: the latest), i.e. the highest version effective by then."""
    query = select(RuleVersion).where(RuleVersion.commons_id == commons_id)
    if on is not None:
        query = query.where(RuleVersion.effective_from <= on)
    return db.session.scalar(query.order_by(RuleVersion.version.desc()).limit(1))
