"""Fixtures: an application on a fresh database per test, on SQLite or on a real PostgreSQL.

``LEDGER_TEST_ENGINE=postgresql`` runs the whole suite on PostgreSQL (``LEDGER_TEST_POSTGRES_URL``);
tests marked ``postgres`` always need it. With ``LEDGER_REQUIRE_POSTGRES=1`` or
``LEDGER_REQUIRE_BROWSER=1`` (as in CI), a test that would be skipped for lack of them fails.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger import create_app
from ledger.extensions import db
from ledger.migrate import upgrade

ENGINE = os.environ.get("LEDGER_TEST_ENGINE", "sqlite")
PG_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("LEDGER_REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("LEDGER_REQUIRE_BROWSER") == "1"


def _unavailable(what: str, required: bool) -> None:
    if required:
        pytest.fail(f"{what} is required in this run but not available")
    pytest.skip(f"{what} not available")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not PG_URL:
            item.add_marker(pytest.mark.usefixtures("postgres_url"))
    # Tests of SQLite's own behaviour are left out of a run on another engine rather than
    # skipped in it: a skip would go unseen among the ones that matter.
    if ENGINE != "sqlite":
        left_out = [item for item in items if item.get_closest_marker("sqlite_only")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("sqlite_only")]


_required_skips: list[str] = []


def pytest_runtest_logreport(report):
    """In CI, a skipped PostgreSQL or browser test is a failure, not a pass."""
    if report.skipped and ((REQUIRE_PG and "postgres" in report.keywords) or (REQUIRE_BROWSER and "browser" in report.keywords)):
        _required_skips.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _required_skips:
        print(f"\nRequired tests were skipped: {_required_skips}")
        session.exitstatus = 1


def worker_id(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def fresh_pg_database(base_url: str, name: str) -> str:
    """Drop and recreate database ``name`` on the server of ``base_url``; returns its URL."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url():
    """The base URL of a real PostgreSQL server (superuser, to create databases)."""
    if not PG_URL:
        _unavailable("PostgreSQL (LEDGER_TEST_POSTGRES_URL)", REQUIRE_PG)
    return PG_URL


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    """One signing key and one data key for the session (generating them per test is waste)."""
    path = tmp_path_factory.mktemp("keys")
    return path


@pytest.fixture(scope="session")
def migrated_template(request, tmp_path_factory):
    """A database migrated once per worker: a file to copy (SQLite) or a database to truncate (PostgreSQL)."""
    if ENGINE == "postgresql":
        if not PG_URL:
            _unavailable("PostgreSQL (LEDGER_TEST_POSTGRES_URL)", True)
        # LEDGER_TEST_DB_TAG keeps two runs sharing one server (two checkouts) out of each other's databases.
        url = fresh_pg_database(PG_URL, f"ledger_test_{os.environ.get('LEDGER_TEST_DB_TAG', '')}{worker_id(request)}")
        upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [t.name for t in db.metadata.sorted_tables]
        # TRUNCATE does not fire the row-level append-only triggers: only tests may do this.
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_template, tmp_path):
    if ENGINE == "postgresql":
        _truncate_all(migrated_template)
        return migrated_template
    target = tmp_path / "ledger.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_app(database_url, keys_dir, tmp_path):
    """Build an app on this test's database; keyword arguments override the configuration."""
    apps = []

    def build(**overrides):
        config = {
            "TESTING": True,
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "LEDGER_SIGNING_KEY_FILE": str(keys_dir / "signing_key.pem"),
            "LEDGER_DATA_KEY_FILE": str(tmp_path / "instance" / "data_keys"),
            "WTF_CSRF_ENABLED": False,
            "LEDGER_LOG_JSON": False,
            "LEDGER_LOG_LEVEL": "WARNING",
        }
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def pg_database(request, postgres_url):
    """A PostgreSQL database of the module's own for tests marked ``postgres`` in a SQLite run, per
    worker (two workers sharing one would drop it under each other); None when the whole suite
    runs on PostgreSQL."""
    if ENGINE == "postgresql":
        return None
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    tag = os.environ.get("LEDGER_TEST_DB_TAG", "")
    url = fresh_pg_database(postgres_url, f"ledger_test_{module}_{tag}{worker_id(request)}")
    upgrade(url)
    return url


@pytest.fixture
def pg_app(pg_database, make_app):
    """An app on PostgreSQL, in its context: the suite's own when it runs on PostgreSQL, else the
    module's database, emptied. A module that wants make_person and client on it names it ``app``."""
    if pg_database is None:
        app = make_app()
    else:
        _truncate_all(pg_database)
        app = make_app(SQLALCHEMY_DATABASE_URI=pg_database)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        yield app


# The ledger's tables whose append-only triggers a tampering test lifts.
LEDGER_TABLES = ("ledger_postings", "ledger_transactions", "ledger_checkpoints", "ledger_signing_keys")


