"""Read-only reports for the manager area: overview figures, progress matrix, question analysis, CSV rows.

Every figure is computed in SQL, or streamed over rows in chunks: no function here loads all users or all
attempts into memory, so the pages and exports stay fast with 10,000 affiliates and 100,000 attempts.
Functions take a Catalog or slugs explicitly; none of them writes.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from .content import Catalog, Course, FileStatus, Lesson, LessonText, Question, normalize_text
from .extensions import db
from .models import AttemptGrant, Certificate, CourseEnrollment, Invite, LessonProgress, QuizAttempt, User, utcnow

WINDOW_DAYS = 30
INACTIVE_DAYS = 14
CHART_WEEKS = 12
MAX_PER_PAGE = 200
MATRIX_SORTS = ("name", "progress", "activity")
MATRIX_STATUSES = ("all", "started", "not_started", "completed")
UPPER_LOWER_SHARE = 0.27
MAX_DISTINCT_TEXT_ANSWERS = 2000  # bounds memory when counting free-text wrong answers
EXPORT_CHUNK = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_affiliate() -> Any:
    """Reports count affiliates (managers trying out a course do not skew the figures) and the anonymous
    rows of deleted accounts, so completion counts stay correct after a deletion (use with an outer join)."""
    return or_(User.id.is_(None), User.role == "affiliate")


@dataclass(frozen=True)
class Page:
    """One page of report rows; quacks like Flask-SQLAlchemy's Pagination for the pagination macro."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        """True when there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """True when there is a page after this one."""
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        """The previous page number."""
        return self.page - 1

    @property
    def next_num(self) -> int:
        """The next page number."""
        return self.page + 1


def clamp_page(page: int, per_page: int, total: int) -> int:
    """A page number between 1 and the last page."""
    last = max(1, math.ceil(total / per_page))
    return min(max(1, page), last)


def like_pattern(q: str) -> str:
    """A LIKE pattern matching `q` anywhere, with LIKE's wildcards escaped."""
    escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(q: str) -> Any:
    """Condition: name or email contains `q` (case-insensitive)."""
    pattern = like_pattern(q)
    return or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))


# --- overview ----------------------------------------------------------------------------------------------

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


def overview(cat: Catalog, lang: str = "en", *, now: datetime | None = None) -> Overview:
    """Every figure of the overview page, each from one small aggregate query."""
    now = now or utcnow()
    since = now - timedelta(days=WINDOW_DAYS)
    inactive, inactive_total = inactive_affiliates(now=now)
    return Overview(
        active_affiliates=count_active_affiliates(), seen_recently=count_active_affiliates(since=since),
        starts=count_starts(since), completions=count_completions(since), certificates=count_certificates(),
        certificates_recent=count_certificates(since), failed_quizzes=most_failed_quizzes(cat, lang),
        inactive=inactive, inactive_total=inactive_total, weekly_completions=weekly_completions(now=now),
        drop_off=drop_off(cat, lang))


def count_active_affiliates(since: datetime | None = None) -> int:
    """Affiliates whose account is active (and, with `since`, who were active since then)."""
    query = select(func.count()).select_from(User).where(_is_affiliate(), User.active.is_(True))
    if since is not None:
        query = query.where(User.last_seen_at >= since)
    return db.session.scalar(query) or 0


def count_starts(since: datetime) -> int:
    """Courses started by affiliates since a moment."""
    return db.session.scalar(select(func.count()).select_from(CourseEnrollment).outerjoin(
        User, User.id == CourseEnrollment.user_id).where(_is_affiliate(), CourseEnrollment.started_at >= since)) or 0


def count_completions(since: datetime) -> int:
    """Courses completed by affiliates since a moment."""
    return db.session.scalar(select(func.count()).select_from(CourseEnrollment).outerjoin(
        User, User.id == CourseEnrollment.user_id).where(_is_affiliate(),
                                                         CourseEnrollment.completed_at >= since)) or 0


def count_certificates(since: datetime | None = None) -> int:
    """Certificates issued (all time, or since a moment), whatever their status now."""
    query = select(func.count()).select_from(Certificate)
    if since is not None:
        query = query.where(Certificate.issued_at >= since)
    return db.session.scalar(query) or 0


