"""Quiz attempts: reading the answers of a form, grading and storing each submission exactly once,
attempts left, the result that counts, manager grants, and which quiz version an attempt answered."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, case, or_, select

from ..content import Catalog, Course, Lesson, LessonText, Option, Question, Quiz, grade, option_order, order_seed
from ..extensions import db
from ..models import AttemptGrant, QuizAttempt, User, utcnow
from .coaching import assignment_done
from .db import insert_returning, lock_row, write_lock
from .progress import mark_complete, record_activity
from .standing import BestResult, QuizStanding, quiz_standing  # noqa: F401  (the quiz pages' one rule, re-exported)

MAX_TEXT_ANSWER = 500
REPLAY_WINDOW = timedelta(minutes=30)  # identical answers sent again this soon are the same submission


def option_orders(quiz: Quiz, user_id: int) -> dict[str, tuple[str, ...]]:
    """The order of every choice question's options for this person: worked out on the server from (person,
    quiz version, question), so a reload shows the same order and no form can choose it."""
    return {q.id: option_order(quiz, q, order_seed(user_id, quiz.version, q.id))
            for q in quiz.questions if q.kind != "text"}


def ordered(question: Question, order: Sequence[str] | None) -> list[Option]:
    """A question's options in a stored or computed order (the author's order when there is none)."""
    if not order:
        return list(question.options)
    by_id = {o.id: o for o in question.options}
    shown = [by_id[oid] for oid in order if oid in by_id]
    return shown + [o for o in question.options if o.id not in set(order)]  # options added since: at the end


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


Review = Literal["score", "marks", "key"]


def review_shown(quiz: Quiz, attempt: QuizAttempt, standing: QuizStanding) -> Review:
    """What the result page of an attempt shows, by the quiz's `show_answers`:

    - "score": the score only (`never`, for exams);
    - "marks": the score and which questions were wrong, without right options or explanations (`after_pass`
      after a failed attempt while attempts are left, so the first attempt does not hand out the key);
    - "key": everything, right options and explanations (`immediate`; `after_pass` once passed or when no
      attempts are left).
    """
    if quiz.show_answers == "never":
        return "score"
    if quiz.show_answers == "immediate":
        return "key"
    passed = attempt.passed or (standing.best is not None and standing.best.passed)
    return "key" if passed or standing.left == 0 else "marks"


def key_seen(user_id: int, course_slug: str, lesson_slug: str, quiz: Quiz) -> bool:
    """True when this person could already see the quiz's answer key on a result page (another attempt
    would then test nothing, so a manager's grant is refused)."""
    if quiz.show_answers == "never":
        return False
    standing = quiz_standing(user_id, course_slug, lesson_slug, quiz.max_attempts)
    if standing.best is None:
        return False
    return quiz.show_answers == "immediate" or standing.best.passed or standing.left == 0


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

    Grading is pure and happens first; the write lock (SQLite's BEGIN IMMEDIATE, a row lock on PostgreSQL) is
    taken only for the few statements that decide and store: the earlier attempt, the attempts left, the insert.
    """
    quiz = text.quiz
    assert quiz is not None
    result = grade(quiz, answers, text.lang)  # typed numbers are read in the language the person was shown
    orders = {qid: list(order) for qid, order in option_orders(quiz, user.id).items()} if quiz.shuffle else None
    write_lock()
    if quiz.max_attempts is not None:  # counting the attempts left, then inserting: one at a time per person
        lock_row(User, user.id)  # on PostgreSQL; unlimited quizzes need no lock (the submission id is unique)
    existing = _earlier_attempt(user.id, submission_id, course.slug, lesson.slug)
    if existing is not None and (existing.submission_id == submission_id or _replayed(existing, quiz, answers)):
        return existing, False
    if quiz.max_attempts is not None and quiz_standing(user.id, course.slug, lesson.slug, quiz.max_attempts).left == 0:
        raise AttemptRefused()
    values = {
        "user_id": user.id, "submission_id": submission_id, "course_slug": course.slug,
        "lesson_slug": lesson.slug, "language": text.lang, "content_hash": text.content_hash,
        "quiz_version": quiz.version, "option_orders": orders, "attempt_limit": quiz.max_attempts or 0,
        "answers": answers, "results": {r.question_id: r.correct for r in result.results},
        "score": result.score, "total": result.total, "percent": result.percent, "passed": result.passed,
        "created_at": utcnow()}
    attempt_id = insert_returning(QuizAttempt, values, conflict=["user_id", "submission_id"])
    if attempt_id is None:  # the same form, stored by a request that overtook this one
        attempt = _earlier_attempt(user.id, submission_id, course.slug, lesson.slug)
        assert attempt is not None
        return attempt, False
    if result.passed and assignment_done(user.id, course.slug, lesson):
        mark_complete(user, course, lesson, text.content_hash, language)
    else:  # failed, or passed while the lesson's assignment still awaits approval
        record_activity(user, course.slug)
    return QuizAttempt(id=attempt_id, **values), True  # the stored row's values, without reading it back


_EARLIER_COLUMNS = ("id", "submission_id", "quiz_version", "answers", "passed", "created_at")
_ATTEMPTS = QuizAttempt.__table__.c  # a Core select: no ORM bookkeeping on the submission's hot path
_EARLIER = select(*(_ATTEMPTS[name] for name in _EARLIER_COLUMNS)).where(
    _ATTEMPTS.user_id == bindparam("user_id"),
    or_(_ATTEMPTS.submission_id == bindparam("submission_id"),
        and_(_ATTEMPTS.course_slug == bindparam("course_slug"), _ATTEMPTS.lesson_slug == bindparam("lesson_slug"))),
).order_by(case((_ATTEMPTS.submission_id == bindparam("submission_id"), 1), else_=0).desc(),
           _ATTEMPTS.id.desc()).limit(1)


def _earlier_attempt(user_id: int, submission_id: str, course_slug: str, lesson_slug: str) -> QuizAttempt | None:
    """In one query: the attempt stored for this form (its submission id), else the latest at this quiz; as an
    unattached QuizAttempt with the columns a submission looks at (reading six columns costs a third of
    loading the row as an object)."""
    row = db.session.execute(_EARLIER, {"user_id": user_id, "submission_id": submission_id,
                                        "course_slug": course_slug, "lesson_slug": lesson_slug}).first()
    return None if row is None else QuizAttempt(user_id=user_id, course_slug=course_slug, lesson_slug=lesson_slug,
                                                **dict(zip(_EARLIER_COLUMNS, row, strict=True)))


def _replayed(latest: QuizAttempt, quiz: Quiz, answers: dict[str, list[str]]) -> bool:
    """The latest attempt answered this same version with exactly these answers a moment ago (the back button)."""
    return (latest.quiz_version == quiz.version and latest.answers == answers
            and utcnow() - latest.created_at < REPLAY_WINDOW)


def attempt_for(user_id: int, attempt_id: int, course_slug: str, lesson_slug: str) -> QuizAttempt | None:
    """One of this person's attempts at one lesson's quiz by id (another person's attempt is None, hence 404)."""
    return db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.id == attempt_id, QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
        QuizAttempt.lesson_slug == lesson_slug))


