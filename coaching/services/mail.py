"""Outgoing mail through the outbox: requests queue a row, `flask mail worker` sends it (SMTP, file or log).

`send_mail` is the one way the app sends mail. It only adds a row to `mail_outbox` in the caller's
transaction, so a request never waits for a mail server and a mail leaves only if the transaction that
wanted it commits. `queue_notice` queues a mail whose text the worker writes just before sending it, with a
renderer a service registered (`register_notice`): the account mails use it, so that the request neither
looks up nor writes anything that depends on whether the address has an account. The worker claims due rows,
sends each outside any transaction, and records the outcome: sent (the body is purged, the row stays as
the record for MAIL_KEEP_DAYS), or a retry with exponential backoff, or after MAIL_MAX_ATTEMPTS "failed"
(body purged, an error logged without the body). A worker that dies mid-send leaves the row claimed for
LEASE; it is sent again after that, so delivery is at least once.
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..models import OutboxMail, utcnow
from .db import begin_write

logger = logging.getLogger("coaching.mail")

BATCH = 50
LEASE = timedelta(minutes=5)  # a claimed mail is not picked again for this long (the send must end first)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


def send_mail(to: str, subject: str, body: str, *, user_id: int | None = None) -> None:
    """Queue a plain-text mail (to the person with `user_id`, if any); it leaves when the caller commits."""
    if any(ch in to + subject for ch in "\r\n"):
        raise ValueError("mail headers cannot hold line breaks")
    now = utcnow()
    db.session.add(OutboxMail(recipient=to, subject=subject[:300], body=body, user_id=user_id, status="pending",
                              created_at=now, next_attempt_at=now, attempts=0))


class Notice(NamedTuple):
    """What a notice renderer decided: the mail's subject and body, and the account it went to (if any)."""

    subject: str
    body: str
    user_id: int | None


NOTICES: dict[str, Callable[[OutboxMail], Notice | None]] = {}


def register_notice(kind: str) -> Callable[[Callable[[OutboxMail], Notice | None]], Any]:
    """Decorator: the function that writes a notice of this kind at send time (None: send nothing)."""
    def decorate(render: Callable[[OutboxMail], Notice | None]) -> Any:
        NOTICES[kind] = render
        return render
    return decorate


def queue_notice(kind: str, to: str, *, language: str | None, subject: str = "", body: str | None = None) -> None:
    """Queue a mail whose final text the worker writes (`subject`/`body`: a draft the renderer may keep)."""
    if kind not in NOTICES:
        raise ValueError(f"no renderer for notice kind {kind!r}")
    now = utcnow()
    db.session.add(OutboxMail(recipient=to, subject=subject[:300], body=body, kind=kind, language=language,
                              status="pending", created_at=now, next_attempt_at=now, attempts=0))


def recipient_hash(recipient: str) -> str:
    """A short stable fingerprint of an address for logs (the address itself is not logged)."""
    return hashlib.sha256(recipient.strip().lower().encode("utf-8")).hexdigest()[:12]


# --- building and sending one message -------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """A mail the worker claimed: what it needs to send it, read before the transaction ended."""

    id: int
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime


def build_message(mail: Claimed, config: Any) -> EmailMessage:
    """The RFC 5322 message of a queued mail (UTF-8 plain text, automated-mail headers)."""
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = make_msgid(idstring=str(mail.id), domain=urlsplit(config["SITE_URL"]).hostname
                                       or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


class Backend(Protocol):
    """Where mails go."""

    def send(self, message: EmailMessage, mail: Claimed) -> None:
        """Deliver one message; raise on failure (the worker retries)."""


class SmtpBackend:
    """An SMTP server (MAIL_SERVER, MAIL_PORT, STARTTLS unless MAIL_USE_TLS=false, optional login)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def send(self, message: EmailMessage, mail: Claimed) -> None:
        """Hand the message to the server."""
        config = self.config
        if not config.get("MAIL_SERVER"):
            raise RuntimeError("MAIL_SERVER is not set")
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)


class FileBackend:
    """Each mail as a .eml file in a folder (development: the links of reset and confirmation mails are there)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, mail: Claimed) -> None:
        """Write the message as `<created>-<id>.eml` (mode 0600: it holds working links)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{mail.created_at:%Y%m%d-%H%M%S}-{mail.id}.eml"
        path.touch(mode=0o600)
        path.write_bytes(message.as_bytes())


class LogBackend:
    """Only a log line: the recipient's fingerprint and the subject, never the body (it holds links)."""

    def send(self, message: EmailMessage, mail: Claimed) -> None:
        """Log that the mail would have been sent."""
        logger.info("mail %d not delivered (MAIL_BACKEND=log): to=%s subject=%s", mail.id,
                    recipient_hash(mail.recipient), mail.subject)


def backend_for(app: Any) -> Backend:
    """The configured backend."""
    kind = app.config["MAIL_BACKEND"]
    if kind == "file":
        return FileBackend(Path(app.instance_path) / "mail")
    if kind == "log":
        return LogBackend()
    return SmtpBackend(app.config)


# --- the worker's pass ----------------------------------------------------------------------------------------

@dataclass
class Delivery:
    """What one pass of the worker did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    prepared: int = 0

    @property
    def handled(self) -> int:
        """Mails this pass took."""
        return self.sent + self.retrying + self.failed


def prepare_notices(app: Any, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Write the text of due notices (each in its own transaction, claimed so that one worker writes it);
    how many were written. A renderer that fails counts as a failed attempt of that mail."""
    ids = list(db.session.scalars(select(OutboxMail.id).where(
        OutboxMail.status == "pending", OutboxMail.kind.is_not(None), OutboxMail.next_attempt_at <= (now or utcnow()))
        .order_by(OutboxMail.id).limit(limit)))
    db.session.rollback()
    written = 0
    for mail_id in ids:
        try:
            written += _prepare(app, mail_id)
        except Exception as error:  # a renderer's failure is retried like a failed send
            db.session.rollback()
            mail = _claim(mail_id, now or utcnow(), notices=True)
            if mail is not None:
                _finish(mail, error, app.config["MAIL_MAX_ATTEMPTS"])
    return written


