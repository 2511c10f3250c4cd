"""Reviews and submissions under a real multi-process gunicorn: two managers in two processes reviewing the same
versions at once, and one person's submission sent from many tabs at once. Counted in the database afterwards.

Runs on the suite's backend (SQLite file, or PostgreSQL when COACHING_TEST_BACKEND=postgresql).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import FIXTURES
from tests.scale.conftest import live_server
from tests.scale.helpers import Browser, Server, create_users, hidden_value
from tests.scale.test_scale_writes import assert_server_healthy, in_parallel, signed_in

pytestmark = pytest.mark.slow

LESSON = "/courses/pitch/headline"
ANSWER = "Sleep dry in any storm: the Trail 2 sets up in 3 minutes. Ad - shop now."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[Server]:
    """gunicorn (2 workers x 4 threads) serving the assignment course on a migrated database (the package's
    `db_app` fixture then uses this server)."""
    with live_server(tmp_path_factory.mktemp("gunicorn-reviews"), signing_key_file,
                     CONTENT_DIR=str(FIXTURES / "coaching")) as live:
        yield live


def count(app: Any, model: Any, *where: Any) -> int:
    """Rows of a model, read fresh."""
    from coaching.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def submit_form(browser: Browser) -> list[tuple[str, str]]:
    """The lesson's assignment form, filled in."""
    page = browser.get(LESSON)
    assert page.status == 200, page.status
    return [("csrf_token", hidden_value(page.body, "csrf_token")), ("content_hash",
                                                                    hidden_value(page.body, "content_hash")),
            ("action", "submit"), ("answer", ANSWER)]


def review_form(browser: Browser, submission_id: int, decision: str) -> list[tuple[str, str]]:
    """The review page's form, every criterion met."""
    page = browser.get(f"/manage/reviews/{submission_id}")
    assert page.status == 200, page.status
    ids = sorted(set(re.findall(r'name="criterion-(c-[0-9a-f]+)"', page.body)))
    return [("csrf_token", hidden_value(page.body, "csrf_token")), ("version", "1"), ("decision", decision),
            ("overall_comment", decision)] + [(f"criterion-{i}", "met") for i in ids]


def test_two_managers_in_two_processes(server: Server, db_app: Any) -> None:
    """12 submissions, each reviewed by two managers at the same moment: 12 reviews, one 409 per pair."""
    from coaching.models import Review, Submission

    people = create_users(db_app, 12)
    affiliates = in_parallel([lambda u=u: signed_in(server, u["email"]) for u in people])
    sent = in_parallel([lambda b=b: b.post(f"{LESSON}/assignment", submit_form(b)) for b in affiliates])
    assert {r.status for r in sent} == {303}, [(r.status, r.body[:200]) for r in sent]
    managers = create_users(db_app, 2, role="manager")
    maria, otto = (signed_in(server, m["email"]) for m in managers)
    with db_app.app_context():
        from coaching.extensions import db

        ids = [db.session.scalar(select(Submission.id).where(Submission.user_id == u["id"])) for u in people]
    pairs = [(review_form(maria, sid, "approve"), review_form(otto, sid, "revise"), sid) for sid in ids]
    answers = in_parallel([lambda b=b, f=f, s=s: b.post(f"/manage/reviews/{s}", f)
                           for first, second, s in pairs for b, f in ((maria, first), (otto, second))], threads=24)
    for index in range(len(ids)):
        assert sorted(r.status for r in answers[2 * index:2 * index + 2]) == [303, 409]
    assert count(db_app, Review) == len(ids)
    assert count(db_app, Submission, Submission.state == "waiting") == 0
    assert_server_healthy(server)


def test_one_submission_from_many_tabs(server: Server, db_app: Any) -> None:
    """The same form sent from 10 tabs at once: one version; every other answer is a 409."""
    from coaching.models import Submission, SubmissionVersion

    user = create_users(db_app, 1)[0]
    browser = signed_in(server, user["email"])
    form = submit_form(browser)
    answers = in_parallel([lambda c=browser.clone(): c.post(f"{LESSON}/assignment", form) for _ in range(10)])
    assert sorted(r.status for r in answers) == [303] + [409] * 9, [r.status for r in answers]
    with db_app.app_context():
        from coaching.extensions import db

        sid = db.session.scalar(select(Submission.id).where(Submission.user_id == user["id"]))
    assert count(db_app, SubmissionVersion, SubmissionVersion.submission_id == sid) == 1
    assert_server_healthy(server)
