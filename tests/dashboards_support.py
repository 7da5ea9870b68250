"""A demo installation loaded once per test module, for the read-only dashboard tests.

Loading the demo takes seconds, and the dashboards only read it: each module that imports
``demo_app`` gets its own database (a copied SQLite file, or its own PostgreSQL database) so no
other test's truncation can reach it, even when pytest-xdist interleaves modules on a worker.
"""

from __future__ import annotations

import os
import shutil

import pytest
from argon2 import PasswordHasher
from flask import g
from flask.testing import FlaskClient

from ledger import create_app
from ledger.extensions import db
from ledger.migrate import upgrade


class FreshLocaleClient(FlaskClient):
    """Requests made inside a test reuse the test's application context, hence its ``g``, where
    Flask-Babel caches the locale: forget it so that each request chooses its own language."""

    def open(self, *args, **kwargs):
        g.pop("_flask_babel", None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="module")
def demo_app(request, migrated_template, keys_dir, tmp_path_factory):
    from conftest import ENGINE, PG_URL, fresh_pg_database, worker_id

    tmp = tmp_path_factory.mktemp("dashboards")
    if ENGINE == "postgresql":
        name = f"ledger_dash_{os.environ.get('LEDGER_TEST_DB_TAG', '')}{worker_id(request)}_{request.module.__name__[-12:]}"
        url = fresh_pg_database(PG_URL, name.replace(".", "_"))
        upgrade(url)
    else:
        shutil.copyfile(migrated_template, tmp / "demo.db")
        url = f"sqlite:///{tmp / 'demo.db'}"
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_DIR": str(tmp / "instance"),
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret",
            "LEDGER_SIGNING_KEY_FILE": str(keys_dir / "signing_key.pem"),
            "LEDGER_DATA_KEY_FILE": str(tmp / "instance" / "data_keys"),
            "WTF_CSRF_ENABLED": False,
            "LEDGER_LOG_JSON": False,
            "LEDGER_LOG_LEVEL": "WARNING",
        }
    )
    app.test_client_class = FreshLocaleClient
    # Cheap Argon2 parameters for the demo's passwords: the hashes stay verifiable (they carry
    # their parameters), and loading the demo no longer spends most of its time hashing.
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr("ledger.people.passwords._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with app.app_context():
        from ledger.cli import cli

        result = app.test_cli_runner().invoke(cli, ["demo"])
        assert result.exit_code == 0, result.output
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()
    monkeypatch.undo()
