"""CSV exports stream in constant memory: the peak of Python's allocations while a large export is read does not
grow with the number of rows, and stays a small fraction of the file it produces (tracemalloc, not time)."""
from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from coaching.extensions import db
from coaching.models import CourseEnrollment, LessonProgress, QuizAttempt, User

from .conftest import Q

NOW = datetime.now(UTC)
WARM = 1_000  # rows of the first, untraced download (compiled statements, caches)


def _add_attempts(app: Any, start: int, count: int) -> None:
    """`count` attempts with answers of a realistic size, spread over a few people."""
    with app.app_context():
        people = list(db.session.scalars(select(User.id).where(User.role == "affiliate")))
        answers = {Q.single: ["o-95e03f68"], Q.multi: ["o-d7662aaa", "o-d58088c2"], Q.text: ["click through rate"]}
        results = {Q.single: False, Q.multi: False, Q.text: True}
        for offset in range(start, start + count, 5000):
            db.session.execute(insert(QuizAttempt), [
                {"user_id": people[n % len(people)], "submission_id": f"m{n}", "course_slug": "demo",
                 "lesson_slug": "headlines", "language": "en", "content_hash": "0" * 64, "quiz_version": "v" * 16,
                 "answers": answers, "results": results, "score": 1, "total": 3, "percent": 33, "passed": False,
                 "created_at": NOW - timedelta(seconds=n)} for n in range(offset, min(offset + 5000, start + count))])
        db.session.commit()


def _add_people(app: Any, start: int, count: int) -> None:
    """`count` affiliates, each enrolled in the demo course with one lesson done, and in a retired course."""
    with app.app_context():
        db.session.execute(insert(User), [{"email": f"mem{n}@example.com", "name": f"Memory Person {n}",
                                           "role": "affiliate", "session_token": f"t{n}"}
                                          for n in range(start, start + count)])
        ids = list(db.session.scalars(select(User.id).where(User.email.like("mem%")).order_by(User.id)))[start:]
        db.session.execute(insert(CourseEnrollment), [{"user_id": uid, "course_slug": slug, "started_at": NOW,
                                                       "last_activity_at": NOW}
                                                      for uid in ids for slug in ("demo", "retired-course")])
        db.session.execute(insert(LessonProgress), [{"user_id": uid, "course_slug": "demo", "lesson_slug": "welcome",
                                                     "completed_at": NOW, "content_hash": "h"} for uid in ids])
        db.session.commit()


def _stream_peak(client: Any, path: str) -> tuple[int, int]:
    """Download piece by piece, keeping nothing: (peak bytes allocated meanwhile, bytes downloaded). Tracing
    starts before the request: the test client reads the first piece before it returns."""
    size = 0
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        response = client.get(path, buffered=False)
        assert response.status_code == 200 and response.is_streamed
        for piece in response.response:
            size += len(piece)
        response.close()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, size


@pytest.mark.parametrize(("path", "grow", "batch"), [("/manage/export/attempts.csv", _add_attempts, 15_000),
                                                     ("/manage/export/progress.csv", _add_people, 10_000)])
def test_export_memory_does_not_grow_with_rows(app, manager_client, world, path, grow, batch):
    """Doubling the rows leaves the peak where it was, and the peak stays below half the file's size (holding
    the file, or the rows, would take more than the file itself)."""
    world.user("Seed Person")
    grow(app, 0, WARM)
    manager_client.get(path).close()  # first use: compiled statements, caches
    grow(app, WARM, batch - WARM)  # `batch` rows (attempts, or people)
    peak_small, size_small = _stream_peak(manager_client, path)
    grow(app, batch, batch)  # twice as many
    peak_large, size_large = _stream_peak(manager_client, path)
    assert size_large > 1.9 * size_small
    assert peak_large < peak_small * 1.25 + 256 * 1024, (peak_small, peak_large)
    assert peak_large < size_large / 2, (peak_large, size_large)
