"""Lesson completion and course status: what a person has done, and the reading activity of a course."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..content import Course, Lesson
from ..extensions import db
from ..models import CourseEnrollment, LessonProgress, User, utcnow
from .certificates import issue_certificate
from .db import begin_write, insert_ignore
from .evidence import approved_work

ACTIVITY_RESOLUTION = timedelta(minutes=5)  # reading a lesson refreshes "last activity" at most this often


@dataclass(frozen=True)
class CourseStatus:
    """A person's progress in one course, counted over the lessons that exist now."""

    done: frozenset[str]
    total: int
    percent: int
    next_lesson: Lesson | None
    started_at: datetime | None
    last_activity_at: datetime | None
    completed: bool

    @property
    def started(self) -> bool:
        """True once the person opened a lesson or completed one."""
        return self.started_at is not None or bool(self.done)


# Built once (every lesson and course page asks them; building an expression cost more than running it).
# Core table columns: ORM attributes would add the ORM's compile and result work to every page view.
_P, _E = LessonProgress.__table__.c, CourseEnrollment.__table__.c
_COMPLETED = select(_P.lesson_slug).where(
    _P.user_id == bindparam("user_id"), _P.course_slug == bindparam("course_slug"))
_ENROLLMENT = select(_E.started_at, _E.last_activity_at).where(
    _E.user_id == bindparam("user_id"), _E.course_slug == bindparam("course_slug"))


def completed_slugs(user_id: int, course_slug: str) -> set[str]:
    """Slugs of the lessons this person completed in a course (including lessons that no longer exist)."""
    return set(db.session.scalars(_COMPLETED, {"user_id": user_id, "course_slug": course_slug}))


def _status(course: Course, done_all: set[str], enrollment: Any) -> CourseStatus:
    """Build a CourseStatus from completed slugs and the enrollment row."""
    existing = [lesson.slug for lesson in course.lessons]
    done = frozenset(slug for slug in existing if slug in done_all)
    total = len(existing)
    percent = (100 * len(done)) // total if total else 0
    next_lesson = next((lesson for lesson in course.lessons if lesson.slug not in done), None)
    return CourseStatus(done=done, total=total, percent=percent, next_lesson=next_lesson,
                        started_at=enrollment.started_at if enrollment else None,
                        last_activity_at=enrollment.last_activity_at if enrollment else None,
                        completed=total > 0 and len(done) == total)


def course_status(user_id: int, course: Course) -> CourseStatus:
    """One person's progress in one course (two small queries)."""
    values = {"user_id": user_id, "course_slug": course.slug}
    enrollment = db.session.execute(_ENROLLMENT, values).first()
    return _status(course, set(db.session.scalars(_COMPLETED, values)), enrollment)


def statuses_for(user_id: int, courses: Sequence[Course]) -> dict[str, CourseStatus]:
    """Progress in several courses with two queries (catalog and dashboard)."""
    done: dict[str, set[str]] = {}
    for course_slug, lesson_slug in db.session.execute(
            select(LessonProgress.course_slug, LessonProgress.lesson_slug).where(LessonProgress.user_id == user_id)):
        done.setdefault(course_slug, set()).add(lesson_slug)
    enrollments = {e.course_slug: e for e in db.session.scalars(
        select(CourseEnrollment).where(CourseEnrollment.user_id == user_id))}
    return {c.slug: _status(c, done.get(c.slug, set()), enrollments.get(c.slug)) for c in courses}


@lru_cache(maxsize=2)
def _activity_statements(dialect: str) -> tuple[Any, Any]:
    """Built once per database: start the enrollment or move its last activity forward (one upsert); move the
    person's "last seen" when it is older than the resolution. Values are bound at execution."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CourseEnrollment.__table__
    enroll = insert(table)
    enroll = enroll.on_conflict_do_update(
        index_elements=["user_id", "course_slug"], set_={"last_activity_at": enroll.excluded.last_activity_at},
        where=table.c.last_activity_at < enroll.excluded.last_activity_at)
    users = User.__table__  # the table, not the class: no ORM bulk-update bookkeeping on every submission
    seen = update(users).where(users.c.id == bindparam("uid"), or_(
        users.c.last_seen_at.is_(None), users.c.last_seen_at < bindparam("seen_before"))).values(
        last_seen_at=bindparam("now"))
    return enroll, seen


def record_activity(user: User, course_slug: str, *, now: datetime | None = None) -> None:
    """Note that a person is working on a course: starts the enrollment once, then moves last activity (one
    statement), and the person's "last seen" when it is older than the activity resolution."""
    now = now or utcnow()
    enroll, seen = _activity_statements(db.session.get_bind().dialect.name)
    db.session.execute(enroll, {"user_id": user.id, "course_slug": course_slug, "started_at": now,
                                "last_activity_at": now})
    db.session.execute(seen, {"uid": user.id, "seen_before": now - ACTIVITY_RESOLUTION, "now": now})


def note_reading(user: User, course: Course, status: CourseStatus, *, now: datetime | None = None) -> bool:
    """Record that a lesson of the course is being read, at most every few minutes; True when it wrote.

    A GET that writes: the write gets its own transaction with SQLite's write lock taken first.
    """
    now = now or utcnow()
    if status.last_activity_at is not None and now - status.last_activity_at < ACTIVITY_RESOLUTION:
        return False
    begin_write()
    record_activity(user, course.slug, now=now)
    return True


def mark_complete(user: User, course: Course, lesson: Lesson, content_hash: str, language: str) -> bool:
    """Record a completed lesson once (idempotent); completing the last one issues the certificate.

    `language` is the reader's, for the certificate. True when this call recorded the completion. The course
    is looked at only when this completion can finish it (every current lesson done); the certificate service
    then issues one unless a valid one exists (after expiry or revocation a completion issues a new one).
    """
    now = utcnow()
    inserted = insert_ignore(LessonProgress, {"user_id": user.id, "course_slug": course.slug,
                                              "lesson_slug": lesson.slug, "content_hash": content_hash,
                                              "completed_at": now},
                             conflict=["user_id", "course_slug", "lesson_slug"])
    record_activity(user, course.slug, now=now)
    if course_completed(user.id, course):
        db.session.execute(update(CourseEnrollment).where(
            CourseEnrollment.user_id == user.id, CourseEnrollment.course_slug == course.slug,
            CourseEnrollment.completed_at.is_(None)).values(completed_at=now))
        lang = language if language in course.texts else course.language
        issue_certificate(user, course, language, evidence=lambda: approved_work(user.id, course, lang))
    return inserted


def course_completed(user_id: int, course: Course) -> bool:
    """True when every lesson the course has now is done (one count query)."""
    slugs = [lesson.slug for lesson in course.lessons]
    done = db.session.scalar(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.course_slug == course.slug,
        LessonProgress.lesson_slug.in_(slugs))) or 0
    return bool(slugs) and done == len(slugs)


def reset_lesson(user_id: int, course_slug: str, lesson_slug: str) -> None:
    """Forget a lesson's completion (manager action); attempts stay as history."""
    db.session.execute(LessonProgress.__table__.delete().where(
        LessonProgress.user_id == user_id, LessonProgress.course_slug == course_slug,
        LessonProgress.lesson_slug == lesson_slug))
    db.session.execute(update(CourseEnrollment).where(
        CourseEnrollment.user_id == user_id, CourseEnrollment.course_slug == course_slug).values(completed_at=None))
