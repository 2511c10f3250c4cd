"""Coaching: assignment submissions with their versions and reviews, coaches, and reviewers' mail settings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, utcnow

# A submission's state (one per person and lesson):
#   draft    nothing submitted yet, or returned to "not submitted" by a manager's reset (a draft may be saved)
#   waiting  the latest version awaits review (it cannot be changed)
#   revise   the latest version needs revision (a draft of the next version may be saved)
#   approved the latest version was approved
SUBMISSION_STATES = ("draft", "waiting", "revise", "approved")
# A version's state: waiting, approved or revise once reviewed; cancelled when a reset or a deletion took it
# out of the queue before anyone reviewed it.
VERSION_STATES = ("waiting", "approved", "revise", "cancelled")
DECISIONS = ("approve", "revise")
NOTIFY_CHOICES = ("each", "daily", "off")


class Submission(db.Model):
    """One person's work on one lesson's assignment: its state, the draft being written, and its versions."""

    __tablename__ = "assignment_submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "course_slug", "lesson_slug"),
        Index("ix_assignment_submissions_queue", "state", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    course_slug: Mapped[str] = mapped_column(String(100), index=True)
    lesson_slug: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    versions_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    draft_answer: Mapped[str | None] = mapped_column(Text)
    draft_link: Mapped[str | None] = mapped_column(String(2000))
    # Consent to show the approved work on the course certificate (Open Badges evidence); off by default.
    show_on_certificate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    consent_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # of the latest version: "waiting since"
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a manager returned it to "not submitted"

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    versions: Mapped[list[SubmissionVersion]] = relationship(
        back_populates="submission", order_by="SubmissionVersion.number", cascade="all, delete-orphan",
        passive_deletes=True)


class SubmissionVersion(db.Model):
    """One submitted version, with a snapshot of the task and criteria it answered (reviewed against it)."""

    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("assignment_submissions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="waiting", server_default="waiting")
    answer: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(5))  # the lesson text answered (and the reader's interface)
    content_hash: Mapped[str] = mapped_column(String(64))
    lesson_title: Mapped[str] = mapped_column(String(300))
    task: Mapped[str] = mapped_column(Text)  # Markdown, as set
    task_html: Mapped[str] = mapped_column(Text)  # sanitized when the lesson was loaded
    criteria: Mapped[list] = mapped_column(JSON)  # [{"id", "text", "html"}]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="versions")
    review: Mapped[Review | None] = relationship(back_populates="version", uselist=False)


class Review(db.Model):
    """The one review of one version: per criterion met or not with a comment, an overall comment, a decision."""

    __tablename__ = "submission_reviews"
    # The reviews of the last days with their versions (the overview's median time to review), from the index.
    __table_args__ = (Index("ix_submission_reviews_recent", "created_at", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a version is reviewed exactly once, whoever clicks first (the database decides).
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id", ondelete="CASCADE"), unique=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    criteria: Mapped[dict] = mapped_column(JSON)  # {criterion id: {"met": bool, "comment": str}}
    met: Mapped[int] = mapped_column(Integer)  # criteria met (kept for the figures when texts are erased)
    total: Mapped[int] = mapped_column(Integer)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[SubmissionVersion] = relationship(back_populates="review")
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])


class Coach(db.Model):
    """The manager who coaches an affiliate: their submissions are "mine" in that manager's queue."""

    __tablename__ = "coach_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coach: Mapped[User] = relationship(foreign_keys=[coach_id])


class ReviewSettings(db.Model):
    """A manager's choice of review mail: each submission, a daily digest, or none (no row: each)."""

    __tablename__ = "review_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    notify: Mapped[str] = mapped_column(String(10), default="each", server_default="each")
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
