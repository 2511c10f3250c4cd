"""The review queue (the waiting submissions, mine or all, oldest first) and the overview's review figures."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Coach, Review, Submission, SubmissionVersion, User, utcnow
from .db import microseconds_between
from .paging import MAX_PER_PAGE, Page, clamp_page

FIGURE_DAYS = 30
SCOPES = ("mine", "all")


@dataclass(frozen=True)
class QueueItem:
    """One submission waiting for review."""

    submission_id: int
    user_id: int
    name: str
    email: str
    course_slug: str
    lesson_slug: str
    version: int
    submitted_at: datetime
    waiting: timedelta
    coach_name: str | None
    own: bool


def _queue_conditions(manager: User, scope: str, course_slug: str) -> list[Any]:
    """WHERE of the queue: waiting, the person still exists, mine (my affiliates) or all, one course or all."""
    conditions: list[Any] = [Submission.state == "waiting", Submission.user_id.is_not(None)]
    if scope == "mine":
        conditions.append(Coach.coach_id == manager.id)
    if course_slug:
        conditions.append(Submission.course_slug == course_slug)
    return conditions


def queue(manager: User, *, scope: str = "all", course_slug: str = "", page: int = 1, per_page: int = 50,
          now: datetime | None = None) -> Page:
    """One page of the waiting submissions, oldest first (two queries on the (state, submitted_at) index)."""
    now = now or utcnow()
    scope = scope if scope in SCOPES else "all"
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    coach_user = aliased(User)
    conditions = _queue_conditions(manager, scope, course_slug)
    base = select(Submission).join(User, User.id == Submission.user_id).outerjoin(Coach, Coach.user_id == User.id)
    total = db.session.scalar(base.with_only_columns(func.count()).where(*conditions)) or 0
    page = clamp_page(page, per_page, total)
    rows = db.session.execute(
        base.with_only_columns(Submission.id, Submission.user_id, User.name, User.email, Submission.course_slug,
                               Submission.lesson_slug, Submission.versions_count, Submission.submitted_at,
                               coach_user.name)
        .outerjoin(coach_user, coach_user.id == Coach.coach_id).where(*conditions)
        .order_by(Submission.submitted_at, Submission.id).limit(per_page).offset((page - 1) * per_page)).all()
    items = [QueueItem(sid, uid, name, email, course, lesson, number, submitted, max(timedelta(0), now - submitted),
                       coach, uid == manager.id)
             for sid, uid, name, email, course, lesson, number, submitted, coach in rows]
    return Page(items, page, per_page, total)


def waiting_count() -> int:
    """How many submissions wait for review (the number in the manager navigation)."""
    return db.session.scalar(select(func.count()).select_from(Submission).where(
        Submission.state == "waiting", Submission.user_id.is_not(None))) or 0


def mine_count(manager: User) -> int:
    """How many of my affiliates' submissions wait for review."""
    return db.session.scalar(select(func.count()).select_from(Submission).join(Coach, Coach.user_id ==
                                                                                Submission.user_id)
                             .where(Submission.state == "waiting", Coach.coach_id == manager.id)) or 0


@dataclass(frozen=True)
class ReviewFigures:
    """The manager overview's review figures."""

    waiting: int
    oldest_id: int | None
    oldest_at: datetime | None
    median_first_review: timedelta | None  # over the versions reviewed in the last FIGURE_DAYS days
    reviewed: int
    days: int = FIGURE_DAYS


def review_figures(*, now: datetime | None = None, days: int = FIGURE_DAYS) -> ReviewFigures:
    """Queue length, the oldest waiting submission, and the median time from submission to its review.

    The median is found in SQL (count the reviews, then read the one or two in the middle, ordered by their
    exact wait), so the overview reads two rows however many versions were reviewed."""
    now = now or utcnow()
    oldest = db.session.execute(select(Submission.id, Submission.submitted_at).where(
        Submission.state == "waiting", Submission.user_id.is_not(None))
        .order_by(Submission.submitted_at, Submission.id).limit(1)).first()
    recent = Review.created_at >= now - timedelta(days=days)
    # Every review has its version (a NOT NULL foreign key; a version's deletion takes its review along).
    count = db.session.scalar(select(func.count()).select_from(Review).where(recent)) or 0
    reviewed = (select(SubmissionVersion.submitted_at, Review.created_at)
                .join(Review, Review.version_id == SubmissionVersion.id).where(recent))
    median = None
    if count:
        wait = microseconds_between(SubmissionVersion.submitted_at, Review.created_at)
        middle = db.session.execute(reviewed.order_by(wait, Review.id).offset((count - 1) // 2)
                                    .limit(2 - count % 2)).all()
        median = statistics.median(reviewed_at - submitted_at for submitted_at, reviewed_at in middle)
    return ReviewFigures(waiting_count(), oldest[0] if oldest else None, oldest[1] if oldest else None,
                         median, count, days)
