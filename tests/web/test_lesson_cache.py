"""The lesson page cache: repeat views skip the render, yet every change the page shows is there at once.

Each test counts renders of learn/lesson.html with Flask's template_rendered signal, so a test that expects
a fresh page proves the cache let it through and a test that expects a cached page proves it did not.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Iterator

from flask import template_rendered

from coaching import learning
from coaching.extensions import db
from coaching.models import CourseEnrollment, LessonProgress, User
from coaching.pagecache import PageCache
from tests.conftest import Auth, csrf_token
from tests.web.helpers import QUIZ_URL, answers, complete_welcome, read_quiz, signed_in_client, submit

QUIZ_PAGE = "/courses/demo/headlines"
READING = "/courses/demo/welcome"


@contextmanager
def lesson_renders(app: Any) -> Iterator[list[str]]:
    """Collect the lesson templates rendered while the block runs."""
    seen: list[str] = []

    def record(_sender: Any, template: Any, context: Any, **_extra: Any) -> None:
        if template.name == "learn/lesson.html":
            seen.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def page(client: Any, path: str = QUIZ_PAGE) -> str:
    """GET a page that must answer 200; its text."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def without_per_request_values(html: str) -> str:
    """The page with its CSRF tokens and submission id blanked out."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    html = re.sub(r'(id="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    return re.sub(r'(name="submission_id"[^>]*value=")[^"]+', r"\1", html)


def submission_id(html: str) -> str:
    """The quiz form's submission id."""
    match = re.search(r'name="submission_id"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="submission_id"', html)
    assert match, "no submission id"
    return match.group(1)


def test_repeat_views_come_from_the_cache_and_match_the_rendered_page(app, client, logged_in):
    """The second and third views are not rendered, and they are the rendered page but for per-request values."""
    with lesson_renders(app) as renders:
        first, second, third = page(client), page(client), page(client)
    assert len(renders) == 1
    rendered, cached = client.get(QUIZ_PAGE + "?fresh"), client.get(QUIZ_PAGE)
    for header in ("Content-Type", "Cache-Control", "Vary", "Content-Security-Policy", "X-Frame-Options"):
        assert cached.headers.get(header) == rendered.headers.get(header), header
    assert without_per_request_values(second) == without_per_request_values(first)
    assert without_per_request_values(third) == without_per_request_values(first)
    assert "Submit answers" in second


def test_every_view_gets_a_new_submission_id_so_two_tabs_are_two_attempts(app, client, logged_in):
    """Cached views carry fresh form ids; answering in two tabs stores two attempts."""
    tab_one, tab_two = read_quiz(client), read_quiz(client)
    assert tab_one.hidden["submission_id"] != tab_two.hidden["submission_id"]
    data = answers(tab_one, right=False)
    assert submit(client, data, tab_one).status_code == 303
    wrong_again = answers(tab_two, right=False)
    wrong_again[next(q for q, kind in tab_two.kinds.items() if kind == "text")] = "another wrong answer"
    assert submit(client, wrong_again, tab_two).status_code == 303
    with app.app_context():
        assert len(learning.lesson_attempts(logged_in.id, "demo", "headlines")) == 2


def test_cached_page_carries_this_sessions_csrf_token(app, affiliate):
    """Two sign-ins of one person (two browsers) share cached pages, each with its own working token."""
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        assert Auth(device).login().status_code == 302
    with lesson_renders(app) as renders:
        laptop_form, phone_form = read_quiz(laptop), read_quiz(phone)
    assert len(renders) == 1  # the phone got the laptop's cached page
    assert laptop_form.hidden["csrf_token"] != phone_form.hidden["csrf_token"]
    # Each token belongs to its own session: the phone's form works from the phone, not from the laptop.
    assert submit(laptop, answers(phone_form, right=False), phone_form).status_code == 400
    assert submit(phone, answers(phone_form, right=False), phone_form).status_code == 303