def lesson_title(cat: Catalog, course_slug: str, lesson_slug: str, lang: str) -> str:
    """A lesson's title for display, or its slug when it no longer exists."""
    course = cat.course(course_slug)
    lesson = course.lesson(lesson_slug) if course else None
    return lesson.text(lang)[0].title if lesson else lesson_slug


def most_failed_quizzes(cat: Catalog, lang: str = "en", limit: int = 5) -> list[FailedQuiz]:
    """The quizzes with the most failed affiliate attempts (all time)."""
    failed = func.sum(case((QuizAttempt.passed.is_(False), 1), else_=0))
    rows = db.session.execute(
        select(QuizAttempt.course_slug, QuizAttempt.lesson_slug, failed.label("failed"), func.count().label("n"))
        .outerjoin(User, User.id == QuizAttempt.user_id).where(_is_affiliate())
        .group_by(QuizAttempt.course_slug, QuizAttempt.lesson_slug)
        .having(failed > 0).order_by(failed.desc(), QuizAttempt.course_slug, QuizAttempt.lesson_slug).limit(limit))
    return [FailedQuiz(c, lsn, lesson_title(cat, c, lsn, lang), int(f), int(n)) for c, lsn, f, n in rows]


def inactive_affiliates(*, now: datetime | None = None, days: int = INACTIVE_DAYS,
                        limit: int = 10) -> tuple[list[InactiveAffiliate], int]:
    """Active affiliates with an unfinished course and no activity for `days` days, longest idle first."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    last = func.max(CourseEnrollment.last_activity_at)
    unfinished = func.sum(case((CourseEnrollment.completed_at.is_(None), 1), else_=0))
    grouped = (select(User.id, User.name, User.email, last.label("last"), unfinished.label("unfinished"))
               .join(CourseEnrollment, CourseEnrollment.user_id == User.id)
               .where(_is_affiliate(), User.active.is_(True))
               .group_by(User.id, User.name, User.email).having(last < cutoff, unfinished > 0))
    total = db.session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    rows = db.session.execute(grouped.order_by(last, User.id).limit(limit))
    return [InactiveAffiliate(uid, name, email, _aware(last_at), int(n)) for uid, name, email, last_at, n in rows], total


def _aware(value: Any) -> Any:
    """Aggregates bypass the column type on SQLite: parse strings and mark naive values as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def week_starts(now: datetime, weeks: int = CHART_WEEKS) -> list[datetime]:
    """The Monday 00:00 UTC of the last `weeks` weeks, oldest first, plus the start of next week."""
    today = now.astimezone(timezone.utc).date()
    this_monday = datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=timezone.utc)
    return [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks + 1)]


def weekly_completions(*, now: datetime | None = None, weeks: int = CHART_WEEKS) -> list[tuple[date, int]]:
    """Course completions by affiliates per week (Monday to Sunday, UTC), oldest week first; one query."""
    bounds = week_starts(now or utcnow(), weeks)
    column = CourseEnrollment.completed_at
    sums = [func.sum(case((and_(column >= start, column < end), 1), else_=0))
            for start, end in zip(bounds, bounds[1:])]
    row = db.session.execute(select(*sums).select_from(CourseEnrollment).outerjoin(
        User, User.id == CourseEnrollment.user_id).where(_is_affiliate(), column >= bounds[0])).one()
    return [(start.date(), int(value or 0)) for start, value in zip(bounds, row)]


def drop_off(cat: Catalog, lang: str = "en") -> list[DropOff]:
    """Per course: affiliates who started it, and how many completed each lesson (two grouped queries)."""
    started = {slug: n for slug, n in db.session.execute(
        select(CourseEnrollment.course_slug, func.count()).outerjoin(User, User.id == CourseEnrollment.user_id)
        .where(_is_affiliate()).group_by(CourseEnrollment.course_slug))}
    done = {(c, lsn): n for c, lsn, n in db.session.execute(
        select(LessonProgress.course_slug, LessonProgress.lesson_slug, func.count())
        .outerjoin(User, User.id == LessonProgress.user_id).where(_is_affiliate())
        .group_by(LessonProgress.course_slug, LessonProgress.lesson_slug))}
    return [DropOff(course.slug, course.text(lang).title, int(started.get(course.slug, 0)),
                    [(lesson.slug, lesson.text(lang)[0].title, int(done.get((course.slug, lesson.slug), 0)))
                     for lesson in course.lessons])
            for course in cat.courses if course.lessons]


