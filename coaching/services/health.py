"""The health check: does each dependency of this app server answer?"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from ..extensions import db
from .catalog import catalog
from .mail import backlog


def database_ok() -> bool:
    """True when the database answers a trivial query (any driver error means "not healthy")."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as error:
        current_app.logger.warning("health check failed: %s", type(error).__name__)
        return False
    finally:
        db.session.rollback()


def published_course_count() -> int:
    """How many courses this server serves."""
    return len(catalog().published_courses())


def mail_backlog() -> dict[str, int]:
    """Mails waiting in the outbox and the age of the oldest (a growing age: the mail worker is not running)."""
    try:
        return backlog()
    finally:
        db.session.rollback()
