"""A generated catalog (courses x lessons with quizzes) and data set (affiliates, progress, attempts, certificates).

    python -m bench.generate catalog DIR [--courses 20 --lessons 50]
    python -m bench.generate data DATABASE_URL CONTENT_DIR [--affiliates 10000] [--attempts 1000000]

`data` seeds an already migrated database (`flask db upgrade`) by SQL: COPY on PostgreSQL, executemany on
SQLite, and prints the counts and the seconds it took.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import secrets
import sys
import time
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

2. Which of these are paid channels?
   - [x] Search ads
   - [ ] Organic search
   - [x] Sponsored newsletter placements
   - [ ] A post on your own blog

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


ATTEMPTS = 1_000_000  # quiz attempts of the full data set (10,000 affiliates x 50 lessons of course-01, and more)
BATCH = 20_000  # rows per executemany / COPY batch
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores a (UTC) time on SQLite


class Bulk:
    """Fast inserts for seeding: COPY on PostgreSQL, the driver's executemany on SQLite (no ORM, no SQLAlchemy
    statement per row). Values are given in the database's terms: times aware UTC, JSON as text."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]
               ) -> int:
        """Insert the rows (tuples in `columns` order) in batches; returns how many."""
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                count += self._write(table, columns, batch)
                batch = []
        if batch:
            count += self._write(table, columns, batch)
        return count

    def _write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
        """One batch."""
        cursor = self.conn.connection.driver_connection.cursor()
        names = ", ".join(columns)
        if self.postgres:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
                               [tuple(self._sqlite(value) for value in row) for row in rows])
        cursor.close()
        return len(rows)

    @staticmethod
    def _sqlite(value: Any) -> Any:
        """A value as SQLAlchemy would store it on SQLite (UTC times as text, booleans as 0/1)."""
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime(SQLITE_TIME)
        if isinstance(value, bool):
            return int(value)
        return value

    def finish(self, tables: tuple[str, ...]) -> None:
        """PostgreSQL: VACUUM ANALYZE the seeded tables, as autovacuum would after a bulk load (statistics and
        the visibility map). SQLite keeps no statistics unless someone runs ANALYZE, so nothing is done there."""
        if not self.postgres:
            return
        raw = self.conn.engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            cursor = raw.driver_connection.cursor()
            for table in tables:
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.close()
        finally:
            raw.close()


USER_COLUMNS = ("email", "name", "password_hash", "role", "active", "session_token", "created_at", "last_seen_at")
ENROLLMENT_COLUMNS = ("user_id", "course_slug", "started_at", "last_activity_at", "completed_at")
PROGRESS_COLUMNS = ("user_id", "course_slug", "lesson_slug", "completed_at", "content_hash")
ATTEMPT_COLUMNS = ("user_id", "submission_id", "course_slug", "lesson_slug", "language", "content_hash",
                   "quiz_version", "attempt_limit", "answers", "results", "score", "total", "percent", "passed",
                   "created_at")
SEEDED = ("users", "course_enrollments", "lesson_progress", "quiz_attempts", "certificates")


