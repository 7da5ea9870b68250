"""Running Alembic from inside the application (`ledger init`, `make run`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, *, signing_key_file: str | None = None, origin: str | None = None) -> None:
    """Create or upgrade the schema to the latest revision.

    The signing key and origin sign the first checkpoint of a ledger that had none (0004).
    """
    from ledger.database import create_private_sqlite_file

    create_private_sqlite_file(url)
    config = alembic_config(url)
    config.attributes.update(signing_key_file=signing_key_file, origin=origin)
    command.upgrade(config, "head")


def new_revision(message: str) -> None:
    """Write the next migration from what the models add to the latest revision.

    Compares against a scratch SQLite database at head, so no real database is touched; review
    the generated file (PostgreSQL-only details such as triggers are written by hand).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)
