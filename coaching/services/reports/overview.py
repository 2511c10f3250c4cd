"""The figures of the manager overview: activity, completions, failed quizzes, idle affiliates, drop-off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select

from ...content import Catalog
from ...extensions import db
from ...models import Certificate, CourseEnrollment, LessonProgress, QuizAttempt, User, utcnow
from ..paging import Page, clamp_page
from .common import aware, is_affiliate, lesson_title

WINDOW_DAYS = 30
INACTIVE_DAYS = 14
INACTIVE_PER_PAGE = 10
CHART_WEEKS = 12

@dataclass(frozen=True)
class FailedQuiz:
    """A quiz with its failed and total attempt counts."""

    course_slug: str
    lesson_slug: str
    title: str
    failed: int
    attempts: int

    @property
    def fail_percent(self) -> int:
        """Share of attempts that failed, in percent."""
        return round(100 * self.failed / self.attempts) if self.attempts else 0


@dataclass(frozen=True)
class InactiveAffiliate:
    """An affiliate without activity for a while who has an unfinished course."""

    user_id: int
    name: str
    email: str
    last_activity_at: datetime
    unfinished: int


@dataclass(frozen=True)
class DropOff:
    """How many affiliates started a course and how many completed each lesson, in course order."""

    course_slug: str
    title: str
    started: int
    lessons: list[tuple[str, str, int]]  # (lesson slug, title, completed count)


@dataclass(frozen=True)
class Overview:
    """The figures of the manager's overview page."""

    active_affiliates: int
    seen_recently: int
    starts: int
    completions: int
    certificates: int
    certificates_recent: int
    failed_quizzes: list[FailedQuiz]
    inactive: list[InactiveAffiliate]
    inactive_total: int
    weekly_completions: list[tuple[date, int]]
    drop_off: list[DropOff]
    window_days: int = WINDOW_DAYS
    inactive_days: int = INACTIVE_DAYS
    inactive_page: int = 1

    @property
    def inactive_pages(self) -> Page:
        """The shown page of the inactive affiliates, for the pagination links."""
        return Page(self.inactive, self.inactive_page, INACTIVE_PER_PAGE, self.inactive_total)


def overview(cat: Catalog, lang: str = "en", *, now: datetime | None = None, inactive_page: int = 1) -> Overview:
    """Every figure of the overview page, each from one small aggregate query; `inactive_page` is the page of
    the inactive affiliates' list (clamped to the pages there are)."""
    now = now or utcnow()
    since = now - timedelta(days=WINDOW_DAYS)
    inactive, inactive_total = inactive_affiliates(now=now, page=inactive_page)
    inactive_page = clamp_page(inactive_page, INACTIVE_PER_PAGE, inactive_total)
    return Overview(
        active_affiliates=count_active_affiliates(), seen_recently=count_active_affiliates(since=since),
        starts=count_starts(since), completions=count_completions(since), certificates=count_certificates(),
        certificates_recent=count_certificates(since), failed_quizzes=most_failed_quizzes(cat, lang),
        inactive=inactive, inactive_total=inactive_total, weekly_completions=weekly_completions(now=now),
        drop_off=drop_off(cat, lang), inactive_page=inactive_page)


def count_active_affiliates(since: datetime | None = None) -> int:
    """Affiliates whose account is active (and, with `since`, who were active since then)."""
    query = select(func.count()).select_from(User).where(is_affiliate(), User.active.is_(True))
    if since is not None:
        query = query.where(User.last_seen_at >= since)
    return db.session.scalar(query) or 0


def count_starts(since: datetime) -> int:
    """Courses started by affiliates since a moment."""
    return db.session.scalar(select(func.count()).select_from(CourseEnrollment).outerjoin(
        User, User.id == CourseEnrollment.user_id).where(is_affiliate(), CourseEnrollment.started_at >= since)) or 0


def count_completions(since: datetime) -> int:
    """Courses completed by affiliates since a moment."""
    return db.session.scalar(select(func.count()).select_from(CourseEnrollment).outerjoin(
        User, User.id == CourseEnrollment.user_id).where(is_affiliate(),
                                                         CourseEnrollment.completed_at >= since)) or 0


def count_certificates(since: datetime | None = None) -> int:
    """Certificates issued (all time, or since a moment), whatever their status now."""
    query = select(func.count()).select_from(Certificate)
    if since is not None:
        query = query.where(Certificate.issued_at >= since)
    return db.session.scalar(query) or 0

def staff_ids() -> Any:
    """Subquery: the ids of people who are not affiliates (managers). A figure over a big table counts all its
    rows from an index and takes away these few people's rows, instead of joining every row to its person;
    rows of deleted accounts (no person) stay in, as common.is_affiliate has it."""
    return select(User.id).where(User.role != "affiliate").scalar_subquery()


