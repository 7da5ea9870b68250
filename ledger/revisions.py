"""Revision counters: a number that grows, in the same transaction, whenever what it names changes.

A cache keyed by a counter's value is right in every process as soon as the change commits, and
reading the counter is one indexed row. ``watch`` registers which flushed ORM objects change a
counter (the module that owns a cache says what it depends on); ``bump`` is for writers that go
around the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from ledger.extensions import db


class RevisionCounter(db.Model):
    __tablename__ = "revision_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# counter name → predicate on a flushed object (new, changed or deleted) that changes it
_WATCHED: dict[str, Callable[[object], bool]] = {}
# counter name → tables whose UPDATE or DELETE statements (run through the session) change it
_TABLES: dict[str, frozenset[str]] = {}


def bump(name: str) -> None:
    """Add one to the counter ``name`` (created at 1) in the current transaction: for writers
    that go around the ORM (watched ORM changes bump their counters at commit)."""
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = RevisionCounter.__table__
    statement = dialect.insert(table).values(name=name, value=1)
    connection.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"value": table.c.value + 1}))


def current_query(name: str):
    """The counter's value as a scalar subquery (NULL before its first change), to read it in
    the same statement as what a cache holds."""
    return select(RevisionCounter.value).where(RevisionCounter.name == name).scalar_subquery()


@cache
def _current(name: str):
    return select(RevisionCounter.value).where(RevisionCounter.name == name)


def current(name: str) -> int:
    """The counter's value as this transaction sees it (0 before its first change). Through the
    session's connection: it runs before every API request, and the ORM's execution path would
    cost more than the whole lookup."""
    return db.session.connection().execute(_current(name)).scalar() or 0


def watch(name: str, changes: Callable[[object], bool], tables: tuple[str, ...] = ()) -> None:
    """Bump ``name`` when a transaction commits after flushing an object (new, changed or
    deleted) for which ``changes(obj)`` is true, or after an UPDATE or DELETE statement on one of
    ``tables`` run through the session (a bulk revocation)."""
    _WATCHED[name] = changes
    _TABLES[name] = frozenset(tables)


PENDING = "revisions.pending"


def _note(session, touched) -> None:
    names = {name for name, changes in _WATCHED.items() if any(changes(obj) for obj in touched)}
    if names:
        session.info.setdefault(PENDING, set()).update(names)


def written(obj: object) -> None:
    """For an object inserted around the unit of work (one Core INSERT on a hot path): the
    counters its flush would have bumped are bumped at this transaction's commit all the same."""
    _note(db.session(), [obj])


def _before_flush(session, _context, _instances) -> None:
    if _WATCHED:
        _note(session, [*session.new, *session.dirty, *session.deleted])


def _on_execute(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    names = {name for name, tables in _TABLES.items() if getattr(table, "name", None) in tables}
    if names:
        state.session.info.setdefault(PENDING, set()).update(names)


def _before_commit(session) -> None:
    # Bumped at the commit point rather than at the flush: on PostgreSQL the counter's row stays
    # locked from its update to the commit, and a long transaction (a round's finalization) must
    # not hold up every other writer of the same counter.
    session.flush()
    for name in sorted(session.info.pop(PENDING, ())):
        bump(name)


def _forget(session) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    """Bump the watched counters of every session that flushed a change they depend on."""
    from flask_sqlalchemy.session import Session

    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)
