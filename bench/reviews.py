"""Coaching figures for `make bench`: the review queue with 2,000 waiting submissions among the seeded affiliates,
and submitting (drafts with wrk on one path; real submissions, each a new version, from many sessions).

    write_course(content)          a course `course-review` with LESSONS assignment lessons
    seed(url, catalog, waiting)    waiting submissions (one version each) by SQL for seeded affiliates
    measure(stack, args, figures)  queue page and in-process queue (ms), draft rps, submit rps
"""
from __future__ import annotations

import itertools
import queue as queues
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from bench import load
from bench.timing import median_ms
from tests.scale.helpers import Browser, create_users, hidden_value

COURSE = "course-review"
LESSONS = 40
QUEUE = "/manage/reviews"
COURSE_MD = """---
title: Bench review course
summary: Generated assignments for the review figures.
order: 99
language: en
---
Assignments a manager reviews.
"""
LESSON_MD = """---
title: Assignment {n}
summary: Write copy for product {n}.
minutes: 10
---
Read the brief, then write.

## Assignment

Write a headline (at most 70 characters) and a call to action for product {n}. Say what the reader gains,
what happens after the click, and label the text as advertising.

### Criteria
- The headline names a concrete benefit for the reader
- The call to action says what happens after the click
- The text is labelled as advertising
"""
ANSWER = ("Sleep dry in any storm: the Trail 2 sets up in three minutes, even in the dark.\n"
          "Ad - Shop now and get it delivered in two days; free returns for 30 days.")


def write_course(content: Path) -> Path:
    """The review course beside the generated catalog."""
    folder = content / COURSE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.md").write_text(COURSE_MD, encoding="utf-8")
    for n in range(1, LESSONS + 1):
        (folder / f"{n:03d}-lesson-{n:03d}.md").write_text(LESSON_MD.format(n=n), encoding="utf-8")
    return folder


def seed(url: str, catalog: Any, *, waiting: int = 2000, reviewed: int = 20_000) -> dict[str, int]:
    """`waiting` seeded affiliates each with one waiting submission (spread over the lessons and 30 days), and
    `reviewed` approved submissions (one version and its review each, reviewed 1-72 hours after submission,
    spread over 60 days) of other seeded affiliates: the overview's median time to review reads them."""
    course = catalog.course(COURSE)
    lessons = [lesson for lesson in course.lessons]
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=["users", "assignment_submissions", "submission_versions", "submission_reviews"])
    users, subs, versions, reviews = (metadata.tables[n] for n in (
        "users", "assignment_submissions", "submission_versions", "submission_reviews"))
    now = datetime.now(UTC)
    rng = random.Random(20260102)
    with engine.begin() as conn:
        ids = [row[0] for row in conn.execute(sa.select(users.c.id).where(users.c.email.like("bench-%"))
                                              .order_by(users.c.id))]
        rows = []
        for index, user_id in enumerate(ids[:waiting]):
            lesson = lessons[index % len(lessons)]
            when = now - timedelta(minutes=index * 20)
            rows.append({"user_id": user_id, "course_slug": COURSE, "lesson_slug": lesson.slug, "state": "waiting",
                         "versions_count": 1, "show_on_certificate": False, "created_at": when, "updated_at": when,
                         "submitted_at": when, "approved_at": None})
        done = []
        taken = {(r["user_id"], r["lesson_slug"]) for r in rows}
        free = ((user_id, lesson) for lesson in lessons for user_id in ids[waiting:] + ids[:waiting]
                if (user_id, lesson.slug) not in taken)  # one submission per person and lesson
        for user_id, lesson in itertools.islice(free, reviewed):
            when = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 60))
            approved = when + timedelta(minutes=rng.randrange(60, 72 * 60))
            done.append({"user_id": user_id, "course_slug": COURSE, "lesson_slug": lesson.slug, "state": "approved",
                         "versions_count": 1, "show_on_certificate": False, "created_at": when,
                         "updated_at": approved, "submitted_at": when, "approved_at": approved})
        for start in range(0, len(rows) + len(done), 5000):
            conn.execute(subs.insert(), (rows + done)[start:start + 5000])
        made = {(r[1], r[2]): r[0] for r in conn.execute(sa.select(subs.c.id, subs.c.user_id, subs.c.lesson_slug)
                                                         .where(subs.c.course_slug == COURSE))}
        snapshot = {}
        for lesson in lessons:
            text = lesson.texts[lesson.language]
            snapshot[lesson.slug] = {
                "language": "en", "content_hash": text.content_hash, "lesson_title": text.title,
                "task": text.assignment.task, "task_html": text.assignment.task_html,
                "criteria": [{"id": c.id, "text": c.text, "html": c.html} for c in text.assignment.criteria]}
        listed = [{"submission_id": made[(r["user_id"], r["lesson_slug"])], "number": 1, "state": r["state"],
                   "answer": ANSWER, "link": None, "submitted_at": r["submitted_at"], **snapshot[r["lesson_slug"]]}
                  for r in rows + done]
        for start in range(0, len(listed), 5000):
            conn.execute(versions.insert(), listed[start:start + 5000])
        version_ids = {row[0]: row[1] for row in conn.execute(
            sa.select(versions.c.submission_id, versions.c.id).join(subs, subs.c.id == versions.c.submission_id)
            .where(subs.c.state == "approved", subs.c.course_slug == COURSE))}
        marks = {"c-1": {"met": True, "comment": ""}}
        review_rows = [{"version_id": version_ids[made[(r["user_id"], r["lesson_slug"])]], "reviewer_id": None,
                        "decision": "approve", "criteria": marks, "met": 3, "total": 3, "overall_comment": "",
                        "created_at": r["approved_at"]} for r in done]
        for start in range(0, len(review_rows), 5000):
            conn.execute(reviews.insert(), review_rows[start:start + 5000])
    engine.dispose()
    return {"waiting submissions": len(rows), "reviewed submissions": len(done)}


