"""Entries recorded before revision 0005 get the numbers the application gives at recording."""

from __future__ import annotations

from alembic import command
from payouts_support import payroll_scenario
from sqlalchemy import create_engine, text

from ledger.extensions import db
from ledger.migrate import alembic_config

NUMBERS = "SELECT transaction_id, entity, journal, number FROM fec_entry_numbers ORDER BY transaction_id, entity"


def test_upgrading_numbers_existing_entries_as_recording_would(client, make_person, make_commons, database_url):
    payroll_scenario(client, make_person, make_commons)
    at_recording = db.session.execute(text(NUMBERS)).all()
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    assert {(entity.split(":")[0], journal) for _, entity, journal, _ in at_recording} == {
        ("commons", "BQ"),
        ("fund", "BQ"),
        ("fund", "OD"),
    }
    command.downgrade(alembic_config(database_url), "0001")
    command.upgrade(alembic_config(database_url), "head")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text(NUMBERS)).all() == at_recording
    engine.dispose()
