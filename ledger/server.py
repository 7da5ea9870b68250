"""`ledger serve`: gunicorn in-process, one worker with threads, the scheduler inside the worker.

One worker is what a small collective on SQLite needs; a federation runs gunicorn itself with
several workers and `ledger scheduler` beside them (docs/operations.md).
"""

from __future__ import annotations

from flask import Flask
from gunicorn.app.base import BaseApplication


class LedgerServer(BaseApplication):
    def __init__(self, app: Flask, host: str, port: int, with_scheduler: bool, threads: int = 8):
        self.application = app
        self.options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,
            "graceful_timeout": 20,
            "post_fork": self._post_fork,
            # No control socket in $HOME/.gunicorn: one path shared by every gunicorn of the user, and
            # a way in that `ledger serve` does not need (stop it with a signal).
            "control_socket_disable": True,
        }
        self.with_scheduler = with_scheduler
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application

    def _post_fork(self, server, worker) -> None:
        from ledger.extensions import db

        # Connections opened before the fork must not be shared with the worker.
        with self.application.app_context():
            db.engine.dispose()
        if self.with_scheduler:
            from ledger.rounds.scheduler import start_background_scheduler

            start_background_scheduler(self.application)
