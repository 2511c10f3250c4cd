"""The progress matrix of a course: affiliates x lessons, filtered, sorted and paged in SQL."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from ...content import Course
from ...extensions import db
from ...models import CourseEnrollment, LessonProgress, QuizAttempt, User
from ..assignment_views import waiting_work
from ..paging import MAX_PER_PAGE, Page, clamp_page
from .common import person_search

MATRIX_SORTS = ("name", "progress", "activity")
MATRIX_STATUSES = ("all", "started", "not_started", "completed")

@dataclass(frozen=True)
class Cell:
    """One affiliate's state in one lesson: done, passed, review (assignment awaiting review), revise (sent back),
    failed or todo (with the best quiz percent)."""

    state: str
    percent: int | None = None
    attempts: int = 0


@dataclass(frozen=True)
class MatrixRow:
    """One affiliate's row of the progress matrix."""

    user_id: int
    name: str
    email: str
    active: bool
    done: int
    total: int
    started_at: datetime | None
    last_activity_at: datetime | None
    completed_at: datetime | None
    cells: tuple[Cell, ...]

    @property
    def percent(self) -> int:
        """Lessons done, in percent of the lessons that exist now."""
        return (100 * self.done) // self.total if self.total else 0


def _matrix_conditions(enrollment: Any, q: str, status: str) -> list[Any]:
    """The WHERE conditions of the matrix: affiliates, the search text, the status filter.

    The matrix reads FROM users, so "affiliate" is the role alone (common.is_affiliate also admits the NULL
    user of an outer join); the role is the first column of the index the name order walks."""
    conditions = [User.role == "affiliate"]
    if q.strip():
        conditions.append(person_search(q))
    if status == "started":
        conditions.append(enrollment.id.is_not(None))
    elif status == "not_started":
        conditions.append(enrollment.id.is_(None))
    elif status == "completed":
        conditions.append(enrollment.completed_at.is_not(None))
    return conditions


def _matrix_order(sort: str, done: Any, enrollment: Any) -> list[Any]:
    """ORDER BY for an allowlisted sort key (anything else sorts by name)."""
    no_activity = case((enrollment.last_activity_at.is_(None), 1), else_=0)
    if sort == "progress":
        return [done.desc(), no_activity, enrollment.last_activity_at.desc(), User.name, User.id]
    if sort == "activity":
        return [no_activity, enrollment.last_activity_at.desc(), User.name, User.id]
    return [User.name, User.id]


