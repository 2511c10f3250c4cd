"""Logging: one JSON object per line for every record, and the structured event log (no secrets, no emails).

Every record - the app's, Flask's, coaching.events, Flask-Limiter's, gunicorn's error and access logs -
goes through one handler on the root logger with `JsonFormatter`, so each line parses as JSON; a traceback
is one string field, never extra lines (the formatter is in logformat.py). gunicorn installs the handler itself
(`logconfig_dict` in gunicorn.conf.py); `configure_logging` installs it for `flask run` and the `flask` commands.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, has_request_context, request
from flask.logging import default_handler
from flask_login import current_user

from .logformat import JsonFormatter, redact_url

__all__ = ["JsonFormatter", "configure_logging", "json_handler", "log_event", "redact_url"]

logger = logging.getLogger("coaching.events")


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
    return any(getattr(handler.formatter, "coaching_json", False) for handler in target.handlers)


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
