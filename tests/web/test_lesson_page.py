"""The lesson page is rendered per request: every change it shows is there at once, whoever made it and however.

There is no personal page cache (the lesson body and quiz HTML come ready from the content catalog), so
these tests also hold for writes that bypass the services, and for a form left open for hours.
"""
from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from coaching.extensions import db
from coaching.models import CourseEnrollment, LessonProgress, QuizAttempt, User
from coaching.services import progress
from tests.conftest import Auth, csrf_token
from tests.web.helpers import answers, complete_welcome, read_quiz, signed_in_client, submit

QUIZ_PAGE = "/courses/demo/headlines"
READING = "/courses/demo/welcome"


def page(client: Any, path: str = QUIZ_PAGE) -> str:
    """GET a page that must answer 200; its text."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_every_view_gets_a_new_submission_id_so_two_tabs_are_two_attempts(app, client, logged_in):
    """Each view carries a fresh form id; answering in two tabs stores two attempts."""
    tab_one, tab_two = read_quiz(client), read_quiz(client)
    assert tab_one.hidden["submission_id"] != tab_two.hidden["submission_id"]
    assert submit(client, answers(tab_one, right=False), tab_one).status_code == 303
    wrong_again = answers(tab_two, right=False)
    wrong_again[next(q for q, kind in tab_two.kinds.items() if kind == "text")] = "another wrong answer"
    assert submit(client, wrong_again, tab_two).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(QuizAttempt)) == 2


def test_two_devices_each_get_a_working_token_of_their_own(app, affiliate):
    """Two sign-ins of one person: each page carries its own session's token, which works only there."""
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        assert Auth(device).login().status_code == 302
    laptop_form, phone_form = read_quiz(laptop), read_quiz(phone)
    assert laptop_form.hidden["csrf_token"] != phone_form.hidden["csrf_token"]
    assert submit(laptop, answers(phone_form, right=False), phone_form).status_code == 400
    assert submit(phone, answers(phone_form, right=False), phone_form).status_code == 303


def test_completing_a_lesson_shows_at_once(client, logged_in):
    """Mark as complete: the next view says done."""
    assert "Mark as complete" in page(client, READING)
    assert complete_welcome(client).status_code == 303
    html = page(client, READING)
    assert "You completed this lesson." in html and "Mark as complete" not in html


def test_an_attempt_updates_best_result_and_attempts_left(client, logged_in):
    """After a failed attempt the page shows the result and one attempt fewer; after a pass, the pass."""
    assert "3 attempts left." in page(client)
    form = read_quiz(client)
    assert submit(client, answers(form, right=False), form).status_code == 303
    html = page(client)
    assert "2 attempts left." in html and "Your best result so far: 0%." in html
    form = read_quiz(client)
    assert submit(client, answers(form), form).status_code == 303
    html = page(client)
    assert "1 attempt left." in html and "Your best result so far: 100%." in html


def test_manager_grant_and_reset_show_on_the_affiliates_page(client, logged_in, manager_client):
    """Actions taken by someone else (a manager in another session) show on the affiliate's next view."""
    assert complete_welcome(client).status_code == 303
    assert "3 attempts left." in page(client)
    base = f"/manage/affiliates/{logged_in.id}"
    token = csrf_token(manager_client.get(base).get_data(as_text=True))
    granted = manager_client.post(f"{base}/grant-attempt", data={"csrf_token": token, "course": "demo",
                                                                 "lesson": "headlines"})
    assert granted.status_code == 303
    assert "4 attempts left." in page(client)
    reset = manager_client.post(f"{base}/reset-lesson", data={"csrf_token": token, "course": "demo",
                                                               "lesson": "welcome", "confirm": "y"})
    assert reset.status_code == 303
    assert "Mark as complete" in page(client, READING)


def test_a_write_outside_the_services_shows_on_the_next_view(app, client, logged_in):
    """Nothing personal is cached, so even a row removed behind the services' back is seen at once."""
    assert complete_welcome(client).status_code == 303
    assert "You completed this lesson." in page(client, READING)
    with app.app_context():
        db.session.execute(db.delete(LessonProgress).where(LessonProgress.user_id == logged_in.id))
        db.session.commit()
    assert "Mark as complete" in page(client, READING)


def test_changed_content_is_served_after_the_reload(app_factory, content_copy):
    """An edited lesson shows on the next view after the catalog reloads."""
    app = app_factory(CONTENT_DIR=content_copy)
    client = signed_in_client(app)
    assert "Write Headlines That Earn The Click" not in page(client)
    lesson = content_copy / "demo" / "02-headlines.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("\n---\n", "\n---\n\n## Write Headlines That Earn The Click\n", 1),
                      encoding="utf-8")
    with app.app_context():
        app.extensions["coaching.content"].reload()
    assert "Write Headlines That Earn The Click" in page(client)


def test_the_language_follows_the_profile(app, client, logged_in):
    """Switching the profile to German serves the German page at once, and back."""
    def set_language(language: str) -> None:
        with app.app_context():
            db.session.execute(db.update(User).where(User.id == logged_in.id).values(language=language))
            db.session.commit()

    set_language("de")
    german = page(client, READING)
    assert '<html lang="de">' in german and "Als erledigt markieren" in german
    set_language("en")
    assert "Mark as complete" in page(client, READING)


def test_people_never_see_each_others_progress(app, make_user, client, logged_in):
    """Another affiliate's view of the same lesson shows their own progress."""
    assert complete_welcome(client).status_code == 303
    assert "You completed this lesson." in page(client, READING)
    make_user(email="other@example.com")
    other = app.test_client()
    assert Auth(other).login("other@example.com").status_code == 302
    assert "Mark as complete" in page(other, READING)


def test_reading_is_recorded_every_few_minutes(app, client, logged_in, monkeypatch):
    """A view records "last activity" when the last one is older than the resolution, not on every view."""
    page(client)
    with app.app_context():
        first = db.session.scalar(db.select(CourseEnrollment.last_activity_at))
    page(client)
    with app.app_context():
        assert db.session.scalar(db.select(CourseEnrollment.last_activity_at)) == first
    later = first + progress.ACTIVITY_RESOLUTION + timedelta(seconds=1)
    monkeypatch.setattr(progress, "utcnow", lambda: later)
    page(client)
    with app.app_context():
        assert db.session.scalar(db.select(CourseEnrollment.last_activity_at)) == later


def test_a_quiz_left_open_for_two_hours_still_submits(client, logged_in, monkeypatch):
    """The CSRF token lives as long as the browser session (no time limit), so a slow reader loses nothing."""
    form = read_quiz(client)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)
    response = submit(client, answers(form), form)
    assert response.status_code == 303 and "/attempts/" in response.headers["Location"]


def test_an_expired_quiz_form_comes_back_with_the_answers_kept(app_factory, monkeypatch):
    """Where an operator sets a token time limit, an expired quiz form is shown again with every answer
    still filled in and a message saying to submit again; nothing is stored."""
    app = app_factory(WTF_CSRF_TIME_LIMIT=3600)
    client = signed_in_client(app)
    form = read_quiz(client)
    data = answers(form)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)
    response = submit(client, data, form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your form expired" in html
    text_question = next(q for q, kind in form.kinds.items() if kind == "text")
    assert re.search(rf'name="{text_question}"[^>]*value="Click-Through  Rate "', html)
    single = next(q for q, kind in form.kinds.items() if kind == "single")
    assert re.search(rf'name="{single}" value="{data[single]}" checked', html)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(QuizAttempt)) == 0
    again = read_quiz(client)  # the page shown again carries a fresh token
    assert submit(client, data, again).status_code == 303