# --- progress matrix ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One affiliate's state in one lesson: done, passed, failed or todo (with the best quiz percent)."""

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
    """The WHERE conditions of the matrix: affiliates, the search text, the status filter."""
    conditions = [_is_affiliate()]
    if q.strip():
        conditions.append(_search(q))
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
    total = db.session.scalar(select(func.count()).select_from(User).outerjoin(enrollment, joined)
                              .where(*conditions)) or 0
    page = clamp_page(page, per_page, total)
    done = (select(func.count()).select_from(LessonProgress)
            .where(LessonProgress.user_id == User.id, LessonProgress.course_slug == course_slug,
                   LessonProgress.lesson_slug.in_(lesson_slugs))
            .correlate(User).scalar_subquery())
    # Two steps: the ordered page of ids (the count per person is only computed when sorting by it),
    # then the page's rows; so OFFSET never evaluates the subquery for the skipped rows.
    id_query = select(User.id).outerjoin(enrollment, joined).where(*conditions)
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
    """The cells of the page's users: two IN queries (progress rows, attempt summaries)."""
    if not user_ids:
        return {}
    done = {(uid, slug) for uid, slug in db.session.execute(select(LessonProgress.user_id, LessonProgress.lesson_slug)
            .where(LessonProgress.user_id.in_(user_ids), LessonProgress.course_slug == course_slug))}
    passed = func.max(case((QuizAttempt.passed.is_(True), 1), else_=0))
    attempts = {(uid, lsn): (int(n), bool(p), best) for uid, lsn, n, p, best in db.session.execute(
        select(QuizAttempt.user_id, QuizAttempt.lesson_slug, func.count(), passed, func.max(QuizAttempt.percent))
        .where(QuizAttempt.user_id.in_(user_ids), QuizAttempt.course_slug == course_slug)
        .group_by(QuizAttempt.user_id, QuizAttempt.lesson_slug))}
    return {uid: tuple(_cell((uid, slug) in done, slug in quiz_slugs, attempts.get((uid, slug)))
                       for slug in lesson_slugs) for uid in user_ids}


def _cell(done: bool, has_quiz: bool, summary: tuple[int, bool, int] | None) -> Cell:
    """The state of one cell from the progress row and the attempt summary."""
    count, passed, best = summary or (0, False, None)
    if done:
        return Cell("passed", best, count) if has_quiz and passed else Cell("done", None, count)
    if count and not passed:
        return Cell("failed", best, count)
    return Cell("todo", None, count)  # includes a lesson reset by a manager after a pass


# --- affiliates ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserSummary:
    """A person in the affiliate list with their course counts."""

    user: User
    started: int
    completed: int
    certificates: int


def users_page(*, q: str = "", role: str = "", page: int = 1, per_page: int = 50) -> Page:
    """A page of people (newest first) matching a search, with their course and certificate counts."""
    conditions = []
    if q.strip():
        conditions.append(_search(q))
    if role in ("affiliate", "manager"):
        conditions.append(User.role == role)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    page = clamp_page(page, per_page, total)
    users = list(db.session.scalars(select(User).where(*conditions).order_by(User.name, User.id)
                                    .limit(per_page).offset((page - 1) * per_page)))
    counts = _user_counts([u.id for u in users])
    return Page([UserSummary(u, *counts.get(u.id, (0, 0, 0))) for u in users], page, per_page, total)