def test_completing_a_lesson_shows_at_once(app, client, logged_in):
    """Mark as complete changes the progress version: the next view is rendered and says done."""
    assert "Mark as complete" in page(client, READING)
    assert "Mark as complete" in page(client, READING)  # cached
    assert complete_welcome(client).status_code == 303
    with lesson_renders(app) as renders:
        html = page(client, READING)
    assert renders and "You completed this lesson." in html and "Mark as complete" not in html


def test_an_attempt_updates_best_result_and_attempts_left(app, client, logged_in):
    """After a failed attempt the page shows the result and one attempt fewer; after a pass, the pass."""
    assert "3 attempts left." in page(client)
    assert "3 attempts left." in page(client)
    form = read_quiz(client)
    assert submit(client, answers(form, right=False), form).status_code == 303
    html = page(client)
    assert "2 attempts left." in html and "Your best result so far: 0%." in html
    form = read_quiz(client)
    assert submit(client, answers(form), form).status_code == 303
    html = page(client)
    assert "1 attempt left." in html and "Your best result so far: 100%." in html


def test_manager_grant_and_reset_reach_the_affiliates_cached_page(app, client, logged_in, manager_client):
    """Actions taken by someone else (a manager, another session) move the affiliate's version too."""
    assert complete_welcome(client).status_code == 303
    assert "You completed this lesson." in page(client, READING)
    assert "3 attempts left." in page(client)
    assert "3 attempts left." in page(client)  # cached
    base = f"/manage/affiliates/{logged_in.id}"
    token = csrf_token(manager_client.get(base).get_data(as_text=True))
    granted = manager_client.post(f"{base}/grant-attempt", data={"csrf_token": token, "course": "demo",
                                                                 "lesson": "headlines"})
    assert granted.status_code in (302, 303)
    assert "4 attempts left." in page(client)
    assert "You completed this lesson." in page(client, READING)  # cached again before the reset
    reset = manager_client.post(f"{base}/reset-lesson", data={"csrf_token": token, "course": "demo",
                                                               "lesson": "welcome", "confirm": "y"})
    assert reset.status_code in (302, 303)
    assert "Mark as complete" in page(client, READING)


def test_changed_content_is_served_after_the_reload(app_factory, content_copy):
    """A reload of the catalog empties the cache: the edited lesson shows on the next view."""
    app = app_factory(CONTENT_DIR=content_copy)
    client = signed_in_client(app)
    assert "Write Headlines That Earn The Click" not in page(client)
    assert "Write Headlines That Earn The Click" not in page(client)
    lesson = content_copy / "demo" / "02-headlines.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n# Write Headlines That Earn The Click\n", 1),
                      encoding="utf-8")
    with app.app_context():
        app.extensions["coaching.content"].reload()
    assert "Write Headlines That Earn The Click" in page(client)


def set_language(app: Any, user_id: int, language: str) -> None:
    """Set a profile language directly."""
    with app.app_context():
        db.session.execute(db.update(User).where(User.id == user_id).values(language=language))
        db.session.commit()


def test_language_is_part_of_the_key(app, client, logged_in):
    """Switching to German serves the German page, switching back the English one again."""
    english = page(client, READING)
    set_language(app, logged_in.id, "de")
    german = page(client, READING)
    assert '<html lang="de">' in german and "Als erledigt markieren" in german
    set_language(app, logged_in.id, "en")
    assert without_per_request_values(page(client, READING)) == without_per_request_values(english)


def test_people_never_see_each_others_pages(app, make_user, client, logged_in):
    """The key holds the person: another affiliate's view is rendered for them and shows their progress."""
    assert complete_welcome(client).status_code == 303
    assert "You completed this lesson." in page(client, READING)
    make_user(email="other@example.com")
    other = app.test_client()
    assert Auth(other).login("other@example.com").status_code == 302
    with lesson_renders(app) as renders:
        html = page(other, READING)
    assert renders and "Mark as complete" in html


