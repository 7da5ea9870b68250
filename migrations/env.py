"""Alembic environment: the models' metadata, and the URL given by ledger.migrate or the environment."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import ledger.models  # noqa: F401  (registers every table)
from ledger.config import load_config
from ledger.extensions import db

config = context.config
target_metadata = db.metadata
url = config.get_main_option("sqlalchemy.url") or load_config()["SQLALCHEMY_DATABASE_URI"]


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
