"""Database models (SQLAlchemy 2.0 typed mappings). Business rules live in the service modules."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db

ROLES = ("affiliate", "manager")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso_utc(value: datetime | None, sep: str = "T") -> str | None:
    """A stored timestamp as ISO 8601 in UTC to the second (exports, CSV cells), or None."""
    return value.astimezone(UTC).isoformat(sep=sep, timespec="seconds") if value else None


def new_session_token() -> str:
    """A fresh per-user session token; rotating it ends every session and remember cookie."""
    return secrets.token_urlsafe(24)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Normalise to UTC before storing; naive values are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """SQLite hands back naive values: mark them as UTC."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class User(UserMixin, db.Model):
    """An affiliate or a manager."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored normalised (lower case)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="affiliate", server_default="affiliate")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    language: Mapped[str | None] = mapped_column(String(5))
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated accounts cannot sign in
        """Deactivated accounts are treated as signed out."""
        return self.active

    @property
    def is_manager(self) -> bool:
        """True for the manager role."""
        return self.role == "manager"

    def get_id(self) -> str:
        """Flask-Login's id carries the session token, so rotating the token ends old sessions."""
        return f"{self.id}:{self.session_token}"

    def end_all_sessions(self) -> None:
        """Invalidate every session and remember cookie issued so far."""
        self.session_token = new_session_token()


class PasswordReset(db.Model):
    """A single-use password reset link; only the token's hash is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invite(db.Model):
    """A single-use registration invite (when REGISTRATION=invite); only the token's hash is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CourseEnrollment(db.Model):
    """A person's journey through one course: when it started, the last activity, when it was completed."""

    __tablename__ = "course_enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    course_slug: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LessonProgress(db.Model):
    """One completed lesson of one person (per lesson, not per translation)."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_slug", "lesson_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    course_slug: Mapped[str] = mapped_column(String(100))
    lesson_slug: Mapped[str] = mapped_column(String(100))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))


class QuizAttempt(db.Model):
    """One graded quiz submission, exactly as it was graded."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "submission_id"),
        Index("ix_quiz_attempts_lookup", "user_id", "course_slug", "lesson_slug"),
        Index("ix_quiz_attempts_quiz", "course_slug", "lesson_slug", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submission_id: Mapped[str] = mapped_column(String(64))  # one per rendered form: replays are deduplicated
    course_slug: Mapped[str] = mapped_column(String(100))
    lesson_slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5))
    content_hash: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON)  # {question_id: [values]}
    results: Mapped[dict] = mapped_column(JSON)  # {question_id: correct?}
    score: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AttemptGrant(db.Model):
    """One extra quiz attempt granted by a manager beyond the lesson's max_attempts."""

    __tablename__ = "attempt_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_slug: Mapped[str] = mapped_column(String(100))
    lesson_slug: Mapped[str] = mapped_column(String(100))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certificate(db.Model):
    """An issued completion certificate: a snapshot that never changes after issuing (except its status)."""

    __tablename__ = "certificates"
    __table_args__ = (
        # At most one current certificate per person and course, enforced by the database.
        Index(
            "uq_certificates_current",
            "user_id",
            "course_slug",
            unique=True,
            sqlite_where=text("revoked_at IS NULL AND superseded_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL AND superseded_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    course_slug: Mapped[str] = mapped_column(String(100))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(300))
    certificate_title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5))
    content_fingerprint: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_role: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the holder withdrew it (deletion)

    user: Mapped[User | None] = relationship()


class AuditLog(db.Model):
    """Who did what to which object, and when. Holds ids and action names, never deleted personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


__all__ = [
    "ROLES", "User", "PasswordReset", "Invite", "CourseEnrollment", "LessonProgress", "QuizAttempt",
    "AttemptGrant", "Certificate", "AuditLog", "utcnow", "iso_utc",
]