def test_flash_messages_are_shown_once_and_never_cached(app, client, logged_in):
    """A page with a flash message is rendered (the message shows), and the next view has no message."""
    page(client)
    form = read_quiz(client)
    stale = {**form.hidden, "content_hash": "0" * 64, **answers(form)}
    response = client.post(QUIZ_URL, data=stale)
    assert response.status_code == 303
    with lesson_renders(app) as renders:
        flashed = page(client)
        after = page(client)
    assert "This quiz was updated while you had it open." in flashed
    assert "This quiz was updated while you had it open." not in after
    assert len(renders) == 1  # the flashed view was rendered, the next one came from the cache of before


def test_query_strings_are_rendered_not_cached(app, client, logged_in):
    """The footer's language form returns to the full path, so a query string is always rendered."""
    page(client)
    with lesson_renders(app) as renders:
        html = page(client, QUIZ_PAGE + "?from=search")
        page(client, QUIZ_PAGE + "?from=search")
    assert len(renders) == 2
    assert 'name="next" value="/courses/demo/headlines?from=search"' in html


def test_reading_is_still_recorded_every_few_minutes(app, client, logged_in, monkeypatch):
    """A cached page expires when "last activity" is due again, so reading keeps being recorded."""
    page(client)
    with app.app_context():
        first = db.session.scalar(db.select(CourseEnrollment.last_activity_at))
    later = first + learning.ACTIVITY_RESOLUTION + timedelta(seconds=1)
    monkeypatch.setattr(learning, "utcnow", lambda: later)
    with lesson_renders(app) as renders:
        page(client)
    assert renders
    with app.app_context():
        assert db.session.scalar(db.select(CourseEnrollment.last_activity_at)) == later


def test_a_new_session_token_misses(app, client, auth, logged_in):
    """The key holds the person's session token, so an account that gets a deleted account's id (SQLite
    reuses the highest id) cannot match its pages. Shown here with a progress row removed behind the
    services' back: the cached page still says done until signing out and in rotates the token."""
    assert complete_welcome(client).status_code == 303
    assert "You completed this lesson." in page(client, READING)
    with app.app_context():
        db.session.execute(db.delete(LessonProgress).where(LessonProgress.user_id == logged_in.id))
        db.session.commit()
    assert "You completed this lesson." in page(client, READING)  # writes outside the services are not seen
    assert auth.logout().status_code in (302, 303)
    assert auth.login().status_code == 302
    assert "Mark as complete" in page(client, READING)


def test_switched_off_with_zero_entries(app_factory):
    """LESSON_PAGE_CACHE=0 renders every view."""
    app = app_factory(LESSON_PAGE_CACHE=0)
    client = signed_in_client(app)
    with lesson_renders(app) as renders:
        page(client), page(client)
    assert len(renders) == 2


# --- the cache itself ---------------------------------------------------------------------------------------

NOW = learning.utcnow()


def test_values_are_cut_out_and_filled_in_wherever_they_occur():
    """Every occurrence of each value is replaced on get; the rest of the page is byte for byte the same."""
    cache = PageCache(4)
    catalog = object()
    cache.put("k", catalog, "<a>TOKEN</a><b>ID</b><c>TOKEN</c>ü", {"csrf_token": "TOKEN", "submission_id": "ID"},
              expires_at=NOW + timedelta(minutes=1))
    got = cache.get("k", catalog, {"csrf_token": "t2", "submission_id": "i2"}, now=NOW)
    assert got == "<a>t2</a><b>i2</b><c>t2</c>ü".encode()


def test_least_recently_used_pages_go_first():
    """The cache never holds more than its bound; a page read recently stays."""
    cache = PageCache(2)
    catalog, later = object(), NOW + timedelta(minutes=1)
    values = {"csrf_token": "T"}
    for key in ("a", "b"):
        cache.put(key, catalog, f"page {key} T", values, expires_at=later)
    assert cache.get("a", catalog, values, now=NOW) is not None
    cache.put("c", catalog, "page c T", values, expires_at=later)
    assert len(cache) == 2
    assert cache.get("b", catalog, values, now=NOW) is None
    assert cache.get("a", catalog, values, now=NOW) == b"page a T"


