"""Every manager list is paged: the overview's inactive affiliates and a person's quiz attempts too."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from coaching.extensions import db
from coaching.models import CourseEnrollment, QuizAttempt

NOW = datetime.now(UTC)


def _names(html: str, section_id: str) -> list[str]:
    """The linked names in one table of a page."""
    table = html.split(f'id="{section_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/manage/affiliates/\d+">([^<]+)</a>', table)


def test_overview_pages_the_inactive_affiliates(app, manager_client, world):
    """Ten inactive affiliates per page, longest idle first; the links lead on, a page past the end is the last."""
    for n in range(13):
        uid = world.user(f"Idle {n:02d}")
        world.open(uid)
        with app.app_context():
            db.session.execute(CourseEnrollment.__table__.update().where(CourseEnrollment.user_id == uid).values(
                started_at=NOW - timedelta(days=100), last_activity_at=NOW - timedelta(days=100 - n)))
            db.session.commit()
    first = manager_client.get("/manage/").get_data(as_text=True)
    assert _names(first, "inactive-affiliates") == [f"Idle {n:02d}" for n in range(10)]
    assert "13 affiliates with an unfinished course." in first
    assert 'href="/manage/?page=2" rel="next"' in first and "Page 1 of 2" in first
    second = manager_client.get("/manage/?page=2").get_data(as_text=True)
    assert _names(second, "inactive-affiliates") == ["Idle 10", "Idle 11", "Idle 12"]
    assert 'href="/manage/?page=1" rel="prev"' in second and "Page 2 of 2" in second
    beyond = manager_client.get("/manage/?page=9").get_data(as_text=True)
    assert _names(beyond, "inactive-affiliates") == ["Idle 10", "Idle 11", "Idle 12"] and "Page 2 of 2" in beyond


def test_affiliate_page_pages_the_quiz_attempts(app, manager_client, world):
    """A person's attempts come 50 to a page, latest first, with links to the others."""
    uid = world.user("Busy Bea")
    with app.app_context():
        db.session.execute(insert(QuizAttempt), [
            {"user_id": uid, "submission_id": f"s{n}", "course_slug": "demo", "lesson_slug": "headlines",
             "language": "en", "content_hash": "0" * 64, "answers": {}, "results": {}, "score": n % 4, "total": 3,
             "percent": 0, "passed": False, "created_at": NOW - timedelta(minutes=n)} for n in range(57)])
        db.session.commit()
    first = manager_client.get(f"/manage/affiliates/{uid}").get_data(as_text=True)
    assert first.count('<details class="card attempt">') == 50 and "Page 1 of 2" in first
    assert f'href="/manage/affiliates/{uid}?page=2" rel="next"' in first
    second = manager_client.get(f"/manage/affiliates/{uid}?page=2").get_data(as_text=True)
    assert second.count('<details class="card attempt">') == 7 and "Page 2 of 2" in second
    scores = re.findall(r"(\d) of 3 \(0%\)", second)
    assert scores == [str(n % 4) for n in range(50, 57)]  # the oldest seven, latest first
