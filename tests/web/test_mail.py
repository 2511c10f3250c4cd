"""The outbox: requests only queue mail; `flask mail worker` sends it over SMTP (a real aiosmtpd server here),
to .eml files or to the log, retries with backoff, gives up after MAIL_MAX_ATTEMPTS, purges bodies once sent,
and reports its backlog in /healthz. A deleted account's pending mail never leaves."""
from __future__ import annotations

import email
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from coaching.extensions import db
from coaching.models import OutboxMail, User, utcnow
from coaching.services import mail as mail_service
from tests.conftest import REPO, Auth
from tests.mailbox import last_mail, link_in, mails
from tests.scale.helpers import free_port


class Inbox:
    """What a real SMTP server (aiosmtpd) on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        self.messages.append(envelope)
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        """The received messages, parsed."""
        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.messages]


@pytest.fixture
def smtp_server() -> Any:
    """An SMTP server on a free port; yields (port, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def queue(app: Any, to: str = "aff@example.com", subject: str = "Hallo", body: str = "Grüße, Jörg\n",
          user_id: int | None = None) -> int:
    """Queue one mail and commit; its id."""
    with app.app_context():
        mail_service.send_mail(to, subject, body, user_id=user_id)
        db.session.commit()
        return db.session.scalar(select(OutboxMail.id).order_by(OutboxMail.id.desc()).limit(1))


def row(app: Any, mail_id: int) -> OutboxMail:
    """The outbox row, detached."""
    with app.app_context():
        found = db.session.get(OutboxMail, mail_id)
        db.session.expunge(found)
        return found


def run_worker(app: Any) -> Any:
    """One pass of `flask mail worker --once`."""
    result = app.test_cli_runner().invoke(args=["mail", "worker", "--once"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def make_due(app: Any) -> None:
    """Move every retry's time into the past."""
    with app.app_context():
        db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def test_send_mail_only_queues_and_leaves_with_the_transaction(app):
    """send_mail adds a pending row in the caller's transaction: a rollback means no mail."""
    with app.app_context():
        mail_service.send_mail("a@example.com", "One", "body")
        db.session.rollback()
    assert mails(app) == []
    queue(app, "b@example.com", "Two", "body two")
    [queued] = mails(app)
    assert (queued.to, queued.subject, queued.body, queued.status) == ("b@example.com", "Two", "body two", "pending")


def test_send_mail_refuses_header_line_breaks(app):
    """A line break in the recipient or subject would forge headers: refused."""
    with app.app_context(), pytest.raises(ValueError):
        mail_service.send_mail("a@example.com", "Hi\r\nBcc: x@evil.example", "body")


def test_worker_delivers_through_a_real_smtp_server(app_factory, smtp_server):
    """MAIL_BACKEND=smtp: the message arrives with sender, recipient, subject and UTF-8 body; the row keeps
    recipient, subject and times as the record while its body is purged."""
    port, inbox = smtp_server
    app = app_factory(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False,
                      MAIL_SENDER="academy@example.com")
    mail_id = queue(app, "joerg@example.com",
                    "Grüße", "Hallo Jörg,\nwillkommen!\n")
    assert "1 sent" in run_worker(app).output
    [message] = inbox.parsed()
    assert message["From"] == "academy@example.com" and message["To"] == "joerg@example.com"
    assert message["Subject"] == "Grüße" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content().replace("\r\n", "\n") == "Hallo Jörg,\nwillkommen!\n"
    assert inbox.messages[0].rcpt_tos == ["joerg@example.com"]
    record = row(app, mail_id)
    assert (record.status, record.body, record.attempts) == ("sent", None, 1) and record.sent_at is not None
    assert run_worker(app).output.startswith("mail: 0 sent") and len(inbox.messages) == 1  # sent once


def test_reset_mail_reaches_the_smtp_server_with_a_working_link(app_factory, smtp_server, make_user):
    """The whole way: forgot-password queues, the worker sends over SMTP, the link in the received mail works."""
    port, inbox = smtp_server
    app = app_factory(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    make_user()
    client = app.test_client()
    assert Auth(client).post("/auth/forgot", {"email": "aff@example.com"}).status_code == 302
    assert inbox.messages == []  # nothing left inside the request
    run_worker(app)
    [message] = inbox.parsed()
    assert message["Subject"] == "Reset your password"
    path = link_in(mail_service_mail(message), "/auth/reset/")
    assert client.get(path, follow_redirects=True).status_code == 200  # the token moves into the session


def mail_service_mail(message: email.message.EmailMessage) -> Any:
    """A received message in the shape tests.mailbox.link_in reads."""
    from tests.mailbox import Mail

    return Mail(0, message["To"], message["Subject"], message.get_content(), None, "sent")


def test_failed_sends_retry_with_backoff_then_give_up(app_factory, caplog):
    """No server answering: each attempt is recorded and retried later (30 s, 1 min...); after MAIL_MAX_ATTEMPTS
    the mail is marked failed, its body purged, and an error logged without the body."""
    app = app_factory(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_USE_TLS=False,
                      MAIL_MAX_ATTEMPTS=3)
    mail_id = queue(app, body="secret link http://localhost/auth/reset/TOKEN123")
    started = utcnow()
    assert "1 to retry" in run_worker(app).output
    first = row(app, mail_id)
    assert first.status == "pending" and first.attempts == 1 and "ConnectionRefusedError" in first.last_error
    assert timedelta(seconds=25) < first.next_attempt_at - started < timedelta(seconds=40)
    assert "0 sent, 0 to retry" in run_worker(app).output  # not due yet
    make_due(app)
    run_worker(app)
    second = row(app, mail_id)
    assert second.attempts == 2 and timedelta(seconds=55) < second.next_attempt_at - utcnow() < timedelta(seconds=65)
    make_due(app)
    with caplog.at_level(logging.ERROR, logger="coaching.mail"):
        assert "1 failed" in run_worker(app).output
    final = row(app, mail_id)
    assert (final.status, final.body, final.attempts) == ("failed", None, 3) and final.failed_at is not None
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "coaching.mail")
    assert "failed after 3 attempts" in logged and "TOKEN123" not in logged and "aff@example.com" not in logged


def test_backoff_doubles_up_to_an_hour():
    """30 s, 1 min, 2 min, 4 min ... never more than an hour."""
    assert [mail_service.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert mail_service.backoff(20) == timedelta(hours=1)


def test_file_backend_writes_eml_files(app_factory, tmp_path, make_user):
    """MAIL_BACKEND=file: each mail becomes instance/mail/<time>-<id>.eml (mode 0600) with its working link."""
    app = app_factory(MAIL_BACKEND="file")
    make_user()
    assert Auth(app.test_client()).post("/auth/forgot", {"email": "aff@example.com"}).status_code == 302
    run_worker(app)
    [path] = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "aff@example.com" and "/auth/reset/" in message.get_content()
    assert mails(app)[0].status == "sent" and mails(app)[0].body is None


def test_log_backend_logs_no_address_and_no_body(app_factory, caplog):
    """MAIL_BACKEND=log: one line with the recipient's hash and the subject; never the address or the body."""
    app = app_factory(MAIL_BACKEND="log")
    queue(app, "private@example.com", "Reset your password", "http://localhost/auth/reset/SECRETTOKEN")
    with caplog.at_level(logging.INFO, logger="coaching.mail"):
        run_worker(app)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "coaching.mail")
    assert mail_service.recipient_hash("private@example.com") in logged and "Reset your password" in logged
    assert "private@example.com" not in logged and "SECRETTOKEN" not in logged


def test_a_mail_is_claimed_by_one_worker_only(app):
    """Two workers reaching for the same mail: the conditional claim lets exactly one have it."""
    mail_id = queue(app)
    with app.app_context():
        now = utcnow()
        first = mail_service._claim(mail_id, now)
        second = mail_service._claim(mail_id, now)
        assert first is not None and second is None


def test_sent_records_are_purged_after_keep_days(app):
    """Records of sent mails older than MAIL_KEEP_DAYS go; pending mail and recent records stay."""
    old, recent, pending = queue(app), queue(app), queue(app)
    with app.app_context():
        db.session.execute(update(OutboxMail).where(OutboxMail.id == old).values(
            status="sent", body=None, sent_at=utcnow() - timedelta(days=31)))
        db.session.execute(update(OutboxMail).where(OutboxMail.id == recent).values(
            status="sent", body=None, sent_at=utcnow() - timedelta(days=29)))
        db.session.commit()
        assert mail_service.purge_records(30) == 1
    assert [m.id for m in mails(app)] == [recent, pending]


def test_healthz_reports_the_backlog_age(app, client):
    """/healthz says how many mails wait and how old the oldest is (a stopped worker shows as a growing age)."""
    queue(app)
    queue(app)
    with app.app_context():
        db.session.execute(update(OutboxMail).where(OutboxMail.id == 1).values(
            created_at=utcnow() - timedelta(minutes=3)))
        db.session.commit()
    backlog = client.get("/healthz").json["mail"]
    assert backlog["pending"] == 2 and 175 <= backlog["oldest_pending_seconds"] <= 200
    run_worker(app)
    assert client.get("/healthz").json["mail"] == {"pending": 0, "oldest_pending_seconds": 0}


def test_deleted_account_mail_never_leaves(app, client, auth, logged_in):
    """Deleting an account deletes its mail: pending (to its id or its address) and the records of sent ones."""
    queue(app, "aff@example.com", "Reset your password", "link", user_id=logged_in.id)
    queue(app, "aff@example.com", "Reset your password", "no account link")  # e.g. before registering
    queue(app, "other@example.com", "Hello", "stays")
    token = client.get("/auth/delete").get_data(as_text=True)
    from tests.conftest import csrf_token

    response = client.post("/auth/delete", data={"csrf_token": csrf_token(token), "password": "correct horse battery",
                                                 "certificates": "keep"})
    assert response.status_code == 303
    assert [m.to for m in mails(app)] == ["other@example.com"]


def test_export_lists_mails_without_bodies(app, client, logged_in):
    """The personal-data export names the mails sent to the person (subject, times) but never their bodies."""
    queue(app, "aff@example.com", "Reset your password", "http://localhost/auth/reset/SECRETTOKEN",
          user_id=logged_in.id)
    response = client.get("/auth/export.json")
    [listed] = response.json["mail_outbox"]
    assert listed["subject"] == "Reset your password" and listed["status"] == "pending"
    assert "SECRETTOKEN" not in response.get_data(as_text=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_worker_loop_stops_on_a_signal(tmp_path, signing_key_file, signum):
    """`flask mail worker` polls until SIGTERM or Ctrl+C (SIGINT), then exits cleanly (as `make run` needs)."""
    env = {**os.environ, "COACHING_INSTANCE": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
           "FLASK_APP": "wsgi", "MAIL_BACKEND": "log", "SECRET_KEY": "worker-test", "SIGNING_KEY_FILE":
           str(signing_key_file), "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content")}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=120)
    with subprocess.Popen([sys.executable, "-m", "flask", "mail", "worker", "--interval", "0.2"], cwd=REPO,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as worker:
        try:
            line = worker.stdout.readline()
            assert "mail worker" in line, line
            time.sleep(0.5)  # a few passes
            assert worker.poll() is None
            worker.send_signal(signum)
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()


def test_user_id_links_mail_to_the_person(app, make_user):
    """A mail to a person carries their id (so the privacy services find it)."""
    user = make_user()
    queue(app, user.email, "Hi", "x", user_id=user.id)
    assert last_mail(app).user_id == user.id
    with app.app_context():
        assert db.session.get(User, user.id) is not None


def test_worker_pass_removes_expired_registrations(app, auth):
    """What someone entered when registering is kept no longer than the link's 24 hours: the worker removes it."""
    from coaching.models import Registration

    auth.register(email="late@example.com")
    with app.app_context():
        db.session.execute(update(Registration).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    run_worker(app)
    with app.app_context():
        assert db.session.scalars(select(Registration)).all() == []
