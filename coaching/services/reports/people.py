"""People in the manager area: the searchable list with course counts, one person's courses and attempts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from ...content import Catalog, Course
from ...extensions import db
from ...models import AttemptGrant, Certificate, CourseEnrollment, QuizAttempt, User
from ..paging import MAX_PER_PAGE, Page, clamp_page, page_of
from ..progress import statuses_for
from ..quizzes import graded_text, lesson_of
from .common import lesson_title, person_search


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
        conditions.append(person_search(q))
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


def attempt_views(cat: Catalog, user_id: int, lang: str = "en", *, page: int = 1, per_page: int = 50) -> Page:
    """A page of a person's attempts, latest first, each with its answers shown as the question and option texts."""
    attempts = page_of(select(QuizAttempt).where(QuizAttempt.user_id == user_id)
                       .order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc()), page=page, per_page=per_page)
    return Page([_attempt_view(cat, attempt, lang) for attempt in attempts.items], attempts.page, attempts.per_page,
                attempts.total)


def _attempt_view(cat: Catalog, attempt: QuizAttempt, lang: str) -> AttemptView:
    """Explain one attempt's answers with the texts of the version it was graded with."""
    text = graded_text(lesson_of(cat, attempt.course_slug, attempt.lesson_slug), attempt)
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
