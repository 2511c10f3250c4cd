"""The health check: does each dependency of this app server answer?"""
from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from ..extensions import db, limiter
from .catalog import catalog
from .credentials import keyring
from .mail import backlog

OK = "ok"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Health:
    """Each dependency's state; `serving` is False when this server cannot do its job (answer 503)."""

    checks: dict[str, str] = field(default_factory=dict)
    courses: int | None = None

    @property
    def serving(self) -> bool:
        """The database and the signing key are required; Redis down only degrades (per-worker rate limits)."""
        return all(self.checks.get(name) == OK for name in ("database", "signing_key"))

    @property
    def status(self) -> str:
        """"ok", "degraded" (an optional dependency is down) or "error"."""
        if not self.serving:
            return "error"
        return OK if all(state in (OK, "not configured") for state in self.checks.values()) else "degraded"


def database_ok() -> bool:
    """True when the database answers a trivial query (any driver error means "not healthy")."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as error:
        current_app.logger.warning("health check: database unavailable (%s)", type(error).__name__)
        return False
    finally:
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool replaces it on the next checkout
            db.session.remove()


def redis_state() -> str:
    """"ok", "unavailable", or "not configured" when the rate limits count in memory (no REDIS_URL)."""
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    if not uri.startswith(("redis", "rediss")):
        return "not configured"
    try:
        answered = limiter.storage.check()
    except Exception as error:
        current_app.logger.warning("health check: Redis unavailable (%s)", type(error).__name__)
        return UNAVAILABLE
    if not answered:
        current_app.logger.warning("health check: Redis does not answer")
    return OK if answered else UNAVAILABLE


def signing_key_ok() -> bool:
    """True when the signing key file can be read and only its owner may read it (certificates can be signed).

    The keys are cached until the file's content changes; the file's mode is looked at on every check, so a
    `chmod 644` shows here at once (the next start would refuse it).
    """
    try:
        keyring()
        if Path(current_app.config["SIGNING_KEY_FILE"]).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            current_app.logger.warning("health check: the signing key file is readable by others")
            return False
        return True
    except Exception as error:
        current_app.logger.warning("health check: signing key unreadable (%s)", type(error).__name__)
        return False


def check() -> Health:
    """Ask every dependency; the number of served courses comes from memory and is always known."""
    checks = {
        "database": OK if database_ok() else UNAVAILABLE,
        "redis": redis_state(),
        "signing_key": OK if signing_key_ok() else UNAVAILABLE,
    }
    return Health(checks=checks, courses=len(catalog().published_courses()))


def mail_backlog() -> dict[str, int]:
    """Mails waiting in the outbox and the age of the oldest (a growing age: the mail worker is not running)."""
    try:
        return backlog()
    finally:
        db.session.rollback()
