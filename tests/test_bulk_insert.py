"""``ledger.bulk.insert_rows`` stores what SQLAlchemy's own INSERT would store, column type by
column type, inside the caller's transaction; a refused row refuses the whole batch."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from ledger.bulk import insert_rows
from ledger.extensions import db


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def sample_table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("code", String(20), unique=True, nullable=False),
        Column("cents", BigInteger, nullable=False),
        Column("hours", Numeric(10, 2)),
        Column("on_day", Date),
        Column("at", DateTime(timezone=True)),
        Column("done", Boolean),
        Column("colour", Enum(Colour, native_enum=False, length=10)),
        Column("params", JSON),
        Column("memo", Text),
    )


ROWS = [
    {
        "code": f"row-{i}",
        "cents": 10**12 + i,
        "hours": Decimal("7.25") * i,
        "on_day": date(2026, 1, 1 + i),
        "at": datetime(2026, 1, 1, 12, 30, i, 123456, tzinfo=UTC),
        "done": i % 2 == 0,
        "colour": Colour.BLUE if i % 2 else Colour.RED,
        "params": {"key": "é", "n": [i, None]},
        "memo": 'l\'équipe "vélo"' if i else None,
    }
    for i in range(3)
]


@pytest.fixture
def tables(app):
    metadata = MetaData()
    ours, theirs = sample_table("bulk_ours", metadata), sample_table("bulk_theirs", metadata)
    metadata.create_all(db.engine)
    yield ours, theirs
    db.session.rollback()
    metadata.drop_all(db.engine)


def stored(table: Table) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id))]


def test_the_rows_are_stored_as_sqlalchemy_would_store_them(tables):
    ours, theirs = tables
    insert_rows(ours, [dict(row) for row in ROWS])
    db.session.execute(insert(theirs), [dict(row) for row in ROWS])
    assert stored(ours) == stored(theirs)
    first = stored(ours)[1]
    assert first[1:5] == ("row-1", 10**12 + 1, Decimal("7.25"), date(2026, 1, 2))
    assert first[7:] == (Colour.BLUE, {"key": "é", "n": [1, None]}, 'l\'équipe "vélo"')
    assert [row[0] for row in stored(ours)] == [1, 2, 3], "ids follow the rows' order"


def test_the_rows_belong_to_the_callers_transaction(tables):
    ours, _ = tables
    insert_rows(ours, [dict(row) for row in ROWS])
    db.session.rollback()
    assert stored(ours) == []


def test_a_refused_row_refuses_the_batch(tables):
    ours, _ = tables
    with pytest.raises(IntegrityError, match="code"):
        insert_rows(ours, [dict(ROWS[0]), dict(ROWS[1]), dict(ROWS[0])])
    db.session.rollback()
    assert stored(ours) == []


def test_columns_without_conversion_one_or_several(app):
    metadata = MetaData()
    pairs = Table("bulk_pairs", metadata, Column("id", Integer, primary_key=True), Column("a", Integer), Column("b", String(5)))
    single = Table("bulk_single", metadata, Column("id", Integer, primary_key=True), Column("a", Integer))
    metadata.create_all(db.engine)
    try:
        insert_rows(pairs, [{"a": 1, "b": "x"}, {"a": 2, "b": None}])
        insert_rows(single, [{"a": 7}, {"a": 8}])
        assert stored(pairs) == [(1, 1, "x"), (2, 2, None)]
        assert stored(single) == [(1, 7), (2, 8)]
    finally:
        db.session.rollback()
        metadata.drop_all(db.engine)
