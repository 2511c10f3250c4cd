"""The result that counts for a quiz (passed before failed, then the highest score) and the attempts left:
one rule for the lesson and result pages, submissions (re-exported by `quizzes`) and certificates."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

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