def _user_counts(user_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Courses started, completed and certificates issued for a page of people."""
    if not user_ids:
        return {}
    completed = func.sum(case((CourseEnrollment.completed_at.is_not(None), 1), else_=0))
    courses = {uid: (int(s), int(c or 0)) for uid, s, c in db.session.execute(
        select(CourseEnrollment.user_id, func.count(), completed).where(CourseEnrollment.user_id.in_(user_ids))
        .group_by(CourseEnrollment.user_id))}
    certs = {uid: n for uid, n in db.session.execute(select(Certificate.user_id, func.count()).where(
        Certificate.user_id.in_(user_ids)).group_by(Certificate.user_id))}
    return {uid: (*courses.get(uid, (0, 0)), int(certs.get(uid, 0))) for uid in user_ids}


def active_manager_count() -> int:
    """Active accounts with the manager role."""
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == "manager", User.active.is_(True))) or 0


@dataclass(frozen=True)
class AnswerView:
    """One question of a stored attempt, readable: the question, the given answers, right or not."""

    number: int
    question_html: str | None
    given: list[str]  # option HTML (sanitised) for choices, the typed text for text questions
    given_is_html: bool
    correct: bool


@dataclass(frozen=True)
class AttemptView:
    """A stored attempt with its answers explained against the quiz version it was graded with."""

    attempt: QuizAttempt
    lesson_title: str
    current_version: bool
    answers: list[AnswerView]


def attempt_views(cat: Catalog, user_id: int, lang: str = "en", limit: int = 50) -> list[AttemptView]:
    """A person's latest attempts, each with its answers shown as the question and option texts."""
    attempts = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user_id)
                                  .order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc()).limit(limit))
    return [_attempt_view(cat, attempt, lang) for attempt in attempts]


def _graded_text(cat: Catalog, attempt: QuizAttempt) -> LessonText | None:
    """The current lesson text an attempt was graded with, or None when that version changed."""
    course = cat.course(attempt.course_slug)
    lesson = course.lesson(attempt.lesson_slug) if course else None
    text = lesson.texts.get(attempt.language) if lesson else None
    return text if text is not None and text.content_hash == attempt.content_hash and text.quiz else None


def _attempt_view(cat: Catalog, attempt: QuizAttempt, lang: str) -> AttemptView:
    """Explain one attempt's answers with the texts of the version it was graded with."""
    text = _graded_text(cat, attempt)
    title = lesson_title(cat, attempt.course_slug, attempt.lesson_slug, lang)
    if text is None or text.quiz is None:
        answers = [AnswerView(i, None, [str(v) for v in values], False, bool(attempt.results.get(qid)))
                   for i, (qid, values) in enumerate(sorted(attempt.answers.items()), start=1)]
        return AttemptView(attempt, title, False, answers)
    views = []
    for number, question in enumerate(text.quiz.questions, start=1):
        values = [str(v) for v in attempt.answers.get(question.id, [])]
        if question.kind == "text":
            views.append(AnswerView(number, question.html, values, False, bool(attempt.results.get(question.id))))
        else:
            labels = {o.id: o.html for o in question.options}
            views.append(AnswerView(number, question.html, [labels.get(v, "?") for v in values], True,
                                    bool(attempt.results.get(question.id))))
    return AttemptView(attempt, title, True, views)


@dataclass(frozen=True)
class LessonDetail:
    """One lesson of a person's course on their detail page."""

    slug: str
    title: str
    done: bool
    has_quiz: bool
    attempts: int
    allowed: int | None  # None: unlimited (or no quiz)


@dataclass(frozen=True)
class CourseDetail:
    """One course of a person: status and lessons."""

    course: Course
    title: str
    status: Any
    lessons: list[LessonDetail]


def user_courses(cat: Catalog, user_id: int, lang: str = "en") -> list[CourseDetail]:
    """A person's status in every course, with attempts used and allowed per quiz (four small queries)."""
    from .learning import statuses_for

    courses = list(cat.courses)
    statuses = statuses_for(user_id, courses)
    used = {(c, lsn): int(n) for c, lsn, n in db.session.execute(
        select(QuizAttempt.course_slug, QuizAttempt.lesson_slug, func.count()).where(QuizAttempt.user_id == user_id)
        .group_by(QuizAttempt.course_slug, QuizAttempt.lesson_slug))}
    grants = {(c, lsn): int(n) for c, lsn, n in db.session.execute(
        select(AttemptGrant.course_slug, AttemptGrant.lesson_slug, func.count()).where(AttemptGrant.user_id == user_id)
        .group_by(AttemptGrant.course_slug, AttemptGrant.lesson_slug))}
    details = []
    for course in courses:
        status = statuses[course.slug]
        lessons = []
        for lesson in course.lessons:
            quiz = lesson.texts[lesson.language].quiz
            key = (course.slug, lesson.slug)
            allowed = quiz.max_attempts + grants.get(key, 0) if quiz and quiz.max_attempts is not None else None
            lessons.append(LessonDetail(lesson.slug, lesson.text(lang)[0].title, lesson.slug in status.done,
                                        quiz is not None, used.get(key, 0), allowed))
        details.append(CourseDetail(course, course.text(lang).title, status, lessons))
    return details


