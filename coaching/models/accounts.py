"""People and their access: users, password resets, invites."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

ROLES = ("affiliate", "manager")


def new_session_token() -> str:
    """A fresh per-user session token; rotating it ends every session and remember cookie."""
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """An affiliate or a manager."""

    __tablename__ = "users"
    __table_args__ = (
        # Lists in name order (people, the progress matrix) walk these instead of sorting everyone.
        Index("ix_users_name", "name", "id"),
        Index("ix_users_role_name", "role", "name", "id"),
    )

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
