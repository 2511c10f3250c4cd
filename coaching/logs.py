"""Structured event log: auth events, access denials and manager actions, one line each, no secrets."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

logger = logging.getLogger("coaching.events")


def _clean(value: Any) -> Any:
    """JSON encoding escapes newlines, so a name holding one cannot forge a second log line."""
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)[:300]


def log_event(event: str, **fields: Any) -> None:
    """Write one event line with UTC time, user and IP; callers never pass passwords or tokens."""
    record: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "event": event}
    if has_request_context():
        record["ip"] = request.remote_addr
        if current_user and current_user.is_authenticated:
            record["user_id"] = current_user.id
    record.update({key: _clean(value) for key, value in fields.items()})
    logger.info(json.dumps(record, ensure_ascii=True, sort_keys=True))
