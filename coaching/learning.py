"""Learning services: catalog access, progress, course status, quiz attempts.

Plain functions with explicit arguments; they add and flush, the caller commits.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from flask import current_app
from sqlalchemy import case, func, select, update

from .content import Catalog, Course, Lesson, LessonText, Question, Quiz, grade
from .dbutil import begin_write, insert_ignore, lock_row
from .extensions import db
from .models import AttemptGrant, CourseEnrollment, LessonProgress, QuizAttempt, User, utcnow

MAX_TEXT_ANSWER = 500
ACTIVITY_RESOLUTION = timedelta(minutes=5)  # reading a lesson refreshes "last activity" at most this often
REPLAY_WINDOW = timedelta(minutes=30)  # identical answers sent again this soon are the same submission


def catalog() -> Catalog:
    """The current content catalog of this process (reloaded when the files change)."""
    return current_app.extensions["coaching.content"].catalog


def visible_courses(user: Any) -> list[Course]:
    """Courses a person may see: published ones, and drafts too for managers."""
    cat = catalog()
    if getattr(user, "is_authenticated", False) and user.is_manager:
        return list(cat.courses)
    return list(cat.published_courses())


def find_course(slug: str, user: Any, cat: Catalog | None = None) -> Course | None:
    """The course with this slug if this person may see it, else None (in `cat`, by default the current one)."""
    course = (cat or catalog()).course(slug)
    if course is None:
        return None
    if not course.published and not (getattr(user, "is_authenticated", False) and user.is_manager):
        return None
    return course


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


def completed_slugs(user_id: int, course_slug: str) -> set[str]:
    """Slugs of the lessons this person completed in a course (including lessons that no longer exist)."""
    rows = db.session.scalars(select(LessonProgress.lesson_slug).where(
        LessonProgress.user_id == user_id, LessonProgress.course_slug == course_slug))
    return set(rows)


def _status(course: Course, done_all: set[str], enrollment: CourseEnrollment | None) -> CourseStatus:
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
    """One person's progress in one course."""
    enrollment = db.session.scalar(select(CourseEnrollment).where(
        CourseEnrollment.user_id == user_id, CourseEnrollment.course_slug == course.slug))
    return _status(course, completed_slugs(user_id, course.slug), enrollment)


def statuses_for(user_id: int, courses: Sequence[Course]) -> dict[str, CourseStatus]:
    """Progress in several courses with two queries (catalog and dashboard)."""
    done: dict[str, set[str]] = {}
    for course_slug, lesson_slug in db.session.execute(
            select(LessonProgress.course_slug, LessonProgress.lesson_slug).where(LessonProgress.user_id == user_id)):
        done.setdefault(course_slug, set()).add(lesson_slug)
    enrollments = {e.course_slug: e for e in db.session.scalars(
        select(CourseEnrollment).where(CourseEnrollment.user_id == user_id))}
    return {c.slug: _status(c, done.get(c.slug, set()), enrollments.get(c.slug)) for c in courses}


def record_activity(user: User, course_slug: str, *, now: datetime | None = None) -> None:
    """Note that a person is working on a course: starts the enrollment once, then moves last activity."""
    now = now or utcnow()
    inserted = insert_ignore(CourseEnrollment, {"user_id": user.id, "course_slug": course_slug, "started_at": now,
                                                "last_activity_at": now}, conflict=["user_id", "course_slug"])
    if not inserted:
        db.session.execute(update(CourseEnrollment).where(
            CourseEnrollment.user_id == user.id, CourseEnrollment.course_slug == course_slug,
            CourseEnrollment.last_activity_at < now).values(last_activity_at=now))
    db.session.execute(update(User).where(User.id == user.id).values(last_seen_at=now))


def note_reading(user: User, course: Course, status: CourseStatus, *, now: datetime | None = None) -> bool:
    """Record that a lesson of the course is being read, at most every few minutes; True when it wrote."""
    now = now or utcnow()
    if status.last_activity_at is not None and now - status.last_activity_at < ACTIVITY_RESOLUTION:
        return False
    begin_write()
    record_activity(user, course.slug, now=now)
    return True


