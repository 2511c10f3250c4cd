"""No lost writes: concurrent requests against a real multi-worker gunicorn, then counted in the database.

Runs on the suite's backend (SQLite file, or PostgreSQL when COACHING_TEST_BACKEND=postgresql).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.scale.helpers import Browser, Response, Server, create_users, hidden_value, quiz_answers

pytestmark = pytest.mark.slow

QUIZ_PAGE = "/courses/demo/headlines"
QUIZ_POST = "/courses/demo/headlines/quiz"
COMPLETE_POST = "/courses/demo/welcome/complete"
ATTEMPT_RE = re.compile(r"^/courses/demo/headlines/attempts/(\d+)$")
CERT_RE = re.compile(r"/verify/([A-Za-z0-9-]+)")
MAX_ATTEMPTS = 3  # tests/fixtures/content/demo/02-headlines.md


def in_parallel(calls: Iterable[Callable[[], Any]], threads: int = 16) -> list[Any]:
    """Run the calls from a thread pool (all at once, as far as the pool allows); results in order."""
    calls = list(calls)
    with ThreadPoolExecutor(max_workers=min(threads, len(calls))) as pool:
        return list(pool.map(lambda call: call(), calls))


def quiz_form(browser: Browser, *, correct: bool) -> list[tuple[str, str]]:
    """Open the quiz lesson and fill in its form (csrf_token, submission_id, quiz_version, answers).

    Wrong answers differ from form to form (the text answer names the form), so they are separate attempts.
    """
    page = browser.get(QUIZ_PAGE)
    assert page.status == 200, page.status
    fixed = [(name, hidden_value(page.body, name)) for name in ("csrf_token", "submission_id", "quiz_version")]
    return fixed + quiz_answers(page.body, correct=correct, wrong_text=f"not sure {fixed[1][1]}")


def attempt_id(response: Response) -> int | None:
    """The attempt id an accepted submission redirects to; None when it was refused."""
    assert response.status == 303, (response.status, response.body[:300])
    match = ATTEMPT_RE.match(response.location)
    return int(match.group(1)) if match else None


def signed_in(server: Server, email: str) -> Browser:
    """A new browser session signed in as this person."""
    browser = Browser(server.base)
    browser.login(email)
    return browser


def count(app: Any, model: Any, *where: Any) -> int:
    """Rows of a model matching the conditions, read fresh from the database."""
    from coaching.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def assert_server_healthy(server: Server) -> None:
    """No traceback, no 'database is locked', no worker timeout in the server's log."""
    assert server.server_errors() == [], "\n".join(server.server_errors()[:20]) + server.log_text()[-4000:]


def test_many_submissions_each_stored_once(server: Server, db_app: Any) -> None:
    """8 people x 5 forms submitted at once: each accepted attempt stored once, never more than max_attempts."""
    from coaching.models import QuizAttempt

    users = create_users(db_app, 8)
    browsers = in_parallel([lambda u=u: signed_in(server, u["email"]) for u in users])
    forms = in_parallel([lambda b=b: (b, quiz_form(b, correct=False)) for b in browsers for _ in range(5)])
    answers = in_parallel([lambda b=b, f=f: b.post(QUIZ_POST, f) for b, f in forms])
    accepted = [attempt_id(r) for r in answers]
    for index, user in enumerate(users):
        mine = [a for a in accepted[index * 5:(index + 1) * 5] if a is not None]
        assert len(mine) == MAX_ATTEMPTS, mine
        with db_app.app_context():
            from coaching.extensions import db

            stored = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user["id"])).all()
            assert sorted(a.id for a in stored) == sorted(mine)
            assert len({a.submission_id for a in stored}) == len(stored)
    assert_server_healthy(server)


def test_replayed_submission_gives_one_attempt(server: Server, db_app: Any) -> None:
    """One quiz form sent 12 times in parallel from the same session: one attempt, every reply points at it."""
    from coaching.models import QuizAttempt

    user = create_users(db_app, 1)[0]
    browser = signed_in(server, user["email"])
    form = quiz_form(browser, correct=False)
    answers = in_parallel([lambda c=browser.clone(): c.post(QUIZ_POST, form) for _ in range(12)])
    ids = {attempt_id(r) for r in answers}
    assert len(ids) == 1 and None not in ids, ids
    assert count(db_app, QuizAttempt, QuizAttempt.user_id == user["id"]) == 1
    assert_server_healthy(server)


def test_lesson_completion_recorded_once(server: Server, db_app: Any) -> None:
    """The same lesson completed 12 times at once (6 sessions, 2 tabs each): one progress row."""
    from coaching.models import Certificate, LessonProgress

    user = create_users(db_app, 1)[0]
    browsers = in_parallel([lambda: signed_in(server, user["email"]) for _ in range(6)])
    tabs = [b.clone() for b in browsers for _ in range(2)]
    token = {id(t): hidden_value(t.get("/courses/demo/welcome").body, "csrf_token") for t in tabs}
    answers = in_parallel([lambda t=t: t.post(COMPLETE_POST, [("csrf_token", token[id(t)])]) for t in tabs])
    assert {r.status for r in answers} == {303}, [(r.status, r.body[:200]) for r in answers]
    assert count(db_app, LessonProgress, LessonProgress.user_id == user["id"]) == 1
    assert count(db_app, Certificate, Certificate.user_id == user["id"]) == 0  # the quiz is still open
    assert_server_healthy(server)


def _finish_welcome(browser: Browser) -> None:
    """Complete the reading lesson."""
    token = hidden_value(browser.get("/courses/demo/welcome").body, "csrf_token")
    assert browser.post(COMPLETE_POST, [("csrf_token", token)]).status == 303


def _pass_quiz(browser: Browser) -> None:
    """Pass the quiz lesson."""
    assert attempt_id(browser.post(QUIZ_POST, quiz_form(browser, correct=True))) is not None


@pytest.mark.parametrize("last_step", ["complete", "quiz"])
def test_certificate_issued_once(server: Server, db_app: Any, last_step: str) -> None:
    """Several sessions of one person finish the course at once: one certificate, the same id seen by all."""
    from coaching.models import Certificate

    user = create_users(db_app, 1)[0]
    sessions = in_parallel([lambda: signed_in(server, user["email"]) for _ in range(MAX_ATTEMPTS * 2)])
    if last_step == "complete":
        _pass_quiz(sessions[0])
        forms = [(s, [("csrf_token", hidden_value(s.get("/courses/demo/welcome").body, "csrf_token"))])
                 for s in sessions]
        answers = in_parallel([lambda s=s, f=f: s.post(COMPLETE_POST, f) for s, f in forms])
        assert {r.status for r in answers} == {303}
    else:
        _finish_welcome(sessions[0])
        forms = [(s, quiz_form(s, correct=True)) for s in sessions[:MAX_ATTEMPTS]]
        answers = in_parallel([lambda s=s, f=f: s.post(QUIZ_POST, f) for s, f in forms])
        assert None not in {attempt_id(r) for r in answers}
    rows = count(db_app, Certificate, Certificate.user_id == user["id"])
    assert rows == 1, rows
    seen = in_parallel([lambda s=s: set(CERT_RE.findall(s.get("/dashboard").body)) for s in sessions])
    assert all(len(ids) == 1 for ids in seen) and len(set.union(*seen)) == 1, seen
    assert_server_healthy(server)