# --- question analysis -----------------------------------------------------------------------------------------

@dataclass
class QuestionStats:
    """Item statistics of one question over the attempts on one quiz version."""

    number: int
    question: Question
    answered: int = 0
    right: int = 0
    upper_right: int = 0
    lower_right: int = 0
    group_size: int = 0
    wrong_options: Counter = field(default_factory=Counter)
    wrong_texts: Counter = field(default_factory=Counter)

    @property
    def percent_right(self) -> int | None:
        """Share of attempts that answered right, in percent."""
        return round(100 * self.right / self.answered) if self.answered else None

    @property
    def discrimination(self) -> float | None:
        """Upper-lower index D = (right in top 27%) - (right in bottom 27%), as shares; -1 to 1."""
        if not self.group_size:
            return None
        return round((self.upper_right - self.lower_right) / self.group_size, 2)

    @property
    def discrimination_label(self) -> str:
        """Ebel's reading of D: good, fair, review, or none."""
        d = self.discrimination
        if d is None:
            return "none"
        return "good" if d >= 0.3 else "fair" if d >= 0.2 else "review"

    def _top_wrong(self) -> tuple[str, int] | None:
        """The most frequent wrong answer (option id or folded text) and its count."""
        counter = self.wrong_options if self.question.kind != "text" else self.wrong_texts
        if not counter:
            return None
        # Ties go to the option listed first / the alphabetically first text, so results are stable.
        order = {o.id: i for i, o in enumerate(self.question.options)}
        return min(counter.items(), key=lambda item: (-item[1], order.get(item[0], 0), item[0]))

    @property
    def top_wrong_html(self) -> str | None:
        """The sanitised HTML of the most chosen wrong option (choice questions)."""
        top = self._top_wrong() if self.question.kind != "text" else None
        option = next((o for o in self.question.options if top and o.id == top[0]), None)
        return option.html if option else None

    @property
    def top_wrong_text(self) -> str | None:
        """The most frequent wrong free-text answer (plain text; escape when shown)."""
        top = self._top_wrong() if self.question.kind == "text" else None
        return top[0] if top else None

    @property
    def top_wrong_count(self) -> int:
        """How often the most frequent wrong answer was given."""
        top = self._top_wrong()
        return top[1] if top else 0


@dataclass(frozen=True)
class VersionAnalysis:
    """The analysis of one language version of a quiz (attempts graded with its current text)."""

    lang: str
    content_hash: str
    attempts: int
    group_size: int
    questions: list[QuestionStats]


def upper_lower_size(attempts: int) -> int:
    """The size of the upper and of the lower group: 27% of the attempts, rounded, at least 1 (if 2+)."""
    if attempts < 2:
        return 0
    return max(1, round(UPPER_LOWER_SHARE * attempts))


def question_analysis(course_slug: str, lesson: Lesson) -> tuple[list[VersionAnalysis], int]:
    """Per current language version with attempts: item statistics; plus the attempts on older versions."""
    versions = []
    for lang in lesson.languages:
        text = lesson.texts[lang]
        if text.quiz is None:
            continue
        version = _analyse_version(course_slug, lesson.slug, text)
        if version.attempts:
            versions.append(version)
    current = [lesson.texts[lang].content_hash for lang in lesson.languages]
    older = db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.course_slug == course_slug, QuizAttempt.lesson_slug == lesson.slug,
        QuizAttempt.content_hash.not_in(current))) or 0
    return versions, older