def next_reading_note(status: CourseStatus, wrote: bool, now: datetime) -> datetime:
    """When reading this course has to be recorded again (until then a cached lesson page may be served)."""
    last = now if wrote or status.last_activity_at is None else status.last_activity_at
    return last + ACTIVITY_RESOLUTION


def progress_changed(user_id: int) -> None:
    """Move the person's progress version: every page cached from the old state stops matching."""
    db.session.execute(update(User).where(User.id == user_id).values(progress_version=User.progress_version + 1))


def mark_complete(user: User, course: Course, lesson: Lesson, content_hash: str, language: str) -> bool:
    """Record a completed lesson once (idempotent); completing the last one issues the certificate."""
    inserted = insert_ignore(LessonProgress, {"user_id": user.id, "course_slug": course.slug,
                                              "lesson_slug": lesson.slug, "content_hash": content_hash,
                                              "completed_at": utcnow()},
                             conflict=["user_id", "course_slug", "lesson_slug"])
    record_activity(user, course.slug)
    progress_changed(user.id)
    if course_status(user.id, course).completed:
        db.session.execute(update(CourseEnrollment).where(
            CourseEnrollment.user_id == user.id, CourseEnrollment.course_slug == course.slug,
            CourseEnrollment.completed_at.is_(None)).values(completed_at=utcnow()))
        from .credentials.issuing import issue_certificate

        issue_certificate(user, course, language)
    return inserted


def reset_lesson(user_id: int, course_slug: str, lesson_slug: str) -> None:
    """Forget a lesson's completion (manager action); attempts stay as history."""
    db.session.execute(LessonProgress.__table__.delete().where(
        LessonProgress.user_id == user_id, LessonProgress.course_slug == course_slug,
        LessonProgress.lesson_slug == lesson_slug))
    db.session.execute(update(CourseEnrollment).where(
        CourseEnrollment.user_id == user_id, CourseEnrollment.course_slug == course_slug).values(completed_at=None))
    progress_changed(user_id)


# --- quizzes -----------------------------------------------------------------------------------------------

def shuffled_options(question: Question, user_id: int, shuffle: bool) -> list[Any]:
    """The options in author order, or in a stable per-person shuffled order."""
    options = list(question.options)
    if shuffle:
        random.Random(f"{user_id}:{question.id}").shuffle(options)
    return options


class AnswerError(ValueError):
    """A submission that cannot be graded as sent (tampered or incomplete); `missing` names open questions."""

    def __init__(self, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)