@pytest.fixture
def tamper(app):
    """Lift the ledger's guards (append-only, and the balance check on PostgreSQL), as someone with
    direct database access could. On PostgreSQL, whose database outlives the test, they come back
    after it: the tests after must have them."""
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def lift():
        if postgres:
            for table in LEDGER_TABLES:
                db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for (name,) in db.session.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE '%no_update' OR name LIKE '%no_delete')"
                )
            ).all():
                db.session.execute(text(f"DROP TRIGGER {name}"))

    yield lift
    if postgres:
        db.session.rollback()
        for table in LEDGER_TABLES:
            db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


class LedgerRunner:
    """Invoke the `ledger` console script against the test application."""

    def __init__(self, app):
        self.app = app
        self._runner = app.test_cli_runner()

    def invoke(self, args, **kwargs):
        from ledger.cli import cli

        return self._runner.invoke(cli, args, **kwargs)


@pytest.fixture
def runner(app):
    return LedgerRunner(app)


@dataclass
class Actor:
    """A person with an API token, for calling the API as them."""

    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_person(app):
    """Create a person (committed) and return an Actor with a fresh token."""
    from ledger.people.service import create_person, create_token

    counter = iter(range(1, 10_000))

    def build(
        name: str | None = None,
        *,
        email: str | None = None,
        password: str | None = "correct horse battery",
        admin: bool = False,
        show_name_publicly: bool = False,
    ) -> Actor:
        n = next(counter)
        name = name or f"Person {n}"
        email = email or f"person{n}-{os.urandom(3).hex()}@example.org"
        person = create_person(email, name, password, admin=admin, show_name_publicly=show_name_publicly)
        token = create_token(person, "test")
        actor = Actor(person.id, person.email, token)
        # Read before committing: a read after it would open a new SQLite write transaction
        # (they begin IMMEDIATE) and block apps built later in the test.
        db.session.commit()
        return actor

    return build


# Far enough back for every test period (rounds of 2021 included): nothing may be dated earlier.
TEST_COMMONS_START = "2020-01-01"


@pytest.fixture
def installation_admin(make_person):
    """The installation administrator who creates commons and admits them to the fund (made on first use)."""
    made: list[Actor] = []

    def get() -> Actor:
        if not made:
            made.append(make_person("Installation admin", admin=True))
        return made[0]

    return get


@pytest.fixture
def make_commons(app, client, installation_admin):
    """Create a commons through the API with ``steward`` as its steward, plus members by role.

    As in production, an administrator creates it (naming ``steward``) and, unless
    ``admitted=False``, admits it to the solidarity fund.
    """

    def build(
        steward: Actor,
        slug: str = "velo",
        *,
        members: dict[str, Actor] | None = None,
        name: str | None = None,
        admitted: bool = True,
        started_on: str = TEST_COMMONS_START,
    ) -> dict:
        admin = installation_admin()
        response = client.post(
            "/api/v1/commons",
            json={"slug": slug, "name": name or slug.title(), "steward_email": steward.email, "started_on": started_on},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.get_json()
        if admitted:
            admission = client.put(
                f"/api/v1/solidarity-fund/commons/{slug}",
                json={"status": "admitted", "reason": "test commons"},
                headers=admin.headers,
            )
            assert admission.status_code == 200, admission.get_json()
        for role, actor in (members or {}).items():
            role_name = role.rstrip("0123456789")
            added = client.post(
                f"/api/v1/commons/{slug}/members", json={"email": actor.email, "role": role_name}, headers=steward.headers
            )
            assert added.status_code == 201, added.get_json()
        return response.get_json()

    return build


@dataclass
class LiveServer:
    """The application served over real HTTP; ``app`` is there to prepare data in its context."""

    app: object
    url: str


def buffered(app):
    """``app`` answering with its whole body at once, its response closed before it is sent.

    werkzeug's development server closes a response only after reading what is left of the
    request, and that read fails when the browser has already dropped the connection (a page
    left while a style sheet was on its way): a static file's handle was then left open, and
    the suite, which turns warnings into errors, failed on the ResourceWarning at the next
    garbage collection. No page of the service streams, so the test server loses nothing.
    """

    def serve(environ, start_response):
        environ.pop("wsgi.file_wrapper", None)
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return serve


@pytest.fixture
def live_server(make_app):
    """Serve a fresh application on 127.0.0.1 (a free port) in a thread, with CSRF protection on."""
    import threading

    from werkzeug.serving import make_server

    app = make_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page():
    """A Playwright page in Debian's chromium (never a downloaded browser)."""
    executable = os.environ.get("LEDGER_CHROMIUM", "/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("chromium", REQUIRE_BROWSER)
    if not os.path.exists(executable):
        _unavailable("chromium", REQUIRE_BROWSER)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        yield page
        context.close()
        browser.close()


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free port; yields (url, inbox)."""
    from tests.mail_support import start_smtp

    controller, inbox = start_smtp()
    yield f"smtp://{controller.hostname}:{controller.port}", inbox
    controller.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):
    """An app whose mail goes to the in-process SMTP server."""
    url, inbox = smtp_server
    app = make_app(LEDGER_SMTP_URL=url)
    with app.app_context():
        yield app, inbox
