"""Outgoing mail: SMTP when `LEDGER_SMTP_URL` is set, otherwise files in `instance/outbox/`.

`LEDGER_SMTP_URL` reads `smtp://[user:password@]host[:port]` (plain, or STARTTLS when the server
offers it), or `smtps://…` for TLS from the start. Without it, each message is written as an
`.eml` file that `ledger outbox` lists, so a small installation (or a demo) loses nothing.

Messages are sent once the request's transaction has committed (`send` queues them on the
application context and `flush_after_commit` sends them), so a refused request sends nothing.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, g

from ledger.timeutil import utcnow

log = logging.getLogger(__name__)

DEFAULT_SENDER = "ledger@localhost"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def message(mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config.get("LEDGER_MAIL_FROM") or DEFAULT_SENDER
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@ledger>"
    msg.set_content(mail.body)
    return msg


def send(to: str, subject: str, body: str) -> None:
    """Queue a message; it leaves when the request or command commits (see `deliver_queued`)."""
    g.setdefault("outgoing_mail", []).append(Mail(to, subject, body))


def discard_queued() -> None:
    g.pop("outgoing_mail", None)


def deliver_queued() -> int:
    """Send what this request queued; called after its commit. Returns how many left."""
    queued = g.pop("outgoing_mail", [])
    for mail in queued:
        msg = message(mail)
        try:
            deliver(msg)
        except (OSError, smtplib.SMTPException):
            # The request is committed: keep the message in the outbox rather than lose it.
            log.exception("SMTP failed for %s; message kept in the outbox", mail.to)
            write_to_outbox(msg)
    return len(queued)


def outbox_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "outbox"


def deliver(msg: EmailMessage) -> None:
    url = current_app.config.get("LEDGER_SMTP_URL")
    if not url:
        write_to_outbox(msg)
        return
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    client = smtplib.SMTP_SSL(parts.hostname, port, timeout=30) if secure else smtplib.SMTP(parts.hostname, port, timeout=30)
    with client:
        if not secure:
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls()
                client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(msg)
    log.info("mail sent to %s: %s", msg["To"], msg["Subject"])


def write_to_outbox(msg: EmailMessage) -> Path:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(msg))
    return path


def outbox() -> list[dict]:
    """The messages written to the outbox, oldest first: file, date, to and subject."""
    folder = outbox_dir()
    rows = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
        rows.append({"file": path.name, "date": msg["Date"], "to": msg["To"], "subject": msg["Subject"]})
    return rows
