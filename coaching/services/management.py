"""Manager actions on people, certificates, invites and content: each one checks its rules, changes state,
writes the audit log, and flushes; the view commits.

The rules that protect the platform live here, not in the views: nobody demotes or deactivates
themselves, and the last active manager always stays.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ..content import Course, Lesson
from ..extensions import db
from ..models import ROLES, Certificate, Invite, User, utcnow
from . import accounts, certificates, coaching, progress, quizzes
from .audit import record


class ActionRefused(Exception):
    """An action a rule forbids; the code (self, last_manager, no_quiz, unlimited, inactive...) names the rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _lock_active_managers() -> int:
    """Lock the active managers' rows (PostgreSQL; SQLite holds the write lock) and count them."""
    ids = db.session.scalars(select(User.id).where(User.role == "manager", User.active.is_(True))
                             .with_for_update()).all()
    return len(ids)


def _guard_manager_change(actor: User, user: User) -> None:
    """Refuse changes to oneself and to the last active manager."""
    if actor.id == user.id:
        raise ActionRefused("self")
    if user.role == "manager" and user.active and _lock_active_managers() <= 1:
        raise ActionRefused("last_manager")


def grant_attempt(actor: User, user: User, course: Course, lesson: Lesson) -> None:
    """Allow one more attempt at a lesson's quiz."""
    quiz = lesson.texts[lesson.language].quiz
    if quiz is None:
        raise ActionRefused("no_quiz")
    if quiz.max_attempts is None:
        raise ActionRefused("unlimited")
    if quizzes.key_seen(user.id, course.slug, lesson.slug, quiz):
        raise ActionRefused("key_seen")
    quizzes.grant_attempt(user.id, course.slug, lesson.slug, actor)
    record(actor, "attempt_granted", "user", user.id, course=course.slug, lesson=lesson.slug)


def reset_lesson(actor: User, user: User, course: Course, lesson: Lesson) -> bool:
    """Forget a lesson's completion (attempts stay as history); its assignment returns to "not submitted" and
    the affiliate is told. True when an assignment was reset too."""
    progress.reset_lesson(user.id, course.slug, lesson.slug)
    assignment = coaching.reset(user.id, course.slug, lesson.slug)
    record(actor, "lesson_reset", "user", user.id, course=course.slug, lesson=lesson.slug,
           **({"assignment": True} if assignment else {}))
    return assignment


def set_active(actor: User, user: User, active: bool) -> bool:
    """Deactivate (ending every session) or reactivate an account; False when nothing changed."""
    if user.active == active:
        return False
    if not active:
        _guard_manager_change(actor, user)
        user.end_all_sessions()
    user.active = active
    db.session.flush()
    record(actor, "user_reactivated" if active else "user_deactivated", "user", user.id)
    return True


def change_role(actor: User, user: User, role: str) -> bool:
    """Make someone an affiliate or a manager; False when the role was already set."""
    if role not in ROLES:
        raise ActionRefused("role")
    if user.role == role:
        return False
    if role != "manager":
        _guard_manager_change(actor, user)
    elif actor.id == user.id:
        raise ActionRefused("self")
    old, user.role = user.role, role
    user.end_all_sessions()  # permissions changed: sign in again with the new role
    db.session.flush()
    record(actor, "role_changed", "user", user.id, old=old, new=role)
    return True


def revoke_certificate(actor: User, cert: Certificate, reason: str) -> bool:
    """Revoke a certificate with a reason; False (and no audit row) when it was already revoked."""
    if not certificates.revoke(cert, reason):
        return False
    record(actor, "certificate_revoked", "certificate", cert.id, user_id=cert.user_id, reason=reason.strip())
    return True


def password_reset_link(actor: User, user: User) -> str:
    """A single-use reset token for an active affiliate (the link is shown once, never stored or logged)."""
    if user.role != "affiliate":
        raise ActionRefused("not_affiliate")
    if not user.active:
        raise ActionRefused("inactive")
    token = accounts.create_password_reset(user)
    record(actor, "password_reset_link_created", "user", user.id)
    return token


def create_invite(actor: User, email: str | None) -> tuple[Invite, str]:
    """A single-use invite, optionally bound to an email; returns it and its token (shown once)."""
    invite, token = accounts.create_invite(created_by=actor, email=email or None)
    record(actor, "invite_created", "invite", invite.id, email=invite.email or "")
    return invite, token


def withdraw_invite(actor: User, invite: Invite) -> bool:
    """Withdraw an unused invite; False when it was already used or withdrawn."""
    changed = db.session.execute(update(Invite).where(
        Invite.id == invite.id, Invite.used_at.is_(None), Invite.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())).rowcount
    db.session.refresh(invite)
    if changed != 1:
        return False
    record(actor, "invite_withdrawn", "invite", invite.id)
    return True


def reload_content(actor: User, store: Any) -> Any:
    """Reload the content tree now and note who did it; returns the new catalog."""
    catalog = store.reload(force=True)
    errors = sum(1 for e in catalog.errors if e.severity == "error")
    record(actor, "content_reloaded", "content", None, errors=errors, courses=len(catalog.courses))
    return catalog

