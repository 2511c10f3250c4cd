"""The reports rewritten for scale answer exactly what the straightforward queries answered: each figure is
compared with a reference (the query it replaced) on a random data set with managers, deleted accounts,
lessons no longer in the course, ties and legacy attempts, on the suite's database."""
from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import and_, case, func, insert, not_, select
from sqlalchemy.orm import aliased

from coaching.content import normalize_text
from coaching.extensions import db
from coaching.models import (
    CourseEnrollment,
    LessonProgress,
    QuizAttempt,
    Review,
    Submission,
    SubmissionVersion,
    User,
)
from coaching.services import catalog, review_queue
from coaching.services.quizzes import graded_with
from coaching.services.reports import matrix, overview, questions
from coaching.services.reports.common import is_affiliate, person_search

from .conftest import Q

NOW = datetime(2026, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
PEOPLE = 70
WRONG_TEXTS = ["cost per click", "Cost per  CLICK", "CTR", "click rate", "no idea", ""]


def _when(rng: random.Random, days: int) -> datetime:
    """A random moment in the last `days` days, to the microsecond."""
    return NOW - timedelta(seconds=rng.randrange(1, days * 86400), microseconds=rng.randrange(1_000_000))


def _sheet(rng: random.Random, text: Any) -> tuple[dict, dict, int]:
    """Random answers to the demo quiz with random results (the reports trust what grading stored)."""
    answers = {Q.single: [rng.choice([Q.single_right, Q.single_wrong, Q.single_other])],
               Q.multi: rng.choice([Q.multi_right, [Q.multi_right[0], Q.multi_wrong], [Q.multi_wrong], []]),
               Q.text: [rng.choice(["click-through rate"] + WRONG_TEXTS)]}
    if rng.random() < 0.1:
        answers[Q.text] = []  # a text answer erased with a deleted account
    results = {qid: rng.random() < 0.55 for qid in (Q.single, Q.multi, Q.text)}
    if rng.random() < 0.05:
        del results[Q.text]  # a question this sheet did not have
    return answers, results, sum(results.values())


@pytest.fixture
def data(app: Any) -> dict[str, Any]:
    """Affiliates, two managers and deleted accounts' rows with enrollments, progress (also of a lesson that
    left the course), attempts (current, legacy and older quiz versions) and reviewed submissions."""
    rng = random.Random(4711)
    with app.app_context():
        lesson = catalog.catalog().course("demo").lesson("headlines")
        text = lesson.texts["en"]
        names = [f"person{rng.randrange(1000):03d}" for _ in range(PEOPLE)]  # repeated names: ties on the name
        users = [{"email": f"p{i}@example.com", "name": names[i], "role": "affiliate", "active": rng.random() < 0.9,
                  "session_token": f"t{i}", "created_at": NOW, "last_seen_at": _when(rng, 60)} for i in range(PEOPLE)]
        users += [{"email": f"m{i}@example.com", "name": f"manager{i}", "role": "manager", "active": True,
                   "session_token": f"m{i}", "created_at": NOW} for i in range(2)]
        db.session.execute(insert(User), users)
        ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        people = ids + [None] * 6  # None: rows of deleted accounts
        enrollments, progress, attempts = [], [], []
        for n, uid in enumerate(people):
            if rng.random() < 0.15 and uid is not None:
                continue  # never started
            started = _when(rng, 60)
            last = started + timedelta(days=rng.randrange(0, 10))
            if uid is not None:
                enrollments.append({"user_id": uid, "course_slug": "demo", "started_at": started,
                                    "last_activity_at": last, "completed_at": last if rng.random() < 0.3 else None})
            for slug in rng.sample(["welcome", "headlines", "gone-lesson"], rng.randrange(0, 4)):
                if uid is not None or rng.random() < 0.5:
                    progress.append({"user_id": uid, "course_slug": "demo", "lesson_slug": slug,
                                     "completed_at": last, "content_hash": "h"})
            for k in range(rng.choice([0, 1, 1, 2, 3, 5])):
                answers, results, score = _sheet(rng, text)
                kind = rng.random()
                version = (text.quiz.version if kind < 0.8 else None if kind < 0.9 else "older-version")
                content_hash = text.content_hash if kind < 0.9 else "0" * 64
                attempts.append({"user_id": uid, "submission_id": f"s{n}-{k}", "course_slug": "demo",
                                 "lesson_slug": "headlines", "language": "en", "content_hash": content_hash,
                                 "quiz_version": version, "answers": answers, "results": results, "score": score,
                                 "total": 3, "percent": 100 * score // 3, "passed": score >= 2,
                                 "created_at": _when(rng, 60)})
        for k in range(15):  # another quiz's failures: the failed-quiz ranking has ties to break
            attempts.append({"user_id": rng.choice(people), "submission_id": f"o{k}", "course_slug": "demo",
                             "lesson_slug": "other", "language": "en", "content_hash": "x", "answers": {},
                             "results": {}, "score": 0, "total": 3, "percent": 0, "passed": rng.random() < 0.4,
                             "created_at": _when(rng, 60)})
        db.session.execute(insert(CourseEnrollment), enrollments)
        db.session.execute(insert(LessonProgress), progress)
        db.session.execute(insert(QuizAttempt), attempts)
        _reviews(rng, ids)
        db.session.commit()
    return {"ids": ids}


def _reviews(rng: random.Random, ids: list[int]) -> None:
    """Reviewed versions with waits to the microsecond (some outside the 30 days), and a waiting one."""
    for n, uid in enumerate(ids[:41]):
        submitted = _when(rng, 45)
        submission = Submission(user_id=uid, course_slug="demo", lesson_slug=f"task-{n}", state="approved",
                                versions_count=1, submitted_at=submitted, created_at=submitted, updated_at=submitted)
        db.session.add(submission)
        db.session.flush()
        version = SubmissionVersion(submission_id=submission.id, number=1, state="approved", answer="a",
                                    language="en", content_hash="h", lesson_title="t", task="t", task_html="t",
                                    criteria=[], submitted_at=submitted)
        db.session.add(version)
        db.session.flush()
        wait = timedelta(hours=rng.randrange(1, 90), microseconds=rng.randrange(1_000_000))
        db.session.add(Review(version_id=version.id, reviewer_id=None, decision="approve", criteria={}, met=0,
                              total=0, created_at=min(NOW, submitted + wait)))


# --- the references: the queries the reports ran before -------------------------------------------------------

def ref_failed(cat: Any) -> list[tuple[str, str, int, int]]:
    """Most failed quizzes: every attempt joined to its person."""
    failed = func.sum(case((QuizAttempt.passed.is_(False), 1), else_=0))
    return [tuple(r) for r in db.session.execute(
        select(QuizAttempt.course_slug, QuizAttempt.lesson_slug, failed, func.count())
        .outerjoin(User, User.id == QuizAttempt.user_id).where(is_affiliate())
        .group_by(QuizAttempt.course_slug, QuizAttempt.lesson_slug)
        .having(failed > 0).order_by(failed.desc(), QuizAttempt.course_slug, QuizAttempt.lesson_slug).limit(5))]


def ref_done() -> dict[tuple[str, str], int]:
    """Completions per lesson: every progress row joined to its person."""
    return {(c, lsn): n for c, lsn, n in db.session.execute(
        select(LessonProgress.course_slug, LessonProgress.lesson_slug, func.count())
        .outerjoin(User, User.id == LessonProgress.user_id).where(is_affiliate())
        .group_by(LessonProgress.course_slug, LessonProgress.lesson_slug))}


def ref_inactive(now: datetime, limit: int, offset: int) -> tuple[list[tuple[int, int]], int]:
    """Inactive affiliates: a count of the grouped rows, then a page of them."""
    cutoff = now - timedelta(days=overview.INACTIVE_DAYS)
    last = func.max(CourseEnrollment.last_activity_at)
    unfinished = func.sum(case((CourseEnrollment.completed_at.is_(None), 1), else_=0))
    grouped = (select(User.id, unfinished).join(CourseEnrollment, CourseEnrollment.user_id == User.id)
               .where(is_affiliate(), User.active.is_(True)).group_by(User.id).having(last < cutoff, unfinished > 0))
    total = db.session.scalar(select(func.count()).select_from(grouped.subquery()))
    rows = db.session.execute(grouped.order_by(last, User.id).limit(limit).offset(offset))
    return [(uid, int(n)) for uid, n in rows], total


def ref_question_stats(lesson: Any) -> list[tuple[Any, ...]]:
    """The question analysis as three streamed passes over every attempt."""
    text = lesson.texts["en"]
    where = [QuizAttempt.course_slug == "demo", QuizAttempt.lesson_slug == lesson.slug,
             QuizAttempt.language == "en", graded_with(text)]
    stats = [questions.QuestionStats(i, q) for i, q in enumerate(text.quiz.questions, start=1)]
    rows = db.session.execute(select(QuizAttempt.answers, QuizAttempt.results).where(*where)).all()
    for answers, results in rows:
        for item in stats:
            questions._tally(item, answers or {}, results or {})
    k = questions.upper_lower_size(len(rows))
    upper = db.session.scalars(select(QuizAttempt.results).where(*where)
                               .order_by(QuizAttempt.score.desc(), QuizAttempt.id).limit(k)).all()
    lower = db.session.scalars(select(QuizAttempt.results).where(*where)
                               .order_by(QuizAttempt.score, QuizAttempt.id.desc()).limit(k)).all()
    for item in stats:
        item.upper_right = sum(bool(r.get(item.question.id)) for r in upper)
        item.lower_right = sum(bool(r.get(item.question.id)) for r in lower)
        item.group_size = k
    older = db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.course_slug == "demo", QuizAttempt.lesson_slug == lesson.slug, not_(graded_with(text))))
    return [len(rows), older] + [_stat_tuple(item) for item in stats]