def grant_attempt(user_id: int, course_slug: str, lesson_slug: str, granted_by: User) -> None:
    """Allow one more attempt beyond max_attempts (manager action)."""
    db.session.add(AttemptGrant(user_id=user_id, course_slug=course_slug, lesson_slug=lesson_slug,
                                granted_by_id=granted_by.id))
    db.session.flush()


def graded_text(lesson: Lesson | None, attempt: QuizAttempt) -> LessonText | None:
    """The current lesson text an attempt was graded with, or None when that quiz version no longer exists."""
    text = lesson.texts.get(attempt.language) if lesson is not None else None
    if text is None or text.quiz is None:
        return None
    if attempt.quiz_version is not None:
        return text if attempt.quiz_version == text.quiz.version else None
    return text if attempt.content_hash == text.content_hash else None  # recorded before quiz versions


def graded_with(text: LessonText) -> Any:
    """SQL condition: attempts graded with this lesson text's quiz version (the same rule as graded_text)."""
    assert text.quiz is not None
    # Both branches are TRUE or FALSE, never NULL, so NOT(...) of this condition selects the other attempts.
    return or_(and_(QuizAttempt.quiz_version.is_not(None), QuizAttempt.quiz_version == text.quiz.version),
               and_(QuizAttempt.quiz_version.is_(None), QuizAttempt.content_hash == text.content_hash))


def lesson_of(cat: Catalog, course_slug: str, lesson_slug: str) -> Lesson | None:
    """A lesson of the catalog by slugs (drafts included), or None."""
    course = cat.course(course_slug)
    return course.lesson(lesson_slug) if course is not None else None
