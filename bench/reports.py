"""Manager pages at scale: the progress matrix, the overview, the question analysis, the affiliates list and the
review queue, timed in-process (the services, with their statements) and as whole pages (the test client).

    python -m bench.generate catalog DIR
    DATABASE_URL=URL .venv/bin/flask db upgrade
    python -m bench.generate data URL DIR --affiliates 10000 --attempts 1000000
    python -m bench.reports URL DIR [--verbose] [--explain]

`make bench` calls `measure()` on the database it seeded; on its own this module times an existing database
(seeded as above) and, with --explain on PostgreSQL, prints EXPLAIN (ANALYZE, BUFFERS) of the main queries
(docs/performance.md keeps a copy).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench.timing import median_ms

COURSE = "course-01"
LESSON = "lesson-002"
MANAGER_EMAIL = "bench-manager@example.com"


@dataclass
class Statements:
    """Statements sent while a block ran, with the time each took at the driver."""

    items: list[tuple[float, str]] = field(default_factory=list)
    raw: list[tuple[str, Any]] = field(default_factory=list)  # the statements as sent, with their parameters

    @property
    def count(self) -> int:
        """How many statements."""
        return len(self.items)

    @property
    def ms(self) -> float:
        """Their total time, ms."""
        return sum(ms for ms, _sql in self.items)


@contextmanager
def statements(engine: sa.Engine) -> Iterator[Statements]:
    """Record every statement the engine runs inside the block (cursor execute to its return)."""
    seen = Statements()
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_args: Any) -> None:
        seen.items.append(((time.perf_counter() - started.pop()) * 1000, " ".join(sql.split())))
        seen.raw.append((sql, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def bench_app(url: str, content: Path, root: Path) -> Any:
    """An in-process app on the seeded database with the generated catalog."""
    from coaching import create_app
    from config import TestConfig

    root.mkdir(parents=True, exist_ok=True)
    settings = {"SQLALCHEMY_DATABASE_URI": url, "CONTENT_DIR": str(content), "SIGNING_KEY_FILE": str(root / "k.json"),
                "COACHING_INSTANCE": str(root), "WTF_CSRF_ENABLED": False}
    return create_app(type("ReportsConfig", (TestConfig,), settings))


def manager_client(app: Any) -> tuple[Any, int]:
    """A test client signed in as a (new or existing) bench manager; and the manager's id."""
    from coaching.extensions import db
    from coaching.models import User
    from coaching.services.accounts import create_user

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == MANAGER_EMAIL))
        if user is None:
            user = create_user(email=MANAGER_EMAIL, name="Bench Manager", password=None, role="manager")
            db.session.commit()
        login = f"{user.id}:{user.session_token}"
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login
        session["_fresh"] = True
    return client, user_id


PAGES = (  # figure, path (the in-process page figures, through the whole app: views, queries, template)
    ("progress page", f"/manage/courses/{COURSE}"),
    ("progress page, sorted by progress", f"/manage/courses/{COURSE}?sort=progress"),
    ("progress page, sorted by activity, page 100", f"/manage/courses/{COURSE}?sort=activity&page=100"),
    ("progress page, completed only", f"/manage/courses/{COURSE}?status=completed"),
    ("progress page, search", f"/manage/courses/{COURSE}?q=affiliate+0999"),
    ("overview", "/manage/"),
    ("question analysis", f"/manage/courses/{COURSE}/{LESSON}/questions"),
    ("affiliates list", "/manage/affiliates"),
    ("affiliates list, page 150", "/manage/affiliates?page=150"),
    ("review queue", "/manage/reviews"),
)


def measure_pages(app: Any, times: int = 7) -> dict[str, tuple[float, int, float]]:
    """Each page: (median ms, statements, statement ms of one load)."""
    from coaching.extensions import db

    client, _manager = manager_client(app)
    figures = {}
    with app.app_context():
        engine = db.engine
    for figure, path in PAGES:
        def load(path: str = path) -> None:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
        figures[figure] = (median_ms(load, times, warm_up=True),)
        with statements(engine) as seen:
            load()
        figures[figure] += (seen.count, seen.ms)
    return figures


