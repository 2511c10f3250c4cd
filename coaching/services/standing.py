"""The result that counts for a quiz (passed before failed, then the highest score) and the attempts left:
one rule for the lesson and result pages, submissions (re-exported by `quizzes`) and certificates."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select

from ..extensions import db
from ..models import AttemptGrant, QuizAttempt

__all__ = ["BestResult", "QuizStanding", "quiz_standing"]


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
    """Attempts left and the result that counts, in one query; the lesson and result pages show both, and a
    submission checks what is left.

    Attempts left = max_attempts plus manager grants minus the attempts made under the current limit: a
    limit set or lowered later counts only the attempts made after it (each attempt records the limit in
    force; the latest attempt made without a limit or under a higher one marks where the count starts).
    """
    mine = (QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
            QuizAttempt.lesson_slug == lesson_slug)
    grants = select(func.count()).select_from(AttemptGrant).where(
        AttemptGrant.user_id == user_id, AttemptGrant.course_slug == course_slug,
        AttemptGrant.lesson_slug == lesson_slug).scalar_subquery()
    counted: Any = func.count(QuizAttempt.id)
    if max_attempts is not None:
        before_limit = select(func.max(QuizAttempt.id)).where(
            *mine, or_(QuizAttempt.attempt_limit == 0, QuizAttempt.attempt_limit > max_attempts)).scalar_subquery()
        counted = func.count(case((QuizAttempt.id > func.coalesce(before_limit, 0), QuizAttempt.id)))
    used, any_passed, best_passed, best_any, granted = db.session.execute(select(
        counted, func.max(case((QuizAttempt.passed, 1), else_=0)),
        func.max(case((QuizAttempt.passed, QuizAttempt.percent))), func.max(QuizAttempt.percent), grants,
    ).where(*mine)).one()
    best = None
    if best_any is not None:
        best = BestResult(percent=best_passed, passed=True) if any_passed else BestResult(percent=best_any,
                                                                                        passed=False)
    left = None if max_attempts is None else max(0, max_attempts + (granted or 0) - used)
    return QuizStanding(left=left, best=best)
