"""Issued completion certificates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, utcnow

# A certificate whose bit is set in its status list: revoked by a manager or withdrawn by its holder.
STATUS_SET = "revoked_at IS NOT NULL OR withdrawn_at IS NOT NULL"


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
        # The set bits of the status lists: a status list reads these few entries, not every certificate.
        Index(
            "ix_certificates_status_set",
            "status_index",
            sqlite_where=text(STATUS_SET),
            postgresql_where=text(STATUS_SET),
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

    # What the signed credential states, frozen at issue time (issue 17). NULL on certificates issued before:
    # they render and verify without these facts.
    # Global Bitstring Status List index (list index // 131072, position index % 131072), from `counters`.
    status_index: Mapped[int | None] = mapped_column(Integer, unique=True)
    criteria_narrative: Mapped[str | None] = mapped_column(Text)  # what earning it took, in the cert's language
    exam_name: Mapped[str | None] = mapped_column(String(300))  # the exam lesson's title (the cert's language)
    exam_pass_mark: Mapped[float | None] = mapped_column(Float)  # percent
    exam_score: Mapped[float | None] = mapped_column(Float)  # percent: the best passing attempt
    # Approved assignments: a list of {name, task, reviewer_comment, approved_at, text, link, consent}; [] when
    # there were none (see services.evidence.EvidenceRecord).
    evidence: Mapped[list | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()
