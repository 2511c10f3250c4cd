"""Logging: one JSON object per line for every record, and the structured event log (no secrets, no emails).

Every record - the app's, Flask's, coaching.events, Flask-Limiter's, gunicorn's error and access logs -
goes through one handler on the root logger with `JsonFormatter`, so each line parses as JSON; a traceback
is one string field, never extra lines. gunicorn installs the handler itself (`logconfig_dict` in
gunicorn.conf.py); `configure_logging` installs it for `flask run` and the `flask` commands.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, has_request_context, request
from flask.logging import default_handler
from flask_login import current_user

logger = logging.getLogger("coaching.events")

# Secrets that travel in URLs: the password-reset token in the path, invitation tokens in the query string.
_URL_SECRETS = (
    (re.compile(r"(/auth/reset/)[^\s/?#\"']+"), r"\1[redacted]"),
    (re.compile(r"([?&]invite=)[^\s&#\"']+"), r"\1[redacted]"),
)
# Loggers whose messages are request lines (URLs as the client sent them).
_REQUEST_LINE_LOGGERS = ("werkzeug", "gunicorn.access")


def redact_url(text: str) -> str:
    """The text with secrets in URLs (reset and invitation tokens) replaced by [redacted]."""
    for pattern, replacement in _URL_SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a gunicorn access line: no query string, the path without secrets, no user agent."""

    def atom(name: str) -> Any:
        value = atoms.get(name, "-")
        return None if value in ("-", None) else value

    status = atom("s")
    return {
        "event": "request",
        "ip": atom("h"),
        "method": atom("m"),
        "path": redact_url(str(atom("U") or "")),
        "status": int(status) if str(status or "").isdigit() else status,
        "bytes": int(atom("B") or 0) if str(atom("B") or "0").isdigit() else None,
        "duration_ms": int(atom("M")) if str(atom("M") or "").isdigit() else None,
    }


class JsonFormatter(logging.Formatter):
    """Format any log record as one line of JSON: time, level, logger, message or event fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object; newlines inside values are escaped by the encoder, so it stays one line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, "event_fields", None)
        if isinstance(fields, Mapping):
            entry.update({key: value for key, value in fields.items() if key not in ("level", "logger")})
        elif record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            entry.update(_access_fields(record.args))
        else:
            message = record.getMessage()
            entry["message"] = redact_url(message) if record.name.startswith(_REQUEST_LINE_LOGGERS) else message
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner swaps it between tests)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        """The current sys.stderr."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignored: the stream is always the current sys.stderr."""


def json_handler(stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (the current stderr by default) writing JSON lines."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter())
    return handler


def _has_json_handler(target: logging.Logger) -> bool:
    """True when the logger already writes JSON lines (gunicorn's logconfig_dict installs one on root)."""
    return any(isinstance(handler.formatter, JsonFormatter) for handler in target.handlers)


def configure_logging(app: Flask) -> None:
    """Send every record through one JSON handler on the root logger; INFO for the app's own loggers.

    Tests leave the root logger to pytest (caplog); they check the formatter and a real gunicorn separately.
    """
    logging.getLogger("coaching").setLevel(logging.DEBUG if app.debug else logging.INFO)
    if app.testing:
        return
    # Flask's own handler on app.logger would print a second, non-JSON copy of every app record.
    app.logger.removeHandler(default_handler)
    root = logging.getLogger()
    if not _has_json_handler(root):
        root.addHandler(json_handler())


def _clean(value: Any) -> Any:
    """JSON encoding escapes newlines, so a name holding one cannot forge a second log line; URLs lose tokens."""
    return value if isinstance(value, (int, float, bool)) or value is None else redact_url(str(value))[:300]


def log_event(event: str, **fields: Any) -> None:
    """Write one event line with UTC time, user and IP; callers never pass passwords, tokens or emails."""
    record: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "event": event}
    if has_request_context():
        record["ip"] = request.remote_addr
        if current_user and current_user.is_authenticated:
            record["user_id"] = current_user.id
    record.update({key: _clean(value) for key, value in fields.items()})
    logger.info(json.dumps(record, ensure_ascii=True, sort_keys=True), extra={"event_fields": record})
