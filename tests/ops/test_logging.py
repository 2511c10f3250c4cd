"""Logs: one JSON object per line for every record, once each, with no email, no reset or invite token."""
from __future__ import annotations

import json
import logging
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from coaching.logs import JsonFormatter, redact_url
from tests.conftest import backend
from tests.scale.helpers import Browser, Server, app_for, create_users, hidden_value


def record(name: str, message: str, args: Any = None, exc_info: Any = None, **extra: Any) -> logging.LogRecord:
    """A log record as a logger would make it."""
    made = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_formatter_gives_one_json_line_with_the_traceback_inside() -> None:
    """A record with a multi-line message and a traceback is one line of JSON carrying both."""
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(record("coaching", "Unhandled exception on %s", ("/x\ny",), exc_info))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "Unhandled exception on /x\ny" and entry["exc_type"] == "ValueError"
    assert "Traceback (most recent call last)" in entry["traceback"] and "second line" in entry["traceback"]
    assert entry["level"] == "INFO" and entry["logger"] == "coaching" and entry["time"].endswith("+00:00")


def test_formatter_merges_event_fields() -> None:
    """An event line is the event's own JSON object plus level and logger (not JSON inside a string)."""
    fields = {"event": "login_failed", "user_id": 3, "time": "2026-01-01T00:00:00+00:00"}
    entry = json.loads(JsonFormatter().format(record("coaching.events", json.dumps(fields), event_fields=fields)))
    assert entry == {**fields, "level": "INFO", "logger": "coaching.events"}


def test_access_lines_drop_query_and_reset_tokens() -> None:
    """gunicorn access records: the path with the reset token redacted, no query string, no user agent."""
    atoms = {"h": "10.0.0.1", "m": "GET", "U": "/auth/reset/s3cr3t-token", "q": "invite=abc", "s": "303",
             "B": "189", "M": "12", "a": "Mozilla/5.0", "r": "GET /auth/reset/s3cr3t-token?invite=abc HTTP/1.1"}
    line = JsonFormatter().format(record("gunicorn.access", "%(r)s", (atoms,)))
    entry = json.loads(line)
    assert entry["path"] == "/auth/reset/[redacted]" and entry["status"] == 303 and entry["duration_ms"] == 12
    assert "s3cr3t" not in line and "invite" not in line and "Mozilla" not in line


def test_request_lines_of_the_development_server_lose_tokens() -> None:
    """werkzeug's request lines (flask run) have reset and invite tokens redacted."""
    message = '127.0.0.1 - - "GET /auth/reset/s3cr3t HTTP/1.1" 303 - and "GET /auth/register?invite=t0k3n&x=1"'
    line = JsonFormatter().format(record("werkzeug", message))
    assert "s3cr3t" not in line and "t0k3n" not in line and "/auth/reset/[redacted]" in line
    assert redact_url("/auth/register?invite=abc") == "/auth/register?invite=[redacted]"


# --- a real gunicorn ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logged_server(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[Server]:
    """gunicorn (gunicorn.conf.py's JSON logging) with access lines on, 1 worker, on a SQLite file."""
    if backend() == "postgresql":
        pytest.skip("runs in the SQLite pass: the log format does not depend on the database")
    root = tmp_path_factory.mktemp("logs")
    live = Server(root=root, database_url=f"sqlite:///{root / 'app.db'}", workers=1, threads=2,
                  extra_env={"GUNICORN_ACCESS_LOG": "-"})
    live.prepare(signing_key_file)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed as JSON (fails on the first line that is not one JSON object)."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"line {number} is not JSON: {line!r}") from None
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


def test_gunicorn_log_is_pure_json_without_personal_data(logged_server: Server, tmp_path: Path) -> None:
    """Through a real gunicorn: logins, a reset link, an invite for an email and an unhandled SQL error log
    only JSON lines, each event once, and no email, reset token or invite token anywhere."""
    app = app_for(logged_server.database_url, logged_server.root)
    manager = create_users(app, 1, role="manager")[0]
    affiliate = create_users(app, 1)[0]
    browser = Browser(logged_server.base)
    browser.login(manager["email"])
    page = browser.get("/manage/invites").body
    invited = "invited.person@example.com"
    created = browser.post("/manage/invites", [("csrf_token", hidden_value(page, "csrf_token")), ("email", invited)])
    assert created.status == 200
    invite_token = re.search(r"invite=([\w-]+)", created.body).group(1)
    assert Browser(logged_server.base).get(f"/auth/register?invite={invite_token}").status == 200

    link = logged_server.flask("users", "reset-link", affiliate["email"]).stdout.strip()
    reset_token = link.rsplit("/", 1)[1]
    reader = Browser(logged_server.base)
    opened = reader.get(urlsplit(link).path)
    assert opened.status == 303 and opened.location == "/auth/reset"

    stranger = Browser(logged_server.base)
    token = hidden_value(stranger.get("/auth/login").body, "csrf_token")
    assert stranger.post("/auth/login", [("csrf_token", token), ("email", affiliate["email"]),
                                         ("password", "wrong password 1")]).status == 400

    # An unhandled error whose SQL statement had the email as a parameter: rename the users table away.
    database = logged_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        conn.execute("ALTER TABLE users RENAME TO users_away")
    try:
        token = hidden_value(stranger.get("/auth/login").body, "csrf_token")
        failed = stranger.post("/auth/login", [("csrf_token", token), ("email", affiliate["email"]),
                                               ("password", "wrong password 2")])
        assert failed.status == 500 and "Traceback" not in failed.body
    finally:
        with sqlite3.connect(database) as conn:
            conn.execute("ALTER TABLE users_away RENAME TO users")

    time.sleep(0.5)  # let the worker flush its last lines
    text = logged_server.log_text()
    entries = json_lines(text)
    for secret in (invited, affiliate["email"], manager["email"], reset_token, invite_token):
        assert secret not in text, f"{secret!r} is in the log"
    events = [e.get("event") for e in entries]
    assert events.count("login_failed") == 1 and events.count("manage.invite_created") == 1
    invite_line = next(e for e in entries if e.get("event") == "manage.invite_created")
    assert invite_line["detail_email_given"] is True and "detail_email" not in invite_line
    errors = [e for e in entries if e.get("level") == "ERROR"]
    assert len(errors) == 1 and errors[0]["exc_type"] == "OperationalError"
    assert "[SQL parameters hidden" in errors[0]["traceback"] and "users.email" in errors[0]["traceback"]
    paths = [e["path"] for e in entries if e.get("event") == "request"]
    assert "/auth/reset/[redacted]" in paths and "/auth/register" in paths and all("?" not in p for p in paths)