def queue_in_process(stack: Any) -> float:
    """coaching.services.review_queue.queue (count + first page of 50), median ms."""
    from coaching.extensions import db
    from coaching.models import User
    from coaching.services import review_queue
    from tests.scale.helpers import app_for

    app = app_for(stack.server.database_url, stack.server.root)
    with app.app_context():
        manager = db.session.get(User, stack.manager["id"])
        page = review_queue.queue(manager)
        assert page.total >= 2000, page.total
        figure = median_ms(lambda: review_queue.queue(manager, page=20), 20)
    _dispose(app)
    return figure


def measure(stack: Any, args: Any, figures: dict[str, Any]) -> None:
    """Queue page over HTTP (first and a deep page), the queue function, drafts (wrk) and submissions (threads)."""
    from tests.scale.helpers import app_for

    # Accounts first, while nothing else writes: a read-then-write in-process session cannot wait for the lock.
    app = app_for(stack.server.database_url, stack.server.root)
    learners = create_users(app, max(2, args.connections))
    _dispose(app)
    browser = stack.manager_browser
    first = browser.get(QUEUE)
    assert first.status == 200, first.status
    assert "2000 submissions waiting" in first.body, "the queue does not show the seeded submissions"
    figures["queue ms"] = median_ms(lambda: browser.get(QUEUE), 15)
    figures["queue deep ms"] = median_ms(lambda: browser.get(f"{QUEUE}?page=30"), 15)
    figures["queue function ms"] = queue_in_process(stack)
    figures["review page ms"] = median_ms(lambda: browser.get(_first_review(first.body)), 15)
    _drafts(stack, args, figures)
    _submissions(stack, args, figures, learners)


def _first_review(body: str) -> str:
    """The first review link of the queue page."""
    start = body.index('href="/manage/reviews/') + len('href="')
    return body[start:body.index('"', start)]


def _drafts(stack: Any, args: Any, figures: dict[str, Any]) -> None:
    """Draft saves on one lesson from the affiliate's session (every request writes the draft), with wrk."""
    path = f"/courses/{COURSE}/lesson-001"
    page = stack.learner_browser.get(path).body
    body = urlencode([("csrf_token", hidden_value(page, "csrf_token")), ("content_hash",
                                                                        hidden_value(page, "content_hash")),
                      ("action", "save"), ("answer", ANSWER)])
    figures["draft"] = load.run(stack.server.base, path + "/assignment", seconds=args.seconds,
                                connections=args.connections, cookie=stack.cookie(stack.learner_browser),
                                post_body=body, run_id="draft", vary_field="answer")


def _threaded(calls: list[Any], threads: int) -> tuple[list[int], float]:
    """Run calls (each returns a Response) from `threads` threads; statuses and wall seconds."""
    work: queues.Queue = queues.Queue()
    for call in calls:
        work.put(call)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                call = work.get_nowait()
            except queues.Empty:
                return
            status = call().status
            with lock:
                statuses.append(status)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return statuses, time.perf_counter() - started


def _dispose(app: Any) -> None:
    """Close an in-process app's database connections."""
    from coaching.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _submissions(stack: Any, args: Any, figures: dict[str, Any], learners: list[dict[str, Any]]) -> None:
    """Real submissions, each a new version with its snapshot (learners x lessons) from `connections` threads,
    next to the bare route sent the same way by the same sessions; then the versions are counted."""
    sessions = []
    for learner in learners:
        browser = Browser(stack.server.base)
        browser.login(learner["email"])
        sessions.append((browser, hidden_value(browser.get("/dashboard").body, "csrf_token")))
    hashes = {n: hidden_value(stack.learner_browser.get(f"/courses/{COURSE}/lesson-{n:03d}").body, "content_hash")
              for n in range(1, LESSONS + 1)}
    submits = [lambda b=b, t=t, n=n: b.post(f"/courses/{COURSE}/lesson-{n:03d}/assignment", [
        ("csrf_token", t), ("content_hash", hashes[n]), ("action", "submit"), ("answer", ANSWER)])
        for n in range(1, LESSONS + 1) for b, t in sessions]
    statuses, seconds = _threaded(submits, args.connections)
    bare, bare_seconds = _threaded([lambda b=b: b.get("/bench/bare") for _n in range(LESSONS) for b, _t in sessions],
                                   args.connections)
    engine = sa.create_engine(stack.server.database_url)
    ids = ",".join(str(learner["id"]) for learner in learners)
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT count(*) FROM submission_versions v JOIN assignment_submissions s ON s.id = v.submission_id "
            f"WHERE s.user_id IN ({ids})")).scalar()
    engine.dispose()
    accepted = statuses.count(303)
    figures.update({"submit rps": len(statuses) / seconds, "bare same client rps": len(bare) / bare_seconds,
                    "submit accepted": accepted, "submit stored": stored,
                    "submit failed": len(statuses) - accepted + sum(1 for status in bare if status != 200)})
    figures["submit/bare"] = figures["submit rps"] / figures["bare same client rps"]
