"""Invites with their computed status and the people involved."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Invite, User, utcnow
from ..paging import Page, clamp_page


@dataclass(frozen=True)
class InviteView:
    """An invite with its computed status and the name of who used it."""

    invite: Invite
    status: str
    used_by: str | None
    created_by: str | None


def invite_status(invite: Invite, now: datetime | None = None) -> str:
    """open, used, expired or withdrawn."""
    if invite.withdrawn_at:
        return "withdrawn"
    if invite.used_at:
        return "used"
    if invite.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


def invites_page(*, page: int = 1, per_page: int = 50, now: datetime | None = None) -> Page:
    """A page of invites, newest first, with status and the people involved."""
    now = now or utcnow()
    total = db.session.scalar(select(func.count()).select_from(Invite)) or 0
    page = clamp_page(page, per_page, total)
    used_by, created_by = aliased(User), aliased(User)
    rows = db.session.execute(
        select(Invite, used_by.name, created_by.name).outerjoin(used_by, used_by.id == Invite.used_by_id)
        .outerjoin(created_by, created_by.id == Invite.created_by_id)
        .order_by(Invite.created_at.desc(), Invite.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return Page([InviteView(inv, invite_status(inv, now), used, made) for inv, used, made in rows], page, per_page,
                total)