def progress_matrix(course_slug: str, lesson_slugs: Sequence[str], *, quiz_slugs: Iterable[str] = (),
                    q: str = "", sort: str = "name", status: str = "all", page: int = 1,
                    per_page: int = 50) -> Page:
    """One page of the affiliates x lessons matrix of a course (the `make bench` entry point).

    Aggregates (lessons done, last activity) are computed in SQL over all matching affiliates; only the
    page's ids are then used to fetch their progress rows and attempt summaries with IN queries.
    """
    sort = sort if sort in MATRIX_SORTS else "name"
    status = status if status in MATRIX_STATUSES else "all"
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    lesson_slugs = list(lesson_slugs)
    enrollment = aliased(CourseEnrollment)
    joined = and_(enrollment.user_id == User.id, enrollment.course_slug == course_slug)
    conditions = _matrix_conditions(enrollment, q, status)
    counted = select(func.count()).select_from(User)
    if status != "all":  # one enrollment per person and course: the join only matters to a status filter
        counted = counted.outerjoin(enrollment, joined)
    total = db.session.scalar(counted.where(*conditions)) or 0
    page = clamp_page(page, per_page, total)
    done = (select(func.count()).select_from(LessonProgress)
            .where(LessonProgress.user_id == User.id, LessonProgress.course_slug == course_slug,
                   LessonProgress.lesson_slug.in_(lesson_slugs))
            .correlate(User).scalar_subquery())
    # Two steps: the ordered page of ids (the count per person is only computed when sorting by it),
    # then the page's rows; so OFFSET never evaluates the subquery for the skipped rows.
    id_query = select(User.id).where(*conditions)
    if status != "all" or sort != "name":  # the other sorts read the last activity
        id_query = id_query.outerjoin(enrollment, joined)
    done_sort = None
    if sort == "progress":  # a grouped count joined once is cheaper than a subquery per person
        counts = (select(LessonProgress.user_id.label("uid"), func.count().label("n"))
                  .where(LessonProgress.course_slug == course_slug, LessonProgress.lesson_slug.in_(lesson_slugs))
                  .group_by(LessonProgress.user_id).subquery())
        id_query = id_query.outerjoin(counts, counts.c.uid == User.id)
        done_sort = func.coalesce(counts.c.n, 0)
    ids = list(db.session.scalars(id_query.order_by(*_matrix_order(sort, done_sort, enrollment))
                                  .limit(per_page).offset((page - 1) * per_page)))
    rows = {row.id: row for row in db.session.execute(
        select(User.id, User.name, User.email, User.active, done.label("done"), enrollment.started_at,
               enrollment.last_activity_at, enrollment.completed_at)
        .outerjoin(enrollment, joined).where(User.id.in_(ids)))} if ids else {}
    cells = _matrix_cells(course_slug, ids, lesson_slugs, set(quiz_slugs))
    items = [MatrixRow(row.id, row.name, row.email, row.active, int(row.done), len(lesson_slugs),
                       row.started_at, row.last_activity_at, row.completed_at, cells[row.id])
             for row in (rows[uid] for uid in ids)]
    return Page(items, page, per_page, total)


def course_matrix(course: Course, **options: Any) -> Page:
    """The progress matrix of a catalog course (see progress_matrix)."""
    slugs = [lesson.slug for lesson in course.lessons]
    quizzes = [lesson.slug for lesson in course.lessons if lesson.texts[lesson.language].quiz is not None]
    return progress_matrix(course.slug, slugs, quiz_slugs=quizzes, **options)


def _matrix_cells(course_slug: str, user_ids: list[int], lesson_slugs: list[str],
                  quiz_slugs: set[str]) -> dict[int, tuple[Cell, ...]]:
    """The cells of the page's users: three IN queries (progress rows, attempt summaries, assignments)."""
    if not user_ids:
        return {}
    done = {(uid, slug) for uid, slug in db.session.execute(select(LessonProgress.user_id, LessonProgress.lesson_slug)
            .where(LessonProgress.user_id.in_(user_ids), LessonProgress.course_slug == course_slug))}
    passed = func.max(case((QuizAttempt.passed.is_(True), 1), else_=0))
    attempts = {(uid, lsn): (int(n), bool(p), best) for uid, lsn, n, p, best in db.session.execute(
        select(QuizAttempt.user_id, QuizAttempt.lesson_slug, func.count(), passed, func.max(QuizAttempt.percent))
        .where(QuizAttempt.user_id.in_(user_ids), QuizAttempt.course_slug == course_slug)
        .group_by(QuizAttempt.user_id, QuizAttempt.lesson_slug))}
    work = waiting_work(user_ids, course_slug)
    return {uid: tuple(_cell((uid, slug) in done, slug in quiz_slugs, attempts.get((uid, slug)), work.get((uid, slug)))
                       for slug in lesson_slugs) for uid in user_ids}


def _cell(done: bool, has_quiz: bool, summary: tuple[int, bool, int] | None, work: str | None = None) -> Cell:
    """The state of one cell from the progress row, the attempt summary and the assignment's state."""
    count, passed, best = summary or (0, False, None)
    if done:
        return Cell("passed", best, count) if has_quiz and passed else Cell("done", None, count)
    if work == "waiting":
        return Cell("review", best, count)  # an assignment awaiting review
    if work == "revise":
        return Cell("revise", best, count)  # sent back for revision
    if count and not passed:
        return Cell("failed", best, count)
    return Cell("todo", None, count)  # includes a lesson reset by a manager after a pass