def most_failed_quizzes(cat: Catalog, lang: str = "en", limit: int = 5) -> list[FailedQuiz]:
    """The quizzes with the most failed affiliate attempts (all time).

    Failed attempts per quiz come from the partial index of failed attempts (read without the table), less
    the managers' attempts (their few rows, found by person); then all attempts at the chosen quizzes.
    """
    key = (QuizAttempt.course_slug, QuizAttempt.lesson_slug)
    fails = select(*key, func.count().label("n")).where(QuizAttempt.passed == false()).group_by(*key).subquery()
    staff = (select(*key, func.sum(case((QuizAttempt.passed == false(), 1), else_=0)).label("failed"),
                    func.count().label("n"))
             .where(QuizAttempt.user_id.in_(staff_ids())).group_by(*key).subquery())
    failed = fails.c.n - func.coalesce(staff.c.failed, 0)
    rows = db.session.execute(
        select(fails.c.course_slug, fails.c.lesson_slug, failed.label("failed"), func.coalesce(staff.c.n, 0))
        .outerjoin(staff, and_(staff.c.course_slug == fails.c.course_slug,
                               staff.c.lesson_slug == fails.c.lesson_slug))
        .where(failed > 0).order_by(failed.desc(), fails.c.course_slug, fails.c.lesson_slug).limit(limit)).all()
    if not rows:
        return []
    chosen = or_(*(and_(QuizAttempt.course_slug == c, QuizAttempt.lesson_slug == lsn) for c, lsn, _f, _s in rows))
    totals = {(c, lsn): int(n) for c, lsn, n in db.session.execute(
        select(*key, func.count()).where(chosen).group_by(*key))}  # an index range per quiz
    return [FailedQuiz(c, lsn, lesson_title(cat, c, lsn, lang), int(f), totals.get((c, lsn), 0) - int(staff_n))
            for c, lsn, f, staff_n in rows]


def inactive_affiliates(*, now: datetime | None = None, days: int = INACTIVE_DAYS, limit: int = INACTIVE_PER_PAGE,
                        page: int = 1) -> tuple[list[InactiveAffiliate], int]:
    """Active affiliates with an unfinished course and no activity for `days` days, longest idle first: one
    page of `limit` of them (a page past the end gives the last page), and how many there are.

    One query: the total comes with each row (a window count over the grouped rows, before the LIMIT)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    last = func.max(CourseEnrollment.last_activity_at)
    unfinished = func.sum(case((CourseEnrollment.completed_at.is_(None), 1), else_=0))
    grouped = (select(User.id, User.name, User.email, last.label("last"), unfinished.label("unfinished"),
                      func.count().over().label("total"))
               .join(CourseEnrollment, CourseEnrollment.user_id == User.id)
               .where(User.role == "affiliate", User.active.is_(True))
               .group_by(User.id, User.name, User.email).having(last < cutoff, unfinished > 0)
               .order_by(last, User.id).limit(limit))
    page = max(1, page)
    rows = db.session.execute(grouped.offset((page - 1) * limit)).all()
    if not rows and page > 1:  # past the end: the total comes from the first page, then the last page is read
        first = db.session.execute(grouped).all()
        total = int(first[0].total) if first else 0
        last_page = clamp_page(page, limit, total)
        rows = db.session.execute(grouped.offset((last_page - 1) * limit)).all() if last_page > 1 else first
    total = int(rows[0].total) if rows else 0
    return [InactiveAffiliate(uid, name, email, aware(last_at), int(n))
            for uid, name, email, last_at, n, _total in rows], total

def week_starts(now: datetime, weeks: int = CHART_WEEKS) -> list[datetime]:
    """The Monday 00:00 UTC of the last `weeks` weeks, oldest first, plus the start of next week."""
    today = now.astimezone(UTC).date()
    this_monday = datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=UTC)
    return [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks + 1)]


def weekly_completions(*, now: datetime | None = None, weeks: int = CHART_WEEKS) -> list[tuple[date, int]]:
    """Course completions by affiliates per week (Monday to Sunday, UTC), oldest week first; one query."""
    bounds = week_starts(now or utcnow(), weeks)
    column = CourseEnrollment.completed_at
    sums = [func.sum(case((and_(column >= start, column < end), 1), else_=0))
            for start, end in zip(bounds, bounds[1:])]
    row = db.session.execute(select(*sums).select_from(CourseEnrollment).outerjoin(
        User, User.id == CourseEnrollment.user_id).where(is_affiliate(), column >= bounds[0])).one()
    return [(start.date(), int(value or 0)) for start, value in zip(bounds, row)]


def drop_off(cat: Catalog, lang: str = "en") -> list[DropOff]:
    """Per course: affiliates who started it, and how many completed each lesson.

    Completions per lesson come from the (course, lesson) index of lesson_progress, less the managers' rows."""
    started = {slug: n for slug, n in db.session.execute(
        select(CourseEnrollment.course_slug, func.count()).outerjoin(User, User.id == CourseEnrollment.user_id)
        .where(is_affiliate()).group_by(CourseEnrollment.course_slug))}
    key = (LessonProgress.course_slug, LessonProgress.lesson_slug)
    done = {(c, lsn): int(n) for c, lsn, n in db.session.execute(select(*key, func.count()).group_by(*key))}
    for c, lsn, n in db.session.execute(select(*key, func.count()).where(LessonProgress.user_id.in_(staff_ids()))
                                        .group_by(*key)):
        done[(c, lsn)] -= int(n)
    return [DropOff(course.slug, course.text(lang).title, int(started.get(course.slug, 0)),
                    [(lesson.slug, lesson.text(lang)[0].title, int(done.get((course.slug, lesson.slug), 0)))
                     for lesson in course.lessons])
            for course in cat.courses if course.lessons]
