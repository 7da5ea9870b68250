"""One-file backups of the whole database, restorable into an empty database on either engine.

A backup is a zip archive holding ``manifest.json`` and one JSON-lines file per table, written in
foreign-key order so that a restore inserts parents before children. Values are stored as JSON
with the column type deciding the text form (ISO dates, decimal strings, base64 bytes), so a
SQLite backup restores into PostgreSQL and back.

Keys are NOT in the backup: the signing key and the data keys live outside the database
(``LEDGER_SIGNING_KEY_FILE``, ``LEDGER_DATA_KEY_FILE``) and must be saved apart. Without the
same signing key the restored ledger does not verify; without the data keys the encrypted
payroll identifiers cannot be read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Date, DateTime, Engine, Integer, LargeBinary, Numeric, Table, func, select, text
from sqlalchemy.engine import Connection

from ledger.extensions import db

FORMAT = "ledger-backup/1"
BATCH = 5000
KEYS_NOTICE = (
    "Keys are not in the backup: keep the signing key (LEDGER_SIGNING_KEY_FILE) and the data keys "
    "(LEDGER_DATA_KEY_FILE) apart; the restored ledger verifies only with the same signing key."
)


class BackupRefused(Exception):
    """The backup cannot be restored here (not empty, other schema, damaged file)."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    tables: dict[str, int]
    revision: str | None


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(db.metadata.sorted_tables)


def _encode(column_type, value):
    if value is None:
        return None
    if isinstance(column_type, LargeBinary):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decoder(column_type):
    """A function turning the stored JSON value back into what the column takes."""
    if isinstance(column_type, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    if isinstance(column_type, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(column_type, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(column_type, Numeric):
        return lambda v: None if v is None else Decimal(v)
    return lambda v: v


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def write_backup(engine: Engine, path: Path, *, progress=None) -> BackupSummary:
    """Write every row of every table to ``path``, from one consistent snapshot of the database."""
    counts: dict[str, int] = {}
    digests: dict[str, str] = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with (
        engine.connect().execution_options(**options) as connection,
        connection.begin(),
        _private_file(path) as handle,
    ):
        revision = _revision(connection)
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables():
                digest = hashlib.sha256()
                count = 0
                order = [c for c in table.primary_key.columns] or list(table.columns)
                rows = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
                with archive.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as member:
                    for row in rows:
                        record = {c.name: _encode(c.type, row._mapping[c.name]) for c in table.columns}
                        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
                        member.write(line)
                        digest.update(line)
                        count += 1
                counts[table.name], digests[table.name] = count, digest.hexdigest()
                if progress:
                    progress(table.name, count)
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "engine": engine.dialect.name,
                "alembic_revision": revision,
                "tables": [{"name": name, "rows": counts[name], "sha256": digests[name]} for name in counts],
                "keys_included": False,
                "notice": KEYS_NOTICE,
            }
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return BackupSummary(path, counts, revision)


def _private_file(path: Path):
    """``path`` opened for writing, readable by its owner only (0600, like the keys): a backup
    holds every person's data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, "wb")


def read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise BackupRefused("this file has no readable manifest: not a ledger backup") from exc
    if manifest.get("format") != FORMAT:
        raise BackupRefused(f"unknown backup format {manifest.get('format')!r} (expected {FORMAT})")
    return manifest


def _refuse_unless_empty(connection: Connection) -> None:
    filled = [t.name for t in tables() if connection.execute(select(func.count()).select_from(t)).scalar()]
    if filled:
        raise BackupRefused(f"the database is not empty (rows in {', '.join(filled[:5])}); restore only into an empty database")


def reset_sequences(connection: Connection) -> None:
    """PostgreSQL hands out ids from sequences that explicit inserts do not advance."""
    for table in tables():
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and len(table.primary_key.columns) == 1:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )


def restore_backup(engine: Engine, path: Path, *, progress=None) -> BackupSummary:
    """Load a backup into an empty, migrated database in one transaction: all of it or nothing."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupRefused(f"cannot read {path}: {exc}") from exc
    with archive:
        manifest = read_manifest(archive)
        known = {t.name: t for t in tables()}
        listed = [entry["name"] for entry in manifest["tables"]]
        if missing := [name for name in listed if name not in known]:
            raise BackupRefused(f"the backup has tables this version does not know: {', '.join(missing)}")
        counts: dict[str, int] = {}
        with engine.begin() as connection:
            revision = _revision(connection)
            if manifest.get("alembic_revision") != revision:
                raise BackupRefused(
                    f"the backup is at schema revision {manifest.get('alembic_revision')}, this database at "
                    f"{revision}: run the same version of the service, then 'ledger init'"
                )
            _refuse_unless_empty(connection)
            for entry in manifest["tables"]:
                counts[entry["name"]] = _load_table(connection, archive, known[entry["name"]], entry)
                if progress:
                    progress(entry["name"], counts[entry["name"]])
            if engine.dialect.name == "postgresql":
                reset_sequences(connection)
    return BackupSummary(path, counts, revision)


def _load_table(connection: Connection, archive: zipfile.ZipFile, table: Table, entry: dict) -> int:
    decoders = {c.name: _decoder(c.type) for c in table.columns}
    digest = hashlib.sha256()
    count = 0
    batch: list[dict] = []
    with archive.open(f"tables/{table.name}.jsonl") as member:
        for line in member:
            digest.update(line)
            record = json.loads(line)
            batch.append({name: decoders[name](record.get(name)) for name in decoders})
            count += 1
            if len(batch) >= BATCH:
                connection.execute(table.insert(), batch)
                batch = []
    if batch:
        connection.execute(table.insert(), batch)
    if count != entry["rows"] or digest.hexdigest() != entry["sha256"]:
        raise BackupRefused(f"table {table.name} in the backup is damaged (rows or checksum differ from the manifest)")
    return count
