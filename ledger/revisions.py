"""Revision counters: a number that grows, in the same transaction, whenever what it names changes.

A cache keyed by a counter's value is right in every process as soon as the change commits, and
reading the counter is one indexed row. ``watch`` registers which flushed ORM objects change a
counter, ``watch_each`` which counters of a family (one per round) a flushed object changes; the
module that owns a cache says what it depends on. ``bump`` and ``bump_at_commit`` are for writers
that go around the ORM; a statement whose writer names its counters itself carries ``COUNTED``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from flask import current_app
from sqlalchemy import BigInteger, String, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column

from ledger.extensions import db


class RevisionCounter(db.Model):
    __tablename__ = "revision_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# what registered it → the counters a flushed object (new, changed or deleted) changes
_WATCHED: dict[str, Callable[[object], Iterable[str]]] = {}
# counter name → tables whose INSERT, UPDATE or DELETE statements (run through the session) change it
_TABLES: dict[str, frozenset[str]] = {}
# Execution options of a statement whose writer bumps the counters it changes itself (with
# ``bump_at_commit``): the table watch leaves it alone.
COUNTED = {"revisions_counted": True}
# session.info key: the counters this transaction bumps at its commit
PENDING = "revisions.pending"
# Counters read on nearly every request (``read_together``): the first read of one in a
# transaction fetches them all in one statement, kept in session.info under SEEN until it ends.
_TOGETHER: set[str] = set()
SEEN = "revisions.seen"


def bump(name: str) -> None:
    """Add one to the counter ``name`` (created at 1) in the current transaction: for writers
    that go around the ORM (watched ORM changes bump their counters at commit)."""
    connection = db.session.connection()
    connection.execute(_bump_statement(connection.dialect.name), {"name": name})


@cache
def _bump_statement(dialect_name: str):
    # Built once per engine kind: a declaration into a round bumps its round's counter at every
    # commit, and building the upsert cost more than running it.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = RevisionCounter.__table__
    statement = dialect.insert(table).values(name=bindparam("name"), value=1)
    return statement.on_conflict_do_update(index_elements=["name"], set_={"value": table.c.value + 1})


def bump_at_commit(name: str) -> None:
    """Bump ``name`` when the current transaction commits, as a watched change would."""
    db.session.info.setdefault(PENDING, set()).add(name)


def settled(name: str) -> int | None:
    """The counter's value, or None when this transaction has changed what it counts (its bump
    waits for the commit): a value read here and found again later means nothing it counts
    changed in between."""
    session = db.session()
    session.flush()
    if name in session.info.get(PENDING, ()):
        return None
    return current(name)


def current_query(name: str):
    """The counter's value as a scalar subquery (NULL before its first change), to read it in
    the same statement as what a cache holds."""
    return select(RevisionCounter.value).where(RevisionCounter.name == name).scalar_subquery()


@cache
def _current(name: str):
    return select(RevisionCounter.value).where(RevisionCounter.name == name)


@cache
def _together(names: frozenset[str]):
    return select(RevisionCounter.name, RevisionCounter.value).where(RevisionCounter.name.in_(sorted(names)))


def current(name: str) -> int:
    """The counter's value as this transaction sees it (0 before its first change). Through the
    session's connection: it runs before every API request, and the ORM's execution path would
    cost more than the whole lookup. A counter read together with others (``read_together``) is
    read once per transaction with them: as if they had all been read at that first moment."""
    session = db.session()
    if name not in _TOGETHER:
        return session.connection().execute(_current(name)).scalar() or 0
    seen = session.info.get(SEEN)
    if seen is None:
        seen = dict.fromkeys(_TOGETHER, 0)
        seen.update(session.connection().execute(_together(frozenset(_TOGETHER))).all())
        session.info[SEEN] = seen
    return seen[name]


def read_together(*names: str) -> None:
    """Read these counters in one statement with the others so registered: the people counter
    (every token) and the commons counter (every declaration's commons) cost one query together."""
    _TOGETHER.update(names)


class RowCache:
    """Rows this process keeps by a key (their columns), valid while ``counter`` has the value
    they were read at: a hit runs no query of its own (reading the counter is all it costs, and
    counters read together cost one statement), and any change the counter watches, committed by
    any process, makes the next lookup miss. Kept per application, at most ``size`` keys."""

    def __init__(self, name: str, counter: str, model, size: int):
        self.name, self.counter, self.model, self.size = name, counter, model, size
        self.columns = tuple(column.key for column in model.__table__.columns)

    def _rows(self) -> dict:
        return current_app.extensions.setdefault(self.name, {})

    def get(self, key):
        """The row kept under ``key`` as the session's instance, or None when it is not kept or
        its counter moved. The instance the session holds already is returned as it is, with
        whatever this transaction changed on it (merging the kept columns onto it would
        overwrite those changes unseen); else the kept columns are merged in without a query."""
        hit = self._rows().get(key)
        if hit is None or hit[0] != current(self.counter):
            return None
        session = db.session()
        present = session.identity_map.get(session.identity_key(self.model, hit[1]["id"]))
        if present is not None:
            return present
        obj = self.model(**hit[1])
        make_transient_to_detached(obj)
        return session.merge(obj, load=False)

    def put(self, key, revision: int | None, obj) -> None:
        """Keep ``obj``'s columns under ``key``, read at ``revision`` (from ``current_query``:
        NULL before the counter's first change)."""
        rows = self._rows()
        if len(rows) >= self.size:
            rows.clear()
        rows[key] = (revision or 0, {name: getattr(obj, name) for name in self.columns})

    def drop(self, key) -> None:
        self._rows().pop(key, None)


def watch(name: str, changes: Callable[[object], bool], tables: tuple[str, ...] = ()) -> None:
    """Bump ``name`` when a transaction commits after flushing an object (new, changed or
    deleted) for which ``changes(obj)`` is true, or after an INSERT, UPDATE or DELETE statement on
    one of ``tables`` run through the session (a bulk revocation)."""
    _WATCHED[name] = lambda obj: (name,) if changes(obj) else ()
    _TABLES[name] = frozenset(tables)


def watch_each(family: str, names_of: Callable[[object], Iterable[str]], tables: tuple[str, ...] = ()) -> None:
    """Bump, at commit, each counter ``names_of(obj)`` gives for a flushed object (new, changed
    or deleted); a statement on one of ``tables`` run through the session, whose rows are not
    known, bumps ``family`` itself, which every counter of the family must be read with."""
    _WATCHED[family] = names_of
    _TABLES[family] = frozenset(tables)


def _note(session, touched) -> None:
    names = {name for names_of in _WATCHED.values() for obj in touched for name in names_of(obj)}
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
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get("revisions_counted"):
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


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:  # the outermost one: what it read together is not the next one's
        session.info.pop(SEEN, None)


def install() -> None:
    """Bump the watched counters of every session that flushed a change they depend on."""
    from flask_sqlalchemy.session import Session

    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)
        event.listen(Session, "after_transaction_end", _transaction_ended)
