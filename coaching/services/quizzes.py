"""Quiz attempts: reading the answers of a form, grading and storing each submission exactly once,
attempts left, the result that counts, manager grants, and which quiz version an attempt answered."""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select

from ..content import Catalog, Course, Lesson, LessonText, Question, Quiz, grade
from ..extensions import db
from ..models import AttemptGrant, QuizAttempt, User, utcnow
from .coaching import assignment_done
from .db import insert_ignore, lock_row
from .progress import mark_complete, record_activity

MAX_TEXT_ANSWER = 500
REPLAY_WINDOW = timedelta(minutes=30)  # identical answers sent again this soon are the same submission


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
    """Grade and store one attempt exactly once per submission; a pass completes the lesson (a lesson with an
    assignment only once that is approved too).

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
    if result.passed and assignment_done(user.id, course.slug, lesson):
        mark_complete(user, course, lesson, text.content_hash, language)
    else:  # failed, or passed while the lesson's assignment still awaits approval
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


def attempt_for(user_id: int, attempt_id: int, course_slug: str, lesson_slug: str) -> QuizAttempt | None:
    """One of this person's attempts at one lesson's quiz by id (another person's attempt is None, hence 404)."""
    return db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.id == attempt_id, QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
        QuizAttempt.lesson_slug == lesson_slug))


def lesson_attempts(user_id: int, course_slug: str, lesson_slug: str) -> list[QuizAttempt]:
    """A person's attempts at one quiz, newest first."""
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
        QuizAttempt.lesson_slug == lesson_slug).order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc())))


def grant_attempt(user_id: int, course_slug: str, lesson_slug: str, granted_by: User) -> None:
    """Allow one more attempt beyond max_attempts (manager action)."""
    db.session.add(AttemptGrant(user_id=user_id, course_slug=course_slug, lesson_slug=lesson_slug,
                                granted_by_id=granted_by.id))
    db.session.flush()


def graded_text(lesson: Lesson | None, attempt: QuizAttempt) -> LessonText | None:
    """The current lesson text an attempt was graded with, or None when that quiz version no longer exists."""
    text = lesson.texts.get(attempt.language) if lesson is not None else None
    if text is None or text.quiz is None or text.content_hash != attempt.content_hash:
        return None
    return text


def lesson_of(cat: Catalog, course_slug: str, lesson_slug: str) -> Lesson | None:
    """A lesson of the catalog by slugs (drafts included), or None."""
    course = cat.course(course_slug)
    return course.lesson(lesson_slug) if course is not None else None
