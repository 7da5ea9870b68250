"""Configuration read from the environment, with safe defaults for a local run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _instance_dir() -> Path:
    return Path(os.environ.get("LEDGER_INSTANCE_DIR", Path.cwd() / "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """LEDGER_SECRET_KEY, or one generated once and kept in the instance folder.

    A generated key survives restarts so that sessions are not lost each time.
    """
    if key := os.environ.get("LEDGER_SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask configuration: environment first, then explicit overrides (tests)."""
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_DIR", None) or _instance_dir())
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'ledger.db'}"
    if database_url.startswith("postgres://"):  # the form some hosts hand out
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    config = {
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": None,
        # Where the Ed25519 signing key and the data-encryption keys live: never in the database.
        "LEDGER_SIGNING_KEY_FILE": os.environ.get("LEDGER_SIGNING_KEY_FILE", str(instance / "signing_key.pem")),
        # The name of this ledger in its signed checkpoints (C2SP origin line): unique to the
        # installation, e.g. "ledger.example.org/budget"; witnesses keep checkpoints by it.
        "LEDGER_ORIGIN": os.environ.get("LEDGER_ORIGIN", "localhost/ledger"),
        "LEDGER_DATA_KEY": os.environ.get("LEDGER_DATA_KEY"),
        "LEDGER_DATA_KEY_FILE": os.environ.get("LEDGER_DATA_KEY_FILE", str(instance / "data_keys")),
        "LEDGER_CURRENCY": os.environ.get("LEDGER_CURRENCY", "EUR"),
        "LEDGER_LOG_LEVEL": os.environ.get("LEDGER_LOG_LEVEL", "INFO"),
        "LEDGER_LOG_JSON": os.environ.get("LEDGER_LOG_JSON", "1") == "1",
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LEDGER_LANGUAGES": ["fr", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("LEDGER_SECURE_COOKIES", "0") == "1",
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        # flask-smorest / OpenAPI
        "API_TITLE": "Contributive ledger API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_SWAGGER_UI_PATH": None,
        "LEDGER_SCHEDULER_INTERVAL_SECONDS": int(os.environ.get("LEDGER_SCHEDULER_INTERVAL_SECONDS", "300")),
        # Members are reminded this many days before a round's declaration window closes (0: never).
        "LEDGER_DECLARATION_REMINDER_DAYS": int(os.environ.get("LEDGER_DECLARATION_REMINDER_DAYS", "2")),
        # Outgoing mail: smtp://user:password@host:port or smtps://…; empty writes to instance/outbox/.
        "LEDGER_SMTP_URL": os.environ.get("LEDGER_SMTP_URL", ""),
        "LEDGER_MAIL_FROM": os.environ.get("LEDGER_MAIL_FROM", "ledger@localhost"),
        # The address people reach the service at, for links in mail (invitations, resets).
        "LEDGER_BASE_URL": os.environ.get("LEDGER_BASE_URL", ""),
        "LEDGER_LOGIN_RATE_LIMIT": int(os.environ.get("LEDGER_LOGIN_RATE_LIMIT", "10")),
        # How long an Idempotency-Key is honoured; its replay record is purged afterwards.
        "LEDGER_IDEMPOTENCY_HOURS": int(os.environ.get("LEDGER_IDEMPOTENCY_HOURS", "24")),
    }
    config.update(overrides)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance)
    return config
