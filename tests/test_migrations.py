"""The migrations create exactly the schema the models describe, on the suite's engine."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ledger.extensions import db


def test_migrated_database_matches_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == [], "models changed without a migration: run `make migration MESSAGE=...`"