def _stat_tuple(item: Any) -> tuple[Any, ...]:
    """Everything the page shows of one question."""
    return (item.answered, item.right, item.upper_right, item.lower_right, item.group_size, dict(item.wrong_options),
            dict(item.wrong_texts), item.top_wrong_html, item.top_wrong_text, item.top_wrong_count,
            item.discrimination)


def ref_matrix_ids(course_slug: str, lessons: list[str], q: str, sort: str, status: str, page: int,
                   per_page: int) -> tuple[list[int], int]:
    """The matrix's total and page of ids with every row joined to the enrollment and counted."""
    enrollment = aliased(CourseEnrollment)
    joined = and_(enrollment.user_id == User.id, enrollment.course_slug == course_slug)
    conditions = [is_affiliate()]
    if q:
        conditions.append(person_search(q))
    if status == "started":
        conditions.append(enrollment.id.is_not(None))
    elif status == "not_started":
        conditions.append(enrollment.id.is_(None))
    elif status == "completed":
        conditions.append(enrollment.completed_at.is_not(None))
    total = db.session.scalar(select(func.count()).select_from(User).outerjoin(enrollment, joined).where(*conditions))
    done = (select(func.count()).select_from(LessonProgress).where(
        LessonProgress.user_id == User.id, LessonProgress.course_slug == course_slug,
        LessonProgress.lesson_slug.in_(lessons)).correlate(User).scalar_subquery())
    no_activity = case((enrollment.last_activity_at.is_(None), 1), else_=0)
    order = {"name": [User.name, User.id],
             "progress": [done.desc(), no_activity, enrollment.last_activity_at.desc(), User.name, User.id],
             "activity": [no_activity, enrollment.last_activity_at.desc(), User.name, User.id]}[sort]
    ids = list(db.session.scalars(select(User.id).outerjoin(enrollment, joined).where(*conditions)
                                  .order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    return ids, total


# --- the comparisons ----------------------------------------------------------------------------------------

def test_failed_quizzes_and_drop_off_match_the_joined_counts(app, data):
    """The most failed quizzes (with ties) and the completions per lesson leave managers' rows out and keep the
    rows of deleted accounts, exactly as joining every row to its person did."""
    with app.app_context():
        cat = catalog.catalog()
        expected = ref_failed(cat)
        assert len(expected) == 2 and any(n for _c, _l, _f, n in expected)
        assert [(q.course_slug, q.lesson_slug, q.failed, q.attempts) for q in overview.most_failed_quizzes(cat)] \
            == expected
        done = ref_done()
        assert done.get(("demo", "gone-lesson"))  # rows of a lesson that left the course are counted apart
        drop = overview.drop_off(cat)[0]
        assert [(slug, n) for slug, _title, n in drop.lessons] == [(s, done.get(("demo", s), 0))
                                                                    for s in ("welcome", "headlines")]


@pytest.mark.parametrize("limit", [3, 10])
def test_inactive_pages_match_count_then_page(app, data, limit):
    """Every page of the inactive affiliates, and the total that comes with the rows, match a separate count
    and a LIMIT/OFFSET page; a page past the end shows the last page."""
    with app.app_context():
        _items, total = overview.inactive_affiliates(now=NOW, limit=limit)
        assert total > limit
        pages = -(-total // limit)
        for page in range(1, pages + 1):
            items, got_total = overview.inactive_affiliates(now=NOW, limit=limit, page=page)
            assert ([(p.user_id, p.unfinished) for p in items], got_total) == ref_inactive(NOW, limit,
                                                                                         (page - 1) * limit)
        past, past_total = overview.inactive_affiliates(now=NOW, limit=limit, page=pages + 5)
        assert ([(p.user_id, p.unfinished) for p in past], past_total) == ref_inactive(NOW, limit,
                                                                                     (pages - 1) * limit)


def test_question_analysis_matches_three_streamed_passes(app, data):
    """Counts, wrong answers, the upper and lower groups (ties at both boundaries) and older versions."""
    with app.app_context():
        lesson = catalog.catalog().course("demo").lesson("headlines")
        versions, older = questions.question_analysis("demo", lesson)
        expected = ref_question_stats(lesson)
        (version,) = versions
        assert [version.attempts, older] + [_stat_tuple(item) for item in version.questions] == expected
        scores = db.session.scalars(select(QuizAttempt.score).where(
            QuizAttempt.lesson_slug == "headlines", graded_with(lesson.texts["en"]))).all()
        ranked = sorted(scores, reverse=True)
        k = version.group_size
        assert ranked[k - 1] == ranked[k] and sorted(scores)[k - 1] == sorted(scores)[k]  # the cut splits a tie


def test_review_median_matches_the_median_of_every_wait(app, data):
    """For every window of 1 to 30 days (odd and even counts among them), the median read from the middle rows
    in SQL equals statistics.median over every wait, to the microsecond."""
    parities = set()
    with app.app_context():
        for days in range(1, 31):
            waits = [reviewed - submitted for submitted, reviewed in db.session.execute(
                select(SubmissionVersion.submitted_at, Review.created_at).join(Review, Review.version_id ==
                                                                               SubmissionVersion.id)
                .where(Review.created_at >= NOW - timedelta(days=days)))]
            figures = review_queue.review_figures(now=NOW, days=days)
            assert figures.reviewed == len(waits)
            assert figures.median_first_review == (statistics.median(waits) if waits else None)
            parities.add(len(waits) % 2)
    assert parities == {0, 1}


@pytest.mark.parametrize("sort", ["name", "progress", "activity"])
@pytest.mark.parametrize("status", ["all", "started", "not_started", "completed"])
def test_matrix_pages_match_the_joined_query(app, data, sort, status):
    """Every page of the matrix in every sort and filter (and a search) lists the same people in the same order,
    with the same total, as the query that joined and counted for every row."""
    with app.app_context():
        course = catalog.catalog().course("demo")
        lessons = [lesson.slug for lesson in course.lessons]
        for q in ("", "person0"):
            first = matrix.course_matrix(course, q=q, sort=sort, status=status, per_page=7)
            for page in range(1, first.pages + 1):
                got = matrix.course_matrix(course, q=q, sort=sort, status=status, page=page, per_page=7)
                assert ([row.user_id for row in got.items], got.total) == ref_matrix_ids(
                    "demo", lessons, q, sort, status, page, 7)


def test_staff_subquery_names_only_non_affiliates(app, data):
    """The overview takes away exactly the managers' rows (nobody else is left out)."""
    with app.app_context():
        staff = set(db.session.scalars(select(User.id).where(User.id.in_(overview.staff_ids()))))
        managers = set(db.session.scalars(select(User.id).where(User.role == "manager")))
        assert staff == managers and len(staff) == 2
        for model in (QuizAttempt, LessonProgress):  # the data set has rows to take away, and rows to keep
            assert db.session.scalar(select(func.count()).select_from(model).where(model.user_id.in_(staff)))
            assert db.session.scalar(select(func.count()).select_from(model).where(model.user_id.is_(None)))
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
            QuizAttempt.user_id.in_(staff), QuizAttempt.passed.is_(False)))


def test_wrong_text_answers_are_folded_once_per_distinct_text(app, data):
    """Spellings of one wrong text answer count together (folded as before)."""
    with app.app_context():
        lesson = catalog.catalog().course("demo").lesson("headlines")
        (version,), _older = questions.question_analysis("demo", lesson)
        texts = version.questions[2].wrong_texts
        assert normalize_text("Cost per  CLICK") in texts and "Cost per  CLICK" not in texts