def test_expired_pages_and_pages_of_another_catalog_miss():
    """An entry past its expiry is gone; a different catalog object empties the cache."""
    cache = PageCache(4)
    old, new = object(), object()
    values = {"csrf_token": "T"}
    cache.put("k", old, "T", values, expires_at=NOW + timedelta(seconds=5))
    assert cache.get("k", old, values, now=NOW + timedelta(seconds=5)) is None
    cache.put("k", old, "T", values, expires_at=NOW + timedelta(seconds=5))
    assert cache.get("k", new, values, now=NOW) is None
    assert len(cache) == 0
    cache.put("k", old, "T", values, expires_at=NOW + timedelta(seconds=5))  # a late request of the old catalog
    assert cache.get("k", new, values, now=NOW) is None
    cache.put("k", new, "T new", values, expires_at=NOW + timedelta(seconds=5))
    assert cache.get("k", new, values, now=NOW) == b"T new"


# --- signed CSRF tokens ------------------------------------------------------------------------------------

def test_signed_token_is_signed_once_per_session_and_validates(app, monkeypatch):
    """Without a time limit one signed token serves the session; Flask-WTF accepts it; sessions differ."""
    from flask import session
    from flask_wtf.csrf import validate_csrf

    from coaching import csrf_tokens

    signings = []
    real = csrf_tokens.generate_csrf
    monkeypatch.setattr(csrf_tokens, "generate_csrf", lambda: signings.append(1) or real())
    memo = csrf_tokens.SignedTokens(size=2)
    with app.test_request_context("/"):
        first = memo.token()
        assert memo.token() == first and len(signings) == 1
        validate_csrf(first)  # raises when invalid
        secret = session["csrf_token"]
    with app.test_request_context("/"):
        other = memo.token()  # a new browser session: its own secret, its own token
        assert other != first and len(signings) == 2
    for _ in range(2):
        with app.test_request_context("/"):
            memo.token()
    with app.test_request_context("/"):
        session["csrf_token"] = secret
        memo.token()
        assert len(signings) == 5  # the first session's token was pushed out by two newer sessions


def test_signed_token_follows_a_time_limit(app_factory, monkeypatch):
    """With WTF_CSRF_TIME_LIMIT set, every call signs anew (the timestamp matters then)."""
    from coaching import csrf_tokens

    signings = []
    real = csrf_tokens.generate_csrf
    monkeypatch.setattr(csrf_tokens, "generate_csrf", lambda: signings.append(1) or real())
    from flask import session

    app = app_factory(WTF_CSRF_TIME_LIMIT=3600)
    memo = csrf_tokens.SignedTokens()
    for _ in range(2):
        with app.test_request_context("/"):
            session["csrf_token"] = "one-browser-session"
            memo.token()
    assert len(signings) == 2


def test_threads_sharing_one_cache_never_see_a_page_of_another_catalog():
    """Eight threads put and get while the catalog changes under them: every hit is a page of the catalog
    it was looked up with, with this thread's values filled in, and the bound holds."""
    import threading

    cache, catalogs, errors = PageCache(16), [object(), object()], []

    def work(n: int) -> None:
        try:
            for i in range(400):
                catalog = catalogs[(i // 50) % 2]
                key = (n, i % 20)
                values = {"csrf_token": f"T{n}x{i}"}
                cache.put(key, catalog, f"{id(catalog)}|T{n}x{i}", values, expires_at=NOW + timedelta(minutes=1))
                got = cache.get(key, catalog, {"csrf_token": f"mine{n}"}, now=NOW)
                if got is not None and got != f"{id(catalog)}|mine{n}".encode():
                    errors.append(got)
                if i % 7 == 0:  # only this thread writes this key: under the other catalog it must miss
                    other = catalogs[1 - (i // 50) % 2]
                    stale = cache.get(key, other, {"csrf_token": "x"}, now=NOW)
                    if stale is not None:
                        errors.append(stale)
                assert len(cache) <= 16
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
