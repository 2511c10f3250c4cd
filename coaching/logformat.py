"""One JSON object per log line: the formatter every handler of the app and of gunicorn uses. Standard library only.

gunicorn.conf.py loads this file by its path into the master process (for `logconfig_dict`), so it must not
import Flask or the `coaching` package: the master would keep that code across `systemctl reload`.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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

    coaching_json = True  # recognised by configure_logging, also on a copy loaded by path (gunicorn's master)

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