def _version_filter(course_slug: str, lesson_slug: str, text: LessonText) -> list[Any]:
    """WHERE conditions for the attempts graded with one lesson text."""
    return [QuizAttempt.course_slug == course_slug, QuizAttempt.lesson_slug == lesson_slug,
            QuizAttempt.language == text.lang, QuizAttempt.content_hash == text.content_hash]


def _analyse_version(course_slug: str, lesson_slug: str, text: LessonText) -> VersionAnalysis:
    """Three streamed passes: all attempts, the top 27% by score, the bottom 27% by score."""
    assert text.quiz is not None
    where = _version_filter(course_slug, lesson_slug, text)
    stats = [QuestionStats(i, q) for i, q in enumerate(text.quiz.questions, start=1)]
    count = 0
    for answers, results in _stream(select(QuizAttempt.answers, QuizAttempt.results).where(*where)):
        count += 1
        for item in stats:
            _tally(item, answers or {}, results or {})
    k = upper_lower_size(count)
    if k:
        upper = select(QuizAttempt.results).where(*where).order_by(QuizAttempt.score.desc(), QuizAttempt.id)
        lower = select(QuizAttempt.results).where(*where).order_by(QuizAttempt.score, QuizAttempt.id.desc())
        for (results,) in _stream(upper.limit(k)):
            for item in stats:
                item.upper_right += bool((results or {}).get(item.question.id))
        for (results,) in _stream(lower.limit(k)):
            for item in stats:
                item.lower_right += bool((results or {}).get(item.question.id))
        for item in stats:
            item.group_size = k
    return VersionAnalysis(text.lang, text.content_hash, count, k, stats)


def _stream(query: Any, chunk: int = 1000) -> Iterator[Any]:
    """Rows of a query fetched `chunk` at a time (constant memory)."""
    yield from db.session.execute(query.execution_options(yield_per=chunk))


def _tally(item: QuestionStats, answers: dict, results: dict) -> None:
    """Count one attempt's answer to one question."""
    qid = item.question.id
    if qid not in results:
        return
    item.answered += 1
    if results[qid]:
        item.right += 1
        return
    values = answers.get(qid) or []
    if item.question.kind == "text":
        for value in values[:1]:
            key = normalize_text(str(value))[:200]
            if key in item.wrong_texts or len(item.wrong_texts) < MAX_DISTINCT_TEXT_ANSWERS:
                item.wrong_texts[key] += 1
        return
    correct = set(item.question.correct_ids)
    valid = {o.id for o in item.question.options}
    for value in values:
        if value in valid and value not in correct:
            item.wrong_options[value] += 1


# --- CSV exports ---------------------------------------------------------------------------------------------

PROGRESS_HEADER = ["name", "email", "course", "lessons done", "lessons total", "percent", "started",
                   "last activity", "completed", "certificate id"]
ATTEMPTS_HEADER = ["attempt id", "name", "email", "course", "lesson", "language", "version", "submitted",
                   "score", "total", "percent", "passed", "answers"]


def neutralize(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _iso(value: datetime | None) -> str:
    """A UTC timestamp for a CSV cell (empty for none)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def csv_stream(header: list[str], rows: Iterable[Sequence[Any]], flush_at: int = 64 * 1024) -> Iterator[str]:
    """UTF-8 CSV text in pieces: a BOM (so spreadsheets read umlauts right), the header, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralize(value) for value in row])
        if buffer.tell() >= flush_at:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _lessons_of(cat: Catalog) -> dict[str, list[str]]:
    """Current lesson slugs per course."""
    return {course.slug: [lesson.slug for lesson in course.lessons] for course in cat.courses}


def progress_rows(cat: Catalog, chunk: int = EXPORT_CHUNK) -> Iterator[list[Any]]:
    """One row per affiliate and started course, read in chunks of affiliates (keyset on the user id)."""
    lessons = _lessons_of(cat)
    last_id = 0
    while True:
        users = db.session.execute(select(User.id, User.name, User.email).where(
            _is_affiliate(), User.id > last_id).order_by(User.id).limit(chunk)).all()
        if not users:
            return
        last_id = users[-1].id
        yield from _progress_chunk(users, lessons)


