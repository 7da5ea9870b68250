"""The round scheduler: one job, run by exactly one process of the installation.

A process runs it only while it holds the scheduler lock: an exclusive file lock beside the
SQLite database, or a PostgreSQL session advisory lock. A process that loses simply serves web
requests; if the holder dies, the lock is released and the next process to try takes over.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

log = logging.getLogger(__name__)

SCHEDULER_LOCK_KEY = 7_270_002
# The sequencer's backstop (ledger.accounts.sequencer): a commit normally sequences itself at once.
SEQUENCER_PERIOD_SECONDS = 5


class SchedulerLock:
    """Held for the life of the process (or until ``release``)."""

    def __init__(self, app: Flask):
        self.app = app
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self._file = None
        self._connection = None
        self._engine = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}"

    def acquire(self) -> bool:
        if self.url.startswith("sqlite"):
            path = Path(self.app.config["INSTANCE_DIR"]) / "scheduler.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+")  # noqa: SIM115 - held open: the lock lives as long as the file
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._file = handle
            return True
        engine = create_engine(self.url, pool_size=1, max_overflow=0)
        connection = engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK_KEY}).scalar()
        connection.commit()
        if not got:
            connection.close()
            engine.dispose()
            return False
        self._connection, self._engine = connection, engine
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            # Closing would only return the connection to its pool, lock still held: unlock, then dispose.
            self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEDULER_LOCK_KEY})
            self._connection.commit()
            self._connection.close()
            self._engine.dispose()
            self._connection = self._engine = None


def run_tick(app: Flask, holder: str = "scheduler") -> dict:
    """Advance every round whose dates have passed (what `ledger rounds tick` does), in one transaction."""
    from ledger import mail
    from ledger.extensions import db
    from ledger.inbox.notifications import send_digests
    from ledger.rounds.lifecycle import tick

    with app.app_context():
        try:
            summary = tick(holder=holder)
            summary["digests"] = send_digests()
            db.session.commit()
            mail.deliver_queued()
        except Exception:
            db.session.rollback()
            log.exception("scheduler tick failed; it will be retried at the next interval")
            raise
        return summary


def start_background_scheduler(app: Flask):
    """Start APScheduler in this process if it wins the lock; returns the scheduler or None."""
    from apscheduler.schedulers.background import BackgroundScheduler

    lock = SchedulerLock(app)
    if not lock.acquire():
        log.info("another process runs the scheduler; this one only serves requests")
        return None
    scheduler = BackgroundScheduler(timezone="UTC")
    add_tick_job(scheduler, app, lock.holder)
    scheduler.start()
    scheduler.lock = lock
    log.info("scheduler started by %s", lock.holder)
    return scheduler


def run_purge(app: Flask) -> int:
    """Forget the Idempotency-Keys past their lifetime (their replay records hold answers)."""
    from ledger.extensions import db
    from ledger.people.service import purge_expired_keys

    with app.app_context():
        try:
            count = purge_expired_keys()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("idempotency purge failed; it will be retried at the next interval")
            raise
        return count


def run_reminders(app: Flask) -> int:
    """Remind members that a round's declarations close soon (once per round); returns how many mails."""
    from ledger import mail
    from ledger.extensions import db
    from ledger.inbox.notifications import remind_declarations

    with app.app_context():
        try:
            count = remind_declarations()
            db.session.commit()
            mail.deliver_queued()
        except Exception:
            db.session.rollback()
            log.exception("declaration reminders failed; they will be retried at the next interval")
            raise
        return count


def run_sequencer(app: Flask) -> int:
    """Give their place to transactions whose writer stopped between its commit and its sequencing."""
    from ledger.accounts.sequencer import integrate

    with app.app_context():
        try:
            return integrate()
        except Exception:
            log.exception("sequencing failed; it will be retried at the next interval")
            raise


def add_tick_job(scheduler, app: Flask, holder: str) -> None:
    """The jobs: a tick now, then every LEDGER_SCHEDULER_INTERVAL_SECONDS, never two at once; the
    purge of expired idempotency records, hourly; the declaration reminders, now and hourly; the
    sequencer's backstop, every SEQUENCER_PERIOD_SECONDS (well within its maximum delay)."""
    scheduler.add_job(
        run_tick,
        "interval",
        args=[app, holder],
        seconds=app.config["LEDGER_SCHEDULER_INTERVAL_SECONDS"],
        id="rounds-tick",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(run_purge, "interval", args=[app], hours=1, id="idempotency-purge", max_instances=1, coalesce=True)
    scheduler.add_job(
        run_sequencer,
        "interval",
        args=[app],
        seconds=SEQUENCER_PERIOD_SECONDS,
        id="ledger-sequencer",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        run_reminders,
        "interval",
        args=[app],
        hours=1,
        id="declaration-reminders",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )


def run_standalone(app: Flask, *, wait_seconds: float | None = None) -> None:
    """`ledger scheduler`: wait for the lock (a standby takes over when the holder dies), then tick forever."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    lock = SchedulerLock(app)
    wait = wait_seconds if wait_seconds is not None else app.config["LEDGER_SCHEDULER_INTERVAL_SECONDS"]
    while not lock.acquire():
        log.info("another process holds the scheduler lock; retrying in %s s", wait)
        time.sleep(wait)
    log.info("scheduler started by %s", lock.holder)
    scheduler = BlockingScheduler(timezone="UTC")
    add_tick_job(scheduler, app, lock.holder)
    try:
        scheduler.start()
    finally:
        lock.release()