def seed_data(url: str, catalog: Any, *, affiliates: int = 10_000, attempts: int | None = None,
              course_slug: str = "course-01") -> dict[str, Any]:
    """Affiliates with enrollments, completed lessons, quiz attempts and some certificates; returns the counts.

    `course_slug` gets every affiliate's journey (about 90 % enrolled, lessons done spread evenly, each passed
    quiz after 0-3 failed tries, some failed tries at the next lesson): with 10,000 affiliates and 50 lessons
    about 225,000 completed lessons and 310,000 attempts. With `attempts`, the following courses of the catalog
    get the same, half the people each, until that many attempts exist (the first course is cut short when
    `attempts` is smaller than its own share). Attempts carry the real quiz version and question ids, so the
    question analysis has work to do. 10,000 affiliates with 1,000,000 attempts take 30-40 s per database.
    """
    from coaching.credentials.ids import new_certificate_id
    from coaching.services.accounts import hash_password

    rng = random.Random(RNG_SEED)
    now = datetime.now(UTC)
    engine = sa.create_engine(url)
    shared_hash = hash_password(PASSWORD)  # one argon2 hash for all: 10,000 hashes would take minutes
    users = ((f"bench-{i:05d}@example.com", f"Bench Affiliate {i:05d}", shared_hash, "affiliate", True,
              secrets.token_urlsafe(24), now - timedelta(days=rng.randrange(1, 400)),
              now - timedelta(hours=rng.randrange(1, 24 * 60)) if rng.random() < 0.8 else None)
             for i in range(affiliates))
    counts = {"affiliates": 0, "enrollments": 0, "completed lessons": 0, "attempts": 0, "certificates": 0}
    with engine.begin() as conn:
        bulk = Bulk(conn)
        counts["affiliates"] = bulk.insert("users", USER_COLUMNS, users)
        ids = [row[0] for row in conn.execute(sa.text(
            "SELECT id FROM users WHERE email LIKE 'bench-%' ORDER BY id"))]
        courses = [catalog.course(course_slug)] + [c for c in catalog.courses if c.slug != course_slug]
        for index, course in enumerate(courses):
            left = (attempts - counts["attempts"]) if attempts is not None else (0 if index else 10**12)
            if index and left <= 0:
                break
            journeys = Journeys(course, rng, now, share=0.9 if index == 0 else 0.5, budget=max(0, left))
            made = journeys.seed(bulk, ids)
            for key, value in made.items():
                counts[key] += value
            counts["certificates"] += _insert_certificates(conn, course, journeys.finished, now, new_certificate_id)
    with engine.begin() as conn:
        Bulk(conn).finish(SEEDED)
    engine.dispose()
    return counts


class Journeys:
    """The seeded progress of the affiliates in one course: rows are produced lazily, person by person."""

    def __init__(self, course: Any, rng: random.Random, now: datetime, *, share: float, budget: int) -> None:
        self.course, self.rng, self.now, self.share, self.budget = course, rng, now, share, budget
        self.lessons = [lesson for lesson in course.lessons]
        self.finished: list[int] = []
        self.plans: dict[int, tuple[int, datetime]] = {}
        self.quizzes = {lesson.slug: _quiz_rows(lesson.texts[lesson.language]) for lesson in self.lessons
                        if lesson.texts[lesson.language].quiz is not None}

    def seed(self, bulk: Bulk, ids: list[int]) -> dict[str, int]:
        """Enrollments, completed lessons and attempts of these people (three bulk inserts)."""
        for user_id in ids:
            if self.rng.random() < self.share:
                self.plans[user_id] = (self.rng.randrange(0, len(self.lessons) + 1),
                                       self.now - timedelta(days=self.rng.randrange(1, 300)))
        enrollments = bulk.insert("course_enrollments", ENROLLMENT_COLUMNS, self._enrollments())
        progress = bulk.insert("lesson_progress", PROGRESS_COLUMNS, self._progress())
        attempts = bulk.insert("quiz_attempts", ATTEMPT_COLUMNS, self._attempts())
        return {"enrollments": enrollments, "completed lessons": progress, "attempts": attempts}

    def _enrollments(self) -> Iterator[tuple[Any, ...]]:
        """One row per enrolled person."""
        for user_id, (done, started) in self.plans.items():
            finished = done == len(self.lessons)
            if finished:
                self.finished.append(user_id)
            yield (user_id, self.course.slug, started, started + timedelta(hours=2 * done + 1),
                   started + timedelta(hours=2 * done) if finished else None)

    def _progress(self) -> Iterator[tuple[Any, ...]]:
        """One row per completed lesson."""
        for user_id, (done, started) in self.plans.items():
            for number, lesson in enumerate(self.lessons[:done]):
                yield (user_id, self.course.slug, lesson.slug, started + timedelta(hours=2 * number + 1),
                       lesson.texts[lesson.language].content_hash)

    def _attempts(self) -> Iterator[tuple[Any, ...]]:
        """Failed tries (0-3) then a pass for each completed quiz; 0-2 failed tries at the next lesson."""
        serial = 0
        rng = self.rng
        for user_id, (done, started) in self.plans.items():
            for number, lesson in enumerate(self.lessons[:done + 1]):
                rows = self.quizzes.get(lesson.slug)
                if rows is None:
                    continue
                passed_now = number < done
                tries = min(3, int(rng.expovariate(1.2))) if passed_now else rng.choice((0, 0, 1, 2))
                outcomes = [False] * tries + ([True] if passed_now else [])
                for attempt, passed in enumerate(outcomes):
                    if serial >= self.budget:
                        return
                    serial += 1
                    answers, results, score, total, percent = rng.choice(rows[passed])
                    when = started + timedelta(hours=2 * number, minutes=10 * attempt + 5)
                    yield (user_id, f"bench-{self.course.slug}-{serial}", self.course.slug, lesson.slug, "en",
                           rows["hash"], rows["version"], 0, answers, results, score, total, percent, passed, when)