def _progress_chunk(users: list[Any], lessons: dict[str, list[str]]) -> Iterator[list[Any]]:
    """The export rows of one chunk of affiliates: three IN queries."""
    ids = [u.id for u in users]
    people = {u.id: u for u in users}
    enrollments = db.session.execute(select(CourseEnrollment).where(CourseEnrollment.user_id.in_(ids))
                                     .order_by(CourseEnrollment.user_id, CourseEnrollment.course_slug)).scalars()
    current = [and_(LessonProgress.course_slug == c, LessonProgress.lesson_slug.in_(s)) for c, s in lessons.items() if s]
    done: dict[tuple[int, str], int] = {}
    if current:
        done = {(uid, c): int(n) for uid, c, n in db.session.execute(
            select(LessonProgress.user_id, LessonProgress.course_slug, func.count())
            .where(LessonProgress.user_id.in_(ids), or_(*current))
            .group_by(LessonProgress.user_id, LessonProgress.course_slug))}
    certs = {(uid, c): cid for uid, c, cid in db.session.execute(
        select(Certificate.user_id, Certificate.course_slug, Certificate.id).where(
            Certificate.user_id.in_(ids), Certificate.revoked_at.is_(None), Certificate.superseded_at.is_(None),
            Certificate.withdrawn_at.is_(None)))}
    for enrollment in enrollments:
        person = people[enrollment.user_id]
        key = (enrollment.user_id, enrollment.course_slug)
        total = len(lessons.get(enrollment.course_slug, []))
        count = done.get(key, 0)
        yield [person.name, person.email, enrollment.course_slug, count, total,
               (100 * count) // total if total else 0, _iso(enrollment.started_at),
               _iso(enrollment.last_activity_at), _iso(enrollment.completed_at), certs.get(key, "")]
    db.session.expunge_all()  # enrollments were loaded as objects: keep the identity map small


def attempt_rows(chunk: int = EXPORT_CHUNK * 2) -> Iterator[list[Any]]:
    """One row per quiz attempt, oldest first, read in chunks (keyset on the attempt id)."""
    last_id = 0
    columns = (QuizAttempt.id, User.name, User.email, QuizAttempt.course_slug, QuizAttempt.lesson_slug,
               QuizAttempt.language, QuizAttempt.content_hash, QuizAttempt.created_at, QuizAttempt.score,
               QuizAttempt.total, QuizAttempt.percent, QuizAttempt.passed, QuizAttempt.answers)
    while True:
        rows = db.session.execute(select(*columns).outerjoin(User, User.id == QuizAttempt.user_id)
                                  .where(QuizAttempt.id > last_id).order_by(QuizAttempt.id).limit(chunk)).all()
        if not rows:
            return
        last_id = rows[-1][0]
        for (aid, name, email, course, lesson, language, content_hash, created, score, total, percent, passed,
             answers) in rows:
            yield [aid, name or "", email or "", course, lesson, language, content_hash[:12], _iso(_aware(created)),
                   score, total, percent, "yes" if passed else "no",
                   json.dumps(answers, ensure_ascii=False, sort_keys=True, separators=(",", ":"))]


# --- content status ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileInfo:
    """One language file of a lesson for the content page."""

    lang: str
    path: str
    quiz_size: int | None
    hash_short: str
    changed_at: datetime | None
    errors: int
    warnings: int


@dataclass(frozen=True)
class LessonInfo:
    """A lesson (loaded or not) with its files."""

    slug: str
    title: str
    loaded: bool
    files: list[FileInfo]


@dataclass(frozen=True)
class CourseInfo:
    """A course folder with its lessons, as the loader saw it."""

    slug: str
    title: str
    loaded: bool
    published: bool
    lessons: list[LessonInfo]


def _file_info(status: FileStatus) -> FileInfo:
    """Describe one content file."""
    quiz = status.preview.quiz if status.preview else None
    return FileInfo(status.lang, status.path, len(quiz.questions) if quiz else None, status.content_hash[:10],
                    datetime.fromtimestamp(status.mtime, timezone.utc) if status.mtime else None,
                    sum(e.severity == "error" for e in status.errors), sum(e.severity == "warning" for e in status.errors))


