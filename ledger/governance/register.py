"""The public decision register: one entry per decided thing, with its follow-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledger.commons.models import Commons
from ledger.commons.service import require_role
from ledger.errors import field_error
from ledger.extensions import db
from ledger.governance.models import Decision, DecisionKind, FollowUp
from ledger.people.models import Person
from ledger.timeutil import utcnow

# Decisions that call for action start « à faire »; the others need no follow-up.
DEFAULT_FOLLOW_UP = {DecisionKind.RULE_ADOPTED: FollowUp.TODO}


def record(
    commons_id: int,
    ref: str,
    kind: DecisionKind,
    *,
    subject: str,
    procedure: str,
    result: str,
    eligible: int | None = None,
    cast: int | None = None,
    early_reason: str | None = None,
) -> Decision:
    """Add the entry for ``ref`` once: recording the same decision again returns the first entry."""
    existing = db.session.scalar(select(Decision).where(Decision.ref == ref))
    if existing is not None:
        return existing
    entry = Decision(
        commons_id=commons_id,
        ref=ref,
        kind=kind,
        subject=subject,
        procedure=procedure,
        result=result,
        eligible=eligible,
        cast=cast,
        early_reason=early_reason,
        follow_up=DEFAULT_FOLLOW_UP.get(kind, FollowUp.NONE),
        decided_at=utcnow(),
    )
    try:
        with db.session.begin_nested():  # a concurrent writer may record it first
            db.session.add(entry)
    except IntegrityError:
        return db.session.scalar(select(Decision).where(Decision.ref == ref))
    return entry


def record_round(round_, early_reason: str | None = None) -> Decision:
    """A finalized round: who got what is in the round; the register says it was decided, and how."""
    return record(
        round_.commons_id,
        f"round:{round_.id}",
        DecisionKind.ROUND_FINALIZED,
        subject=f"{round_.period_start.isoformat()} – {round_.period_end.isoformat()}",
        procedure="steward",
        result="finalized",
        early_reason=early_reason,
    )


def record_objection(objection, *, procedure: str, eligible: int | None, cast: int | None) -> Decision:
    return record(
        objection.contribution.commons_id,
        f"objection:{objection.id}",
        DecisionKind.OBJECTION_SETTLED,
        subject=objection.contribution.description[:200],
        procedure=procedure,
        result=objection.state,
        eligible=eligible,
        cast=cast,
    )


def register_of(commons_id: int) -> list[Decision]:
    """Newest first: the register is read from the latest decision."""
    return list(
        db.session.scalars(
            select(Decision).where(Decision.commons_id == commons_id).order_by(Decision.decided_at.desc(), Decision.id.desc())
        )
    )


def get_decision(commons: Commons, decision_id: int) -> Decision:
    from ledger.errors import NotFound

    entry = db.session.get(Decision, decision_id)
    if entry is None or entry.commons_id != commons.id:
        raise NotFound(_l("No decision %(decision_id)s in %(commons)s.", decision_id=decision_id, commons=commons.name))
    return entry


def set_follow_up(commons: Commons, entry: Decision, person: Person, status: str, note: str | None) -> Decision:
    """A steward says where the follow-up stands; abandoning needs its reason (« abandonné, parce que… »)."""
    require_role(commons, person, "steward")
    if status not in {f.value for f in FollowUp}:
        raise field_error("follow_up", _l("must be one of %(choices)s", choices=", ".join(f.value for f in FollowUp)))
    note = (note or "").strip() or None
    if status == FollowUp.ABANDONED and not note:
        raise field_error("note", _l("say why the follow-up is abandoned"))
    entry.follow_up, entry.follow_up_note, entry.follow_up_at = status, note, utcnow()
    db.session.flush()
    return entry