def _quiz_rows(text: Any) -> dict[Any, Any]:
    """Plausible graded answer sets of one quiz: (answers JSON, results JSON, score, total, percent) for
    passing (True) and failing (False) attempts, with the real question and option ids."""
    quiz = text.quiz
    sets: dict[Any, Any] = {True: [], False: [], "hash": text.content_hash, "version": quiz.version}
    choices = []
    for question in quiz.questions:
        if question.kind == "text":
            right = [([question.accepted[0]], True)]
            wrong = [(["click rate"], False), (["cost per click"], False), (["no idea"], False)]
        else:
            correct = list(question.correct_ids)
            wrong_ids = [o.id for o in question.options if not o.correct]
            right = [(correct, True)]
            wrong = [([w], False) for w in wrong_ids]
            if len(correct) > 1 and wrong_ids:
                wrong.append(([correct[0], wrong_ids[0]], False))
        choices.append((question.id, right + wrong))
    total = len(quiz.questions)
    for combo in itertools.product(*(options for _qid, options in choices)):
        score = sum(ok for _values, ok in combo)
        percent = 100 * score // total
        answers = json.dumps({qid: values for (qid, _opts), (values, _ok) in zip(choices, combo)})
        results = json.dumps({qid: ok for (qid, _opts), (_values, ok) in zip(choices, combo)})
        sets[percent >= quiz.pass_mark].append((answers, results, score, total, percent))
    return sets


def _insert_certificates(conn: sa.Connection, course: Any, user_ids: list[int], now: datetime, new_id: Any) -> int:
    """A certificate for each person who finished the course."""
    if not user_ids:
        return 0
    table = sa.Table("certificates", sa.MetaData(), autoload_with=conn)
    for start in range(0, len(user_ids), 5000):
        conn.execute(table.insert(), [_certificate(uid, course, now, new_id()) for uid in user_ids[start:start + 5000]])
    return len(user_ids)


def _certificate(user_id: int, course: Any, now: datetime, cert_id: str) -> dict[str, Any]:
    """One issued certificate row."""
    text = course.text(course.language)
    return {"id": cert_id, "user_id": user_id, "course_slug": course.slug, "recipient_name": "Bench Affiliate",
            "course_title": text.title, "certificate_title": course.certificate_title(course.language),
            "language": course.language, "content_fingerprint": course.fingerprint,
            "signer_name": "Bench Signer", "signer_role": "Head of Training", "issued_at": now}


def main(argv: list[str]) -> None:
    """`catalog DIR` writes a catalog; `data URL CONTENT_DIR` seeds a migrated database from that catalog."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    catalog = commands.add_parser("catalog", help="write the generated Markdown catalog")
    catalog.add_argument("dir", type=Path)
    catalog.add_argument("--courses", type=int, default=20)
    catalog.add_argument("--lessons", type=int, default=50)
    data = commands.add_parser("data", help="seed a migrated database by SQL")
    data.add_argument("url")
    data.add_argument("content", type=Path)
    data.add_argument("--affiliates", type=int, default=10_000)
    data.add_argument("--attempts", type=int, default=ATTEMPTS, help="0: the first course's only")
    args = parser.parse_args(argv)
    if args.command == "catalog":
        print(write_catalog(args.dir, args.courses, args.lessons))
        return
    from coaching.content import load_catalog

    started = time.perf_counter()
    counts = seed_data(args.url, load_catalog(args.content), affiliates=args.affiliates,
                       attempts=args.attempts or None)
    print(counts, f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
