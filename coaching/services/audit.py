"""The audit log: who did what to which object, and when. Written by every manager action.

`record` adds and flushes a row and writes the same event to the structured log; the caller commits.
Rows hold ids, action names and short details, never passwords, tokens or links.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..logs import log_event
from ..models import AuditLog, User
from .paging import Page, page_of

MAX_DETAIL_LENGTH = 300
# Details the audit page may show a manager but the log must not carry (logs travel further: journald,
# log shippers, support tickets). The log line says only whether the value was set.
PERSONAL_DETAILS = frozenset({"email", "name"})


def _detail_value(value: Any) -> Any:
    """Keep JSON-friendly scalars; everything else becomes a short string."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)[:MAX_DETAIL_LENGTH]


def record(actor: User | None, action: str, target_type: str | None, target_id: Any, **detail: Any) -> AuditLog:
    """Add one audit row (and one event log line) for a manager action."""
    clean = {key: _detail_value(value) for key, value in detail.items()}
    entry = AuditLog(actor_id=actor.id if actor is not None else None, action=action[:60],
                     target_type=target_type, target_id=None if target_id is None else str(target_id)[:60],
                     detail=clean)
    db.session.add(entry)
    db.session.flush()
    logged = {f"detail_{key}": value for key, value in clean.items() if key not in PERSONAL_DETAILS}
    logged.update({f"detail_{key}_given": bool(clean[key]) for key in PERSONAL_DETAILS & clean.keys()})
    log_event(f"manage.{action}", actor_id=entry.actor_id, target_type=target_type, target_id=entry.target_id,
              **logged)
    return entry


def entries(*, page: int = 1, per_page: int = 50, target_type: str | None = None,
            target_id: Any = None) -> Page:
    """A page of audit rows, newest first, optionally for one target."""
    query = select(AuditLog).options(joinedload(AuditLog.actor)).order_by(AuditLog.created_at.desc(),
                                                                          AuditLog.id.desc())
    if target_type is not None:
        query = query.where(AuditLog.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditLog.target_id == str(target_id))
    return page_of(query, page=page, per_page=per_page)


def recent_for(target_type: str, target_id: Any, limit: int = 20) -> list[AuditLog]:
    """The latest audit rows about one object (for its detail page)."""
    return list(db.session.scalars(
        select(AuditLog).options(joinedload(AuditLog.actor))
        .where(AuditLog.target_type == target_type, AuditLog.target_id == str(target_id))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit)))