def parse_answers(quiz: Quiz, form: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Read the answers of a quiz form; unknown or duplicate values are refused, open questions listed."""
    answers: dict[str, list[str]] = {}
    missing: list[str] = []
    for question in quiz.questions:
        values = [v for v in form.get(question.id, []) if v is not None]
        if question.kind == "text":
            if len(values) > 1:
                raise AnswerError("several values for a text question")
            text = values[0].strip() if values else ""
            if len(text) > MAX_TEXT_ANSWER:
                raise AnswerError("answer too long")
            if not text:
                missing.append(question.id)
                continue
            answers[question.id] = [text]
            continue
        valid = {option.id for option in question.options}
        if any(v not in valid for v in values) or len(set(values)) != len(values):
            raise AnswerError("unknown or repeated option")
        if question.kind == "single" and len(values) > 1:
            raise AnswerError("several values for a single-choice question")
        if not values:
            missing.append(question.id)
            continue
        answers[question.id] = values
    if missing:
        raise AnswerError("unanswered questions", missing)
    return answers


@dataclass(frozen=True)
class BestResult:
    """The result that counts for a quiz: passed before failed, then the highest score."""

    percent: int
    passed: bool


@dataclass(frozen=True)
class QuizStanding:
    """Where a person stands with one quiz: attempts left (None: unlimited) and the result that counts."""

    left: int | None
    best: BestResult | None


def quiz_standing(user_id: int, course_slug: str, lesson_slug: str, max_attempts: int | None) -> QuizStanding:
    """Attempts left (max_attempts plus manager grants, minus attempts used) and the result that counts,
    in one query; the lesson and result pages show both, and a submission checks what is left."""
    mine = (QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
            QuizAttempt.lesson_slug == lesson_slug)
    grants = select(func.count()).select_from(AttemptGrant).where(
        AttemptGrant.user_id == user_id, AttemptGrant.course_slug == course_slug,
        AttemptGrant.lesson_slug == lesson_slug).scalar_subquery()
    used, any_passed, best_passed, best_any, granted = db.session.execute(select(
        func.count(QuizAttempt.id), func.max(case((QuizAttempt.passed, 1), else_=0)),
        func.max(case((QuizAttempt.passed, QuizAttempt.percent))), func.max(QuizAttempt.percent), grants,
    ).where(*mine)).one()
    best = None
    if used:
        best = BestResult(percent=best_passed, passed=True) if any_passed else BestResult(percent=best_any,
                                                                                        passed=False)
    left = None if max_attempts is None else max(0, max_attempts + (granted or 0) - used)
    return QuizStanding(left=left, best=best)


class AttemptRefused(Exception):
    """No attempts left for this quiz."""


def submit_quiz(user: User, course: Course, lesson: Lesson, text: LessonText, answers: dict[str, list[str]],
                submission_id: str, language: str) -> tuple[QuizAttempt, bool]:
    """Grade and store one attempt exactly once per submission; a pass completes the lesson.

    A replay of the same form (same submission id), or the same answers sent again for the same version
    right after the latest attempt (the back button reloads the page with a new form id but the browser
    restores the ticks), returns the stored attempt instead of a new one. Returns the attempt and whether
    this call created it. `language` is the reader's, for the certificate a pass may issue.
    """
    assert text.quiz is not None
    lock_row(User, user.id)  # one submission of a person at a time on PostgreSQL
    existing = _attempt_by_submission(user.id, submission_id) or _same_as_latest(user.id, course, lesson, text,
                                                                                 answers)
    if existing is not None:
        return existing, False
    left = quiz_standing(user.id, course.slug, lesson.slug, text.quiz.max_attempts).left
    if left is not None and left <= 0:
        raise AttemptRefused()
    result = grade(text.quiz, answers)
    inserted = insert_ignore(QuizAttempt, {
        "user_id": user.id, "submission_id": submission_id, "course_slug": course.slug,
        "lesson_slug": lesson.slug, "language": text.lang, "content_hash": text.content_hash,
        "answers": answers, "results": {r.question_id: r.correct for r in result.results},
        "score": result.score, "total": result.total, "percent": result.percent, "passed": result.passed,
        "created_at": utcnow()}, conflict=["user_id", "submission_id"])
    attempt = _attempt_by_submission(user.id, submission_id)
    assert attempt is not None
    progress_changed(user.id)
    if result.passed:
        mark_complete(user, course, lesson, text.content_hash, language)
    else:
        record_activity(user, course.slug)
    return attempt, inserted


def _same_as_latest(user_id: int, course: Course, lesson: Lesson, text: LessonText,
                    answers: dict[str, list[str]]) -> QuizAttempt | None:
    """The latest attempt when it answered this same version with exactly these answers."""
    latest = db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course.slug,
        QuizAttempt.lesson_slug == lesson.slug).order_by(QuizAttempt.id.desc()).limit(1))
    if (latest is not None and latest.content_hash == text.content_hash and latest.answers == answers
            and utcnow() - latest.created_at < REPLAY_WINDOW):
        return latest
    return None


def _attempt_by_submission(user_id: int, submission_id: str) -> QuizAttempt | None:
    """The attempt stored for one rendered quiz form, if any."""
    return db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.submission_id == submission_id))


def attempt_for(user_id: int, attempt_id: int) -> QuizAttempt | None:
    """One of this person's attempts by id (another person's attempt is None, hence 404)."""
    return db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id, QuizAttempt.user_id == user_id))


def lesson_attempts(user_id: int, course_slug: str, lesson_slug: str) -> list[QuizAttempt]:
    """A person's attempts at one quiz, newest first."""
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
        QuizAttempt.lesson_slug == lesson_slug).order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc())))


def grant_attempt(user_id: int, course_slug: str, lesson_slug: str, granted_by: User) -> None:
    """Allow one more attempt beyond max_attempts (manager action)."""
    db.session.add(AttemptGrant(user_id=user_id, course_slug=course_slug, lesson_slug=lesson_slug,
                                granted_by_id=granted_by.id))
    progress_changed(user_id)
    db.session.flush()
