"""CSV exports, streamed in constant memory with every cell safe for spreadsheets."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from ...content import Catalog
from ...extensions import db
from ...models import (
    Certificate,
    CourseEnrollment,
    LessonProgress,
    QuizAttempt,
    Review,
    Submission,
    SubmissionVersion,
    User,
    iso_utc,
)
from .. import audit
from ..db import begin_write
from .common import aware, is_affiliate

EXPORT_CHUNK = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A part of a cell starts at the cell's start or after a character a spreadsheet may split on (`;` in German
# locales, `,`, tab, line breaks); spaces and double quotes in front of a trigger do not disarm it. Each such
# part that starts with a trigger gets an apostrophe right before the trigger.
_TRIGGER = re.compile(r'(?:^|(?<=[;,\t\r\n]))([ "]*)(?=[=+\-@\t\r])')

PROGRESS_HEADER = ["name", "email", "course", "lessons done", "lessons total", "percent", "started",
                   "last activity", "completed", "certificate id"]
ATTEMPTS_HEADER = ["attempt id", "name", "email", "course", "lesson", "language", "version", "submitted",
                   "score", "total", "percent", "passed", "answers"]
REVIEWS_HEADER = ["review id", "name", "email", "course", "lesson", "version", "submitted", "reviewed", "decision",
                  "criteria met", "criteria total", "reviewer", "hours waited"]


def neutralize(value: Any) -> Any:
    """A cell no spreadsheet will run as a formula, however it splits the cell: every part that starts with
    = + - @ tab or CR (at the start, or after ; , tab or a line break) gets an apostrophe before that character.

    `Dave;=1+1;@SUM(1)` becomes `Dave;'=1+1;'@SUM(1)`: read with `,` it is one text cell, read with `;` it is
    three text cells. Numbers and text without triggers stay as they are.
    """
    if not isinstance(value, str) or not value:
        return value
    return _TRIGGER.sub(lambda match: match.group(1) + "'", value)


def _cell_time(value: datetime | None) -> str:
    """A UTC timestamp for a CSV cell ("2026-03-01 09:30:00+00:00"; empty for none)."""
    return iso_utc(aware(value), sep=" ") or ""


def record_download(actor: User, kind: str) -> None:
    """Note in the audit log that a manager downloaded an export (a GET that writes: its own write transaction)."""
    begin_write()
    audit.record(actor, "export_downloaded", "export", kind)


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
            is_affiliate(), User.id > last_id).order_by(User.id).limit(chunk)).all()
        if not users:
            return
        last_id = users[-1].id
        yield from _progress_chunk(users, lessons)


def _progress_chunk(users: list[Any], lessons: dict[str, list[str]]) -> Iterator[list[Any]]:
    """The export rows of one chunk of affiliates: three IN queries."""
    ids = [u.id for u in users]
    people = {u.id: u for u in users}
    enrollments = db.session.execute(select(CourseEnrollment.user_id, CourseEnrollment.course_slug,
                                            CourseEnrollment.started_at, CourseEnrollment.last_activity_at,
                                            CourseEnrollment.completed_at)
                                     .where(CourseEnrollment.user_id.in_(ids))
                                     .order_by(CourseEnrollment.user_id, CourseEnrollment.course_slug))
    current = [and_(LessonProgress.course_slug == c, LessonProgress.lesson_slug.in_(s))
               for c, s in lessons.items() if s]
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
               (100 * count) // total if total else 0, _cell_time(enrollment.started_at),
               _cell_time(enrollment.last_activity_at), _cell_time(enrollment.completed_at), certs.get(key, "")]


def attempt_rows(chunk: int = EXPORT_CHUNK) -> Iterator[list[Any]]:
    """One row per quiz attempt, oldest first, read in chunks (keyset on the attempt id)."""
    last_id = 0
    columns = (QuizAttempt.id, User.name, User.email, QuizAttempt.course_slug, QuizAttempt.lesson_slug,
               QuizAttempt.language, func.coalesce(QuizAttempt.quiz_version, QuizAttempt.content_hash),
               QuizAttempt.created_at, QuizAttempt.score,
               QuizAttempt.total, QuizAttempt.percent, QuizAttempt.passed, QuizAttempt.answers)
    while True:
        rows = db.session.execute(select(*columns).outerjoin(User, User.id == QuizAttempt.user_id)
                                  .where(QuizAttempt.id > last_id).order_by(QuizAttempt.id).limit(chunk)).all()
        if not rows:
            return
        last_id = rows[-1][0]
        for (aid, name, email, course, lesson, language, version, created, score, total, percent, passed,
             answers) in rows:
            yield [aid, name or "", email or "", course, lesson, language, version[:12], _cell_time(created),
                   score, total, percent, "yes" if passed else "no",
                   json.dumps(answers, ensure_ascii=False, sort_keys=True, separators=(",", ":"))]


def review_rows(chunk: int = EXPORT_CHUNK) -> Iterator[list[Any]]:
    """One row per review, oldest first, read in chunks (keyset on the review id); no submitted text or comment."""
    last_id = 0
    reviewer = aliased(User)
    columns = (Review.id, User.name, User.email, Submission.course_slug, Submission.lesson_slug,
               SubmissionVersion.number, SubmissionVersion.submitted_at, Review.created_at, Review.decision,
               Review.met, Review.total, reviewer.name)
    while True:
        rows = db.session.execute(
            select(*columns).join(SubmissionVersion, SubmissionVersion.id == Review.version_id)
            .join(Submission, Submission.id == SubmissionVersion.submission_id)
            .outerjoin(User, User.id == Submission.user_id).outerjoin(reviewer, reviewer.id == Review.reviewer_id)
            .where(Review.id > last_id).order_by(Review.id).limit(chunk)).all()
        if not rows:
            return
        last_id = rows[-1][0]
        for rid, name, email, course, lesson, number, submitted, reviewed, decision, met, total, by in rows:
            waited = (aware(reviewed) - aware(submitted)).total_seconds() / 3600
            yield [rid, name or "", email or "", course, lesson, number, _cell_time(submitted), _cell_time(reviewed),
                   decision, met, total, by or "", f"{waited:.1f}"]
