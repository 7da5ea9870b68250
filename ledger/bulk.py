"""Bulk reads and writes that stay within what one statement may carry, on both engines."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import itemgetter

from sqlalchemy import ColumnElement, Connection, CursorResult, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from ledger.extensions import db

# Values per IN (...) list: far below the parameter limits of SQLite (32,766) and PostgreSQL (65,535).
IN_CHUNK = 5_000


def chunks(values: Sequence, size: int | None = None) -> Iterator[Sequence]:
    """``values`` in slices of at most ``size`` (default IN_CHUNK), for IN lists a statement can carry."""
    size = size or IN_CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


def among(column: ColumnElement, values: Sequence) -> Iterator[ColumnElement[bool]]:
    """Conditions "``column`` is one of ``values``", one per statement to run (none for no values).

    PostgreSQL: one ``= ANY(array)`` with a single parameter, however many values: psycopg parses
    a query placeholder by placeholder (10,000 account codes in IN lists cost a round 0.25 s of
    parsing alone). SQLite: IN lists of at most IN_CHUNK values.
    """
    if not values:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for part in chunks(values):
        yield column.in_(part)


def execute_plain(statement, params: dict | None = None) -> CursorResult:
    """A Core statement on the session's connection, the session flushed first as it would flush
    itself before a query: plain rows, past the ORM's handling of the statement and of each row
    (what a round's 66,000 totals and a declaration's one-row queries would otherwise pay)."""
    db.session.flush()
    return db.session.connection().execute(statement, params)


def insert_rows(table: Table, rows: list[dict], connection: Connection | None = None) -> None:
    """Insert ``rows`` (dicts giving the same columns) into ``table``; ids follow the rows' order.

    Each value goes through its column type's own bind processor, as SQLAlchemy's INSERT would
    send it, but without SQLAlchemy's handling of each row's parameters (for a round's 100,000
    rows, that handling cost as much as SQLite's inserts: finalize 1.25 → 1.08 s). SQLite: one
    executemany, which inserts row after row. PostgreSQL: COPY, because psycopg's executemany
    still sends one INSERT per row (and SQLAlchemy's multi-row INSERTs spend more time building
    the statement than the server spends running it); COPY evaluates the id sequence row after
    row, in order. Column defaults computed in Python are not applied: give every column the
    table needs. ``connection``: the session's by default.
    """
    if not rows:
        return
    connection = connection or db.session.connection()
    columns, values = _driver_values(connection, table, rows)
    names = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    table_name = connection.dialect.identifier_preparer.quote(table.name)
    if connection.dialect.name != "postgresql":
        # A driver-level statement: autobegin, events and error wrapping as for any other.
        connection.exec_driver_sql(f"INSERT INTO {table_name} ({names}) VALUES ({', '.join('?' for _ in columns)})", values)
        return
    statement = f"COPY {table_name} ({names}) FROM STDIN"
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except driver_error as error:  # as SQLAlchemy would raise it: IntegrityError for a duplicate …
        raise DBAPIError.instance(statement, None, error, driver_error) from error


def _driver_values(connection: Connection, table: Table, rows: list[dict]) -> tuple[list[str], list[tuple]]:
    """The rows' columns, and their values as the driver takes them (each through its column
    type's bind processor, for the columns that have one: dates on SQLite, JSON, enums)."""
    dialect = connection.dialect
    columns = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    if not any(processors):
        values = itemgetter(*columns)  # a tuple per row, built in C (a scalar for one column)
        return columns, [values(row) for row in rows] if len(columns) > 1 else [(row[columns[0]],) for row in rows]
    pairs = list(zip(columns, processors))
    return columns, [tuple(row[name] if process is None else process(row[name]) for name, process in pairs) for row in rows]
