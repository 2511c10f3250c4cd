"""Who coaches whom (each affiliate may have one manager as coach) and which review mails each manager wants."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ..extensions import db
from ..models import NOTIFY_CHOICES, Coach, ReviewSettings, User, utcnow
from . import review_mail
from .audit import record


class ActionError(ValueError):
    """A coach or mail-setting change a rule forbids: not_manager, self_coach, no_people, notify."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def active_managers() -> list[User]:
    """Every active manager, by name."""
    return list(db.session.scalars(select(User).where(User.role == "manager", User.active.is_(True))
                                   .order_by(User.name, User.id)))


def coach_of(user_id: int) -> User | None:
    """The person's coach (whatever their state now), or None."""
    return db.session.scalar(select(User).join(Coach, Coach.coach_id == User.id).where(Coach.user_id == user_id))


def set_coach(actor: User, user: User, coach: User | None) -> bool:
    """Make `coach` (an active manager, not the person) the person's coach, or remove the coach; False when
    nothing changed. Refused: not_manager, self_coach."""
    if coach is not None:
        if coach.role != "manager" or not coach.active:
            raise ActionError("not_manager")
        if coach.id == user.id:
            raise ActionError("self_coach")
    current = db.session.scalar(select(Coach).where(Coach.user_id == user.id))
    if (current.coach_id if current else None) == (coach.id if coach else None):
        return False
    if coach is None:
        db.session.delete(current)
    elif current is None:
        db.session.add(Coach(user_id=user.id, coach_id=coach.id))
    else:
        current.coach_id, current.assigned_at = coach.id, utcnow()
    db.session.flush()
    record(actor, "coach_set" if coach else "coach_removed", "user", user.id,
           coach_id=coach.id if coach else None)
    return True


def set_coach_bulk(actor: User, user_ids: Sequence[int], coach: User | None) -> int:
    """Set (or remove) the coach of several people at once; returns how many changed. Unknown ids are skipped."""
    people = list(db.session.scalars(select(User).where(User.id.in_(list(user_ids)))))
    if not people:
        raise ActionError("no_people")
    return sum(1 for person in people if (coach is None or person.id != coach.id) and set_coach(actor, person, coach))


def notify_setting(user_id: int) -> str:
    """A manager's review mail choice: each (the default), daily or off."""
    return review_mail.notify_choice(user_id)


def set_notify(user: User, choice: str) -> None:
    """Store a manager's review mail choice (each, daily, off)."""
    if choice not in NOTIFY_CHOICES:
        raise ActionError("notify")
    row = db.session.scalar(select(ReviewSettings).where(ReviewSettings.user_id == user.id))
    if row is None:
        db.session.add(ReviewSettings(user_id=user.id, notify=choice, last_digest_at=utcnow()))
    else:
        row.notify = choice
    db.session.flush()
