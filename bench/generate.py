"""A generated catalog (courses x lessons with quizzes) and data set (affiliates, progress, attempts, certificates).

    python -m bench.generate catalog DIR [--courses 20 --lessons 50]
"""
from __future__ import annotations

import random
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PASSWORD = "correct horse battery staple"
RNG_SEED = 20260101

COURSE_MD = """---
title: Bench course {n:02d}
summary: Generated course number {n} for the load figures.
order: {n}
language: en
pass_mark: 60
certificate:
  title: Certificate of completion - Bench course {n:02d}
  signer_name: Bench Signer
  signer_role: Head of Training
---
A generated course: {lessons} lessons, each with a quiz except the first.
"""

LESSON_MD = """---
title: Lesson {n} of course {c}
summary: Generated lesson {n}, about tracking, copy and compliance.
minutes: 6
---
## Why this matters

Affiliates who measure their **click-through rate** and earnings per click learn faster. This lesson walks
through lesson {n}'s topic with an example campaign, the numbers behind it, and what to change next week.

{paragraphs}

## A worked example

| Week | Clicks | Sales | EPC |
|---|---|---|---|
| 1 | 1,200 | 18 | 0.45 |
| 2 | 1,450 | 25 | 0.52 |
| 3 | 1,610 | 31 | 0.58 |

1. Pick one headline and one landing page.
2. Run it for a week; write down clicks and sales.
3. Change one thing at a time, and compare the *earnings per click*.

> Numbers beat opinions: keep a log of every change and its result.
"""

QUIZ_MD = """
## Quiz

1. Which headline promises a concrete benefit?
   - [ ] Click here now
   - [x] Save three hours a week on reporting
   - [ ] Our tool is great

   > A concrete, measurable benefit gives the reader a reason to click.

2. Which of these are paid channels? Choose all that apply.
   - [x] Search ads
   - [x] Sponsored newsletter placements
   - [ ] Organic search

3. What does CTR stand for?
   - [=] click-through rate
   - [=] click through rate
"""

FILLER = ("Tracking links carry the affiliate's id to the advertiser; a cookie or a server-side click id ties the "
          "sale back to the click. Disclose the relationship clearly, near the link, in words a reader understands. "
          "Compare offers by earnings per click, not by commission rate alone: a high rate on a page that does not "
          "convert earns less than a modest one that does.")


def write_catalog(root: Path, courses: int = 20, lessons: int = 50) -> Path:
    """Write `courses` x `lessons` Markdown lessons (all but each course's first with a quiz) under root."""
    for c in range(1, courses + 1):
        folder = root / f"course-{c:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "course.md").write_text(COURSE_MD.format(n=c, lessons=lessons), encoding="utf-8")
        for n in range(1, lessons + 1):
            body = LESSON_MD.format(n=n, c=c, paragraphs="\n\n".join([FILLER] * 4)) + (QUIZ_MD if n > 1 else "")
            (folder / f"{n:03d}-lesson-{n:03d}.md").write_text(body, encoding="utf-8")
    return root


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Split bulk inserts into batches."""
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert (executemany) in batches."""
    for chunk in _chunks(rows):
        conn.execute(table.insert(), chunk)


def seed_data(url: str, catalog: Any, *, affiliates: int = 10_000, course_slug: str = "course-01") -> dict[str, Any]:
    """Affiliates with progress, attempts and some certificates in one course; returns counts and one hash."""
    from coaching.credentials.ids import new_certificate_id
    from coaching.services.accounts import hash_password

    rng = random.Random(RNG_SEED)
    course = catalog.course(course_slug)
    now = datetime.now(UTC)
    metadata = sa.MetaData()
    engine = sa.create_engine(url)
    metadata.reflect(engine, only=["users", "lesson_progress", "quiz_attempts", "course_enrollments", "certificates"])
    t = metadata.tables
    shared_hash = hash_password(PASSWORD)  # one argon2 hash for all: 10,000 hashes would take minutes
    users = [{"email": f"bench-{i:05d}@example.com", "name": f"Bench Affiliate {i:05d}", "password_hash": shared_hash,
              "role": "affiliate", "active": True, "session_token": secrets.token_urlsafe(24),
              "created_at": now - timedelta(days=rng.randrange(1, 400))} for i in range(affiliates)]
    with engine.begin() as conn:
        _insert(conn, t["users"], users)
        ids = [row[0] for row in conn.execute(sa.select(t["users"].c.id).where(
            t["users"].c.email.like("bench-%")).order_by(t["users"].c.id))]
        counts = _seed_progress(conn, t, ids, course, rng, now, new_certificate_id)
    engine.dispose()
    return {"affiliates": len(ids), **counts}


def _seed_progress(conn: sa.Connection, t: Any, ids: list[int], course: Any, rng: random.Random, now: datetime,
                   new_id: Any) -> dict[str, int]:
    """Enrollments, completed lessons, quiz attempts and certificates for the affiliates in one course."""
    lessons = [lesson.slug for lesson in course.lessons]
    progress, attempts, enrollments, certificates = [], [], [], []
    for user_id in ids:
        done = rng.randrange(0, len(lessons) + 1) if rng.random() < 0.7 else 0
        if not done:
            continue
        started = now - timedelta(days=rng.randrange(1, 300))
        finished = done == len(lessons)
        enrollments.append({"user_id": user_id, "course_slug": course.slug, "started_at": started,
                            "last_activity_at": started + timedelta(days=1),
                            "completed_at": now if finished else None})
        for slug in lessons[:done]:
            progress.append({"user_id": user_id, "course_slug": course.slug, "lesson_slug": slug,
                             "content_hash": "0" * 64, "completed_at": started + timedelta(hours=1)})
        for slug in lessons[1:min(done + 1, len(lessons))][:5]:
            attempts.append(_attempt(user_id, course.slug, slug, started, passed=True))
        if finished:
            certificates.append(_certificate(user_id, course, now, new_id()))
    _insert(conn, t["course_enrollments"], enrollments)
    _insert(conn, t["lesson_progress"], progress)
    _insert(conn, t["quiz_attempts"], attempts)
    _insert(conn, t["certificates"], certificates)
    return {"enrollments": len(enrollments), "completed lessons": len(progress), "attempts": len(attempts),
            "certificates": len(certificates)}


def _attempt(user_id: int, course_slug: str, lesson_slug: str, when: datetime, *, passed: bool) -> dict[str, Any]:
    """One stored quiz attempt row."""
    return {"user_id": user_id, "submission_id": secrets.token_urlsafe(16), "course_slug": course_slug,
            "lesson_slug": lesson_slug, "language": "en", "content_hash": "0" * 64, "answers": {"q": ["o"]},
            "results": {"q": passed}, "score": 3 if passed else 1, "total": 3, "percent": 100 if passed else 33,
            "passed": passed, "created_at": when + timedelta(minutes=30)}


def _certificate(user_id: int, course: Any, now: datetime, cert_id: str) -> dict[str, Any]:
    """One issued certificate row."""
    text = course.text(course.language)
    return {"id": cert_id, "user_id": user_id, "course_slug": course.slug, "recipient_name": "Bench Affiliate",
            "course_title": text.title, "certificate_title": course.certificate_title(course.language),
            "language": course.language, "content_fingerprint": course.fingerprint,
            "signer_name": "Bench Signer", "signer_role": "Head of Training", "issued_at": now}


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "catalog":
        print(write_catalog(Path(sys.argv[2])))
    else:
        sys.exit(__doc__)