def _prepare(app: Any, mail_id: int) -> int:
    """Write one notice: take its kind away (only one worker wins), render, store subject and body."""
    begin_write()
    mail = db.session.get(OutboxMail, mail_id)
    kind = mail.kind if mail is not None else None
    if kind is None or db.session.execute(update(OutboxMail).where(
            OutboxMail.id == mail_id, OutboxMail.kind == kind).values(kind=None)).rowcount != 1:
        db.session.rollback()
        return 0
    with app.test_request_context(base_url=app.config["SITE_URL"]):
        notice = NOTICES[kind](mail)
    if notice is None:
        db.session.delete(mail)
    else:
        mail.subject, mail.body, mail.user_id = notice.subject[:300], notice.body, notice.user_id
    db.session.commit()
    return 1


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 30 s, 1 min, 2 min ... at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _due_ids(now: datetime, limit: int) -> list[int]:
    """Pending mails (with their text written) whose time has come, oldest first."""
    ids = list(db.session.scalars(select(OutboxMail.id).where(
        OutboxMail.status == "pending", OutboxMail.kind.is_(None), OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(limit)))
    db.session.rollback()  # end the read transaction before claiming
    return ids


def _claim(mail_id: int, now: datetime, *, notices: bool = False) -> Claimed | None:
    """Take one mail for sending (a conditional update: of two workers only one wins); committed."""
    begin_write()
    claimed = db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == "pending",
                                 OutboxMail.next_attempt_at <= now,
                                 OutboxMail.kind.is_not(None) if notices else OutboxMail.kind.is_(None))
        .values(next_attempt_at=now + LEASE, attempts=OutboxMail.attempts + 1)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    row = db.session.execute(select(OutboxMail.recipient, OutboxMail.subject, OutboxMail.body, OutboxMail.attempts,
                                    OutboxMail.created_at).where(OutboxMail.id == mail_id)).one()
    db.session.commit()
    return Claimed(mail_id, row.recipient, row.subject, row.body or "", row.attempts, row.created_at)


def _finish(mail: Claimed, error: Exception | None, max_attempts: int) -> str:
    """Record the outcome of one attempt; returns sent, retrying or failed."""
    now = utcnow()
    begin_write()
    if error is None:
        values: dict[str, Any] = {"status": "sent", "sent_at": now, "body": None, "last_error": None}
        outcome = "sent"
    elif mail.attempts >= max_attempts:
        values = {"status": "failed", "failed_at": now, "body": None, "last_error": _describe(error)}
        outcome = "failed"
        logger.error("mail %d to %s (%s) failed after %d attempts: %s", mail.id, recipient_hash(mail.recipient),
                     mail.subject, mail.attempts, _describe(error))
    else:
        values = {"next_attempt_at": now + backoff(mail.attempts), "last_error": _describe(error)}
        outcome = "retrying"
        logger.warning("mail %d to %s: attempt %d failed, next in %s: %s", mail.id, recipient_hash(mail.recipient),
                       mail.attempts, backoff(mail.attempts), _describe(error))
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail.id).values(values))
    db.session.commit()
    return outcome


def _describe(error: Exception) -> str:
    """An error as one short line for the row and the log."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:500]


def deliver_due(app: Any, *, now: datetime | None = None, limit: int = BATCH) -> Delivery:
    """Send the mails that are due (at most `limit`), each in its own claim; what happened."""
    backend = backend_for(app)
    max_attempts = app.config["MAIL_MAX_ATTEMPTS"]
    report = Delivery(prepared=prepare_notices(app, now=now, limit=limit))
    for mail_id in _due_ids(now or utcnow(), limit):
        mail = _claim(mail_id, now or utcnow())
        if mail is None:
            continue
        error: Exception | None = None
        try:
            backend.send(build_message(mail, app.config), mail)
        except Exception as caught:  # any failure of a backend is retried, not fatal
            error = caught
        outcome = _finish(mail, error, max_attempts)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def purge_records(keep_days: int, *, now: datetime | None = None) -> int:
    """Delete the records of mails sent (or given up on) more than `keep_days` ago; how many went."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    begin_write()
    gone = db.session.execute(delete(OutboxMail).where(
        OutboxMail.status != "pending", func.coalesce(OutboxMail.sent_at, OutboxMail.failed_at) < cutoff)).rowcount
    db.session.commit()
    return gone


# --- for the health check and the privacy services --------------------------------------------------------------

def backlog(now: datetime | None = None) -> dict[str, int]:
    """Pending mails and the age in seconds of the oldest one (0 when none is waiting)."""
    count, oldest = db.session.execute(select(func.count(), func.min(OutboxMail.created_at))
                                       .where(OutboxMail.status == "pending")).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite's MIN() bypasses the column type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=(now or utcnow()).tzinfo)
    age = int(((now or utcnow()) - oldest).total_seconds()) if oldest is not None else 0
    return {"pending": int(count), "oldest_pending_seconds": max(age, 0)}


def delete_mail_of(user_id: int, email: str) -> int:
    """Delete every mail (pending or its record) for a person, by account or by address; how many."""
    return db.session.execute(delete(OutboxMail).where(
        (OutboxMail.user_id == user_id) | (OutboxMail.recipient == email))).rowcount
