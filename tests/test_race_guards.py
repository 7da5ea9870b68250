"""The race guards on any engine: migration 0003 on a database earlier races left with duplicate
open objections, and which database refusals count as a lost race (409) rather than a bug (500)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from ledger.errors import lost_race
from ledger.extensions import db
from ledger.migrate import alembic_config

REVISION = "0003_race_guards"


def test_the_upgrade_keeps_the_first_open_objection_of_a_person_and_closes_the_duplicates(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.db'}"
    config = alembic_config(url)
    command.upgrade(config, ScriptDirectory.from_config(config).get_revision(REVISION).down_revision)
    engine = create_engine(url)  # foreign keys are not enforced here: bare rows suffice
    rows = [(1, 7, 7, "open"), (2, 7, 7, "open"), (3, 7, 7, "open"), (4, 7, 8, "open"), (5, 9, 7, "open"), (6, 7, 7, "dismissed")]
    with engine.begin() as connection:
        for id_, contribution, objector, state in rows:
            connection.execute(
                text(
                    "INSERT INTO objections (id, contribution_id, objector_id, reason, state, created_at) "
                    "VALUES (:id, :c, :o, 'Doubtful', :s, CURRENT_TIMESTAMP)"
                ),
                {"id": id_, "c": contribution, "o": objector, "s": state},
            )
    command.upgrade(config, REVISION)
    with engine.connect() as connection:
        states = dict(connection.execute(text("SELECT id, state FROM objections ORDER BY id")).all())
        closed = connection.execute(text("SELECT resolution, resolved_at FROM objections WHERE id = 2")).one()
    assert states == {1: "open", 2: "withdrawn", 3: "withdrawn", 4: "open", 5: "open", 6: "dismissed"}
    assert "duplicate" in closed.resolution and closed.resolved_at is not None
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO objections (contribution_id, objector_id, reason, state, created_at) "
                "VALUES (7, 7, 'Again', 'open', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()


def test_a_unique_refusal_is_a_lost_race_and_a_broken_check_is_not(app, client, make_person, make_commons):
    """On the suite's engine: a second self-request slipping past the service check is a lost race
    (409); a row breaking a check constraint stays a bug (500)."""
    person = make_person("Steward")
    make_commons(person, "velo")
    created = client.post(
        "/api/v1/commons/velo/rounds",
        json={"period_start": "2025-01-01", "period_end": "2025-01-31", "envelope_cents": 0},
        headers=person.headers,
    )
    statement = text("INSERT INTO self_requests (round_id, person_id, amount_cents) VALUES (:r, :p, :a)")
    values = {"r": created.get_json()["id"], "p": person.id}
    db.session.execute(statement, {**values, "a": 5})
    with pytest.raises(IntegrityError) as duplicate, db.session.begin_nested():
        db.session.execute(statement, {**values, "a": 6})
    other = make_person("Bo")
    with pytest.raises(IntegrityError) as negative, db.session.begin_nested():
        db.session.execute(statement, {**values, "p": other.id, "a": -1})
    db.session.rollback()
    assert lost_race(duplicate.value) and not lost_race(negative.value)
