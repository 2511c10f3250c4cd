"""The result that counts for a quiz (passed before failed, then the highest score) and the attempts left:
one rule for the lesson and result pages, submissions (re-exported by `quizzes`) and certificates."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, case, func, or_, select

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


def _this_quiz(model: Any) -> tuple[Any, ...]:
    """WHERE: one person's rows of one lesson's quiz (values bound at execution); `model` is a table's columns."""
    return (model.user_id == bindparam("user_id"), model.course_slug == bindparam("course_slug"),
            model.lesson_slug == bindparam("lesson_slug"))


# Built once: the pages that show a quiz ask this on every view, and building the expression cost more than
# running it. `limit` is max_attempts, or NO_LIMIT when there is none (then nothing lies before the limit).
# Core table columns, not the ORM classes: a select of ORM attributes goes through the ORM's compile and
# result machinery, which cost more than the query on these hot paths.
NO_LIMIT = 2**31 - 1
_A = QuizAttempt.__table__.c
_BEFORE_LIMIT = select(func.max(_A.id)).where(
    *_this_quiz(_A), or_(_A.attempt_limit == 0, _A.attempt_limit > bindparam("limit", type_=Integer))).scalar_subquery()
_GRANTS = select(func.count()).select_from(AttemptGrant.__table__).where(
    *_this_quiz(AttemptGrant.__table__.c)).scalar_subquery()
_STANDING = select(
    func.count(case((_A.id > func.coalesce(_BEFORE_LIMIT, 0), _A.id))),
    func.max(case((_A.passed, 1), else_=0)), func.max(case((_A.passed, _A.percent))),
    func.max(_A.percent), _GRANTS,
).where(*_this_quiz(_A))


def quiz_standing(user_id: int, course_slug: str, lesson_slug: str, max_attempts: int | None) -> QuizStanding:
    """Attempts left and the result that counts, in one query; the lesson and result pages show both, and a
    submission checks what is left.

    Attempts left = max_attempts plus manager grants minus the attempts made under the current limit: a
    limit set or lowered later counts only the attempts made after it (each attempt records the limit in
    force; the latest attempt made without a limit or under a higher one marks where the count starts).
    """
    used, any_passed, best_passed, best_any, granted = db.session.execute(_STANDING, {
        "user_id": user_id, "course_slug": course_slug, "lesson_slug": lesson_slug,
        "limit": NO_LIMIT if max_attempts is None else max_attempts}).one()
    best = None
    if best_any is not None:
        best = BestResult(percent=best_passed, passed=True) if any_passed else BestResult(percent=best_any,
                                                                                        passed=False)
    left = None if max_attempts is None else max(0, max_attempts + (granted or 0) - used)
    return QuizStanding(left=left, best=best)
