"""Content written in the browser: every saved version of every file (the record while browser editing is on),
one row per file pointing at its current versions, and the old addresses of renamed lessons."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, utcnow


class ContentRevision(db.Model):
    """One version of one content file, never changed once written.

    `path` is relative to the content folder (`copywriting/01-headlines.md`, `copywriting/images/x.png`).
    A published revision is what every server writes into its folder (`deleted`: the file is removed and
    archived); a draft (`published` false) lives only here. `text` holds a Markdown file, `data` an image.
    """

    __tablename__ = "content_revisions"
    __table_args__ = (
        Index("ix_content_revisions_path", "path", "id"),
        Index("ix_content_revisions_published", "published", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))
    course_slug: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="text", server_default="text")  # text or image
    action: Mapped[str] = mapped_column(String(20))  # save, restore, create, translate, rename, delete, import...
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql("false"))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql("false"))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    message: Mapped[str] = mapped_column(String(300), default="", server_default="")
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [[line, severity, message], ...] when saved
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    base_id: Mapped[int | None] = mapped_column(Integer)  # the revision the editor was opened at
    renamed_from: Mapped[str | None] = mapped_column(String(200))
    git_commit: Mapped[str | None] = mapped_column(String(64))  # set by `flask content sync`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    @property
    def errors(self) -> int:
        """How many errors (not warnings) the text had when it was saved."""
        return sum(1 for p in self.problems or [] if p[1] == "error")


class ContentDocument(db.Model):
    """One content file as the browser editor knows it: its latest revision (`head_id`, what a conflict is
    checked against), the one readers see (`published_id`) and a newer draft (`draft_id`)."""

    __tablename__ = "content_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200), unique=True)
    course_slug: Mapped[str] = mapped_column(String(100), index=True)
    head_id: Mapped[int] = mapped_column(ForeignKey("content_revisions.id"))
    published_id: Mapped[int | None] = mapped_column(ForeignKey("content_revisions.id"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("content_revisions.id"))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql("false"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonAlias(db.Model):
    """An old slug of a renamed lesson: its address redirects to the new one."""

    __tablename__ = "lesson_aliases"
    __table_args__ = (UniqueConstraint("course_slug", "old_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_slug: Mapped[str] = mapped_column(String(100))
    old_slug: Mapped[str] = mapped_column(String(100))
    new_slug: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
