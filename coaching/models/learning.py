"""What people did: course enrollments, completed lessons, quiz attempts, extra attempts granted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


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
    __table_args__ = (
        UniqueConstraint("user_id", "course_slug", "lesson_slug"),
        # Lessons done per person in a course (the matrix sorted by progress), read from the index alone.
        Index("ix_lesson_progress_course_user", "course_slug", "user_id", "lesson_slug"),
        # Completions per lesson (the overview's drop-off), read from the index alone.
        Index("ix_lesson_progress_lesson", "course_slug", "lesson_slug"),
    )

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
        Index("ix_quiz_attempts_version", "course_slug", "lesson_slug", "quiz_version"),
        # Failed attempts per quiz (the overview's most failed quizzes): only the failed ones are in it, and
        # `passed` too, so that SQLite reads it without the table.
        Index("ix_quiz_attempts_failed", "course_slug", "lesson_slug", "passed", sqlite_where=text("passed = 0"),
              postgresql_where=text("passed = false")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submission_id: Mapped[str] = mapped_column(String(64))  # one per rendered form: replays are deduplicated
    course_slug: Mapped[str] = mapped_column(String(100))
    lesson_slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5))
    content_hash: Mapped[str] = mapped_column(String(64))  # the lesson file as it was (history only)
    # What the quiz meant (content.Quiz.version: questions, key, settings); NULL for attempts made before it
    # was recorded, which then match their quiz by content_hash.
    quiz_version: Mapped[str | None] = mapped_column(String(64))
    # The option order this person was shown, {question_id: [option ids]}; NULL: the author's order.
    option_orders: Mapped[dict | None] = mapped_column(JSON)
    # max_attempts in force when the attempt was made (0: unlimited; NULL: made before it was recorded).
    attempt_limit: Mapped[int | None] = mapped_column(Integer)
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