def explain(app: Any, path: str, *, slower_than_ms: float = 0.0) -> list[tuple[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite, of every statement a page load
    sends (each statement is run again under EXPLAIN with its parameters); [(statement, plan)]."""
    from coaching.extensions import db

    client, _manager = manager_client(app)
    with app.app_context():
        engine = db.engine
    client.get(path)  # warm
    with statements(engine) as seen:
        assert client.get(path).status_code == 200
    plans = []
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for (ms, text), (sql, parameters) in zip(seen.items, seen.raw):
            if ms < slower_than_ms or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) ") + sql, parameters)
            plans.append((text, "\n".join(str(row[-1]) for row in cursor.fetchall())))
        cursor.close()
    return plans


def service_calls(manager_id: int) -> dict[str, Callable[[], Any]]:
    """The services behind the pages, without the view and the template (call inside an app context)."""
    from coaching.extensions import db
    from coaching.models import User
    from coaching.services import catalog, review_queue
    from coaching.services.reports import matrix, overview, people, questions

    cat = catalog.catalog()
    course = cat.course(COURSE)
    lesson = course.lesson(LESSON)
    manager = db.session.get(User, manager_id)
    return {
        "matrix": lambda: matrix.course_matrix(course),
        "matrix, sorted by progress": lambda: matrix.course_matrix(course, sort="progress"),
        "matrix, sorted by activity": lambda: matrix.course_matrix(course, sort="activity"),
        "overview figures": lambda: overview.overview(cat),
        "  failed quizzes": lambda: overview.most_failed_quizzes(cat),
        "  drop-off": lambda: overview.drop_off(cat),
        "  inactive affiliates": lambda: overview.inactive_affiliates(),
        "review figures": lambda: review_queue.review_figures(),
        "question analysis": lambda: questions.question_analysis(COURSE, lesson),
        "affiliates list": lambda: people.users_page(),
        "review queue": lambda: review_queue.queue(manager),
    }


def measure_services(app: Any, times: int = 7) -> dict[str, tuple[float, int]]:
    """Each service call: (median ms, statements)."""
    from coaching.extensions import db

    _client, manager_id = manager_client(app)
    figures = {}
    with app.app_context():
        for figure, call in service_calls(manager_id).items():
            ms = median_ms(call, times, warm_up=True)
            with statements(db.engine) as seen:
                call()
            figures[figure] = (ms, seen.count)
            db.session.rollback()
    return figures


HTTP_PAGES = (  # figure, path, label, note: the manager pages `make bench` times through gunicorn
    ("progress ms", f"/manage/courses/{COURSE}", f"manager progress page (/manage/courses/{COURSE}), median ms",
     "goal < 150; 10,000 affiliates x 50 lessons"),
    ("progress by progress ms", f"/manage/courses/{COURSE}?sort=progress", "  the same, sorted by progress, median ms",
     "lessons done counted for everyone"),
    ("progress activity deep ms", f"/manage/courses/{COURSE}?sort=activity&page=100",
     "  the same, by last activity, page 100, median ms", ""),
    ("overview ms", "/manage/", "manager overview (/manage/), median ms", "all-time figures over every attempt"),
    ("questions ms", f"/manage/courses/{COURSE}/{LESSON}/questions",
     f"question analysis ({COURSE}/{LESSON}), median ms", "every attempt at the quiz"),
    ("affiliates ms", "/manage/affiliates?page=100", "affiliates list, page 100, median ms", ""),
)
ROWS = tuple((label, figure, note) for figure, _path, label, note in HTTP_PAGES)


def measure(browser: Any, figures: dict[str, Any], rounds: int = 9) -> None:
    """Median ms of each manager page over HTTP with a signed-in manager's browser; the pages take turns in
    `rounds` rounds (the machine's speed drifts), after one warm-up load each."""
    samples: dict[str, list[float]] = {figure: [] for figure, *_rest in HTTP_PAGES}
    for _figure, path, *_rest in HTTP_PAGES:
        answer = browser.get(path)
        assert answer.status == 200, (path, answer.status)
    for _ in range(rounds):
        for figure, path, *_rest in HTTP_PAGES:
            started = time.perf_counter()
            browser.get(path)
            samples[figure].append((time.perf_counter() - started) * 1000)
    figures.update({figure: statistics.median(values) for figure, values in samples.items()})


def main(argv: list[str]) -> None:
    """Seed (optionally) and print the page figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("content", type=Path)
    parser.add_argument("--root", type=Path, default=Path("/tmp/coaching-bench-reports"))
    parser.add_argument("--times", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print each statement of each page")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE) each page's statements")
    args = parser.parse_args(argv)
    app = bench_app(args.url, args.content, args.root)
    from coaching.extensions import db

    for figure, (ms, count, sql_ms) in measure_pages(app, args.times).items():
        print(f"{figure:50s} {ms:8.1f} ms  {count:3d} statements {sql_ms:8.1f} ms")
    for figure, (ms, count) in measure_services(app, args.times).items():
        print(f"service: {figure:41s} {ms:8.1f} ms  {count:3d} statements")
    if args.verbose:
        client, _ = manager_client(app)
        with app.app_context():
            engine = db.engine
        for figure, path in PAGES:
            with statements(engine) as seen:
                client.get(path)
            print(f"\n== {figure}")
            for ms, sql in seen.items:
                print(f"  {ms:8.1f} ms  {sql[:300]}")
    if args.explain:
        for figure, path in PAGES:
            print(f"\n######## {figure} ({path})")
            for sql, plan in explain(app, path):
                print(f"\n-- {sql}\n{plan}")


if __name__ == "__main__":
    main(sys.argv[1:])