def content_status(cat: Catalog, lang: str = "en") -> list[CourseInfo]:
    """Every course folder and lesson file the loader saw, loaded or not, in catalog order."""
    by_course: dict[str, dict[str, list[FileStatus]]] = {}
    for status in cat.files:
        if status.lesson_slug is not None:
            by_course.setdefault(status.course_slug, {}).setdefault(status.lesson_slug, []).append(status)
        else:
            by_course.setdefault(status.course_slug, {})
    loaded = [c.slug for c in cat.courses]
    order = loaded + sorted(set(by_course) - set(loaded))
    return [_course_info(cat, slug, by_course.get(slug, {}), lang) for slug in order]


def _course_info(cat: Catalog, slug: str, lessons: dict[str, list[FileStatus]], lang: str) -> CourseInfo:
    """Describe one course folder."""
    course = cat.course(slug)
    loaded_slugs = [lesson.slug for lesson in course.lessons] if course else []
    slugs = loaded_slugs + sorted(set(lessons) - set(loaded_slugs))
    infos = []
    for lesson_slug in slugs:
        lesson = course.lesson(lesson_slug) if course else None
        files = sorted(lessons.get(lesson_slug, []), key=lambda s: (s.lang != (course.language if course else ""), s.lang))
        preview = next((f.preview for f in files if f.preview), None)
        title = lesson.text(lang)[0].title if lesson else (preview.title if preview else lesson_slug)
        infos.append(LessonInfo(lesson_slug, title, lesson is not None, [_file_info(f) for f in files]))
    return CourseInfo(slug, course.text(lang).title if course else slug, course is not None,
                      bool(course and course.published), infos)


@dataclass(frozen=True)
class Preview:
    """A lesson text as a manager previews it: the file as it is now, with its problems."""

    course_slug: str
    lesson_slug: str
    lang: str
    languages: list[str]
    text: LessonText | None
    errors: list[Any]
    loaded: bool


def preview(cat: Catalog, course_slug: str, lesson_slug: str, lang: str | None) -> Preview | None:
    """The lesson text to preview (drafts and files with errors too); None when no such lesson file exists."""
    files = [f for f in cat.files if f.course_slug == course_slug and f.lesson_slug == lesson_slug]
    course = cat.course(course_slug)
    lesson = course.lesson(lesson_slug) if course else None
    if not files and lesson is None:
        return None
    languages = sorted({f.lang for f in files} | set(lesson.texts if lesson else ()))
    default = lesson.language if lesson else (course.language if course else languages[0])
    lang = lang if lang in languages else (default if default in languages else languages[0])
    status = next((f for f in files if f.lang == lang), None)
    text = status.preview if status and status.preview else (lesson.texts.get(lang) if lesson else None)
    return Preview(course_slug, lesson_slug, lang, languages, text, list(status.errors) if status else [],
                   lesson is not None)


# --- invites -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InviteView:
    """An invite with its computed status and the name of who used it."""

    invite: Invite
    status: str
    used_by: str | None
    created_by: str | None


def invite_status(invite: Invite, now: datetime | None = None) -> str:
    """open, used, expired or withdrawn."""
    if invite.withdrawn_at:
        return "withdrawn"
    if invite.used_at:
        return "used"
    if invite.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


def invites_page(*, page: int = 1, per_page: int = 50, now: datetime | None = None) -> Page:
    """A page of invites, newest first, with status and the people involved."""
    now = now or utcnow()
    total = db.session.scalar(select(func.count()).select_from(Invite)) or 0
    page = clamp_page(page, per_page, total)
    used_by, created_by = aliased(User), aliased(User)
    rows = db.session.execute(
        select(Invite, used_by.name, created_by.name).outerjoin(used_by, used_by.id == Invite.used_by_id)
        .outerjoin(created_by, created_by.id == Invite.created_by_id)
        .order_by(Invite.created_at.desc(), Invite.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return Page([InviteView(inv, invite_status(inv, now), used, made) for inv, used, made in rows], page, per_page,
                total)


__all__ = ["overview", "progress_matrix", "course_matrix", "question_analysis", "progress_rows", "attempt_rows",
           "csv_stream", "neutralize", "content_status", "preview", "invites_page", "users_page", "attempt_views",
           "Page"]
