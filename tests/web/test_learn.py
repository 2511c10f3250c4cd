"""Learning pages: catalog, course, lesson, completion, languages, assets, search, dashboard, hot reload."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import CourseEnrollment, LessonProgress
from tests.conftest import Auth, csrf_token
from tests.web.helpers import complete_welcome, signed_in_client


def test_catalog_shows_course_facts(client):
    """The catalog shows title, summary, lesson count and minutes."""
    body = client.get("/").get_data(as_text=True)
    assert "Demo course" in body and "A small course used by the tests." in body
    assert "2 lessons" in body and "about 8 minutes" in body


def test_catalog_shows_my_progress(client, logged_in):
    """Signed in, the catalog shows my progress in each course."""
    complete_welcome(client)
    assert 'value="50"' in client.get("/").get_data(as_text=True)


def test_course_overview_done_and_resume(client, logged_in):
    """The course page lists lessons with done/not done and resumes at the first unfinished one."""
    complete_welcome(client)
    body = client.get("/courses/demo").get_data(as_text=True)
    assert "1 of 2 lessons done" in body
    assert 'href="/courses/demo/headlines">Resume' in body.replace("\n", "").replace("  ", "") or "Resume" in body


def test_lesson_needs_sign_in(client):
    """Lessons are for signed-in people; anonymous visitors go to the login page."""
    response = client.get("/courses/demo/welcome")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unknown_course_and_lesson_404(client, logged_in):
    """Unknown courses and lessons are 404."""
    assert client.get("/courses/nope").status_code == 404
    assert client.get("/courses/demo/nope").status_code == 404


def test_lesson_page_shows_body_toc_and_navigation(client, logged_in):
    """A lesson shows its rendered body, table of contents, next link and the complete button."""
    body = client.get("/courses/demo/welcome").get_data(as_text=True)
    assert "<strong>commission</strong>" in body
    assert 'href="#what-you-will-learn"' in body
    assert 'href="/courses/demo/headlines" rel="next"' in body
    assert "Mark as complete" in body
    assert '/courses/demo/assets/images/funnel.svg' in body


def test_mark_complete_is_idempotent(app, client, logged_in):
    """Marking a lesson complete twice records one row and moves to the next lesson."""
    first = complete_welcome(client)
    assert first.status_code == 303 and first.headers["Location"].endswith("/courses/demo/headlines")
    complete_welcome(client)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
        enrollment = db.session.scalar(select(CourseEnrollment))
        assert enrollment.course_slug == "demo" and enrollment.completed_at is None


def test_complete_without_csrf_is_400(client, logged_in):
    """A completion POST without CSRF token is a 400."""
    assert client.post("/courses/demo/welcome/complete").status_code == 400


def test_quiz_lesson_cannot_be_marked_complete(app, client, logged_in):
    """A lesson with a quiz is completed by passing it, not by the button."""
    page = client.get("/courses/demo/headlines").get_data(as_text=True)
    assert "Mark as complete" not in page
    client.post("/courses/demo/headlines/complete", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_german_reader_gets_translation_or_notice(app, client, make_user):
    """A German reader sees the German lesson, or the original with a notice when none exists."""
    make_user(email="de@example.com", language="de")
    Auth(client).login("de@example.com")
    german = client.get("/courses/demo/welcome").get_data(as_text=True)
    assert "Willkommen" in german and "Provision" in german and 'lang="de"' in german
    fallback = client.get("/courses/demo/headlines").get_data(as_text=True)
    assert "Headlines" in fallback and 'class="notice"' in fallback


def test_accept_language_picks_german_for_anonymous(client):
    """Without a profile, the browser's Accept-Language decides."""
    body = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="de">' in body and "Demokurs" in body


def test_language_switcher(client):
    """The footer switcher changes the language for the session."""
    page = client.get("/").get_data(as_text=True)
    response = client.post("/language", data={"csrf_token": csrf_token(page), "language": "de", "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert '<html lang="de">' in client.get("/").get_data(as_text=True)


def test_asset_served_with_type_and_caching(client):
    """Course images are served with their MIME type and caching headers."""
    response = client.get("/courses/demo/assets/images/funnel.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    response.close()


@pytest.mark.parametrize("path", [
    "../../../config.py", "images/../../demo/course.md", "%2e%2e/%2e%2e/config.py", "..%2f..%2fconfig.py",
    "/etc/passwd", "images/missing.png", "course.md", "images\\..\\course.md",
])
def test_asset_traversal_is_404(client, path):
    """Paths that leave the course folder, or are not images, are 404."""
    response = client.get(f"/courses/demo/assets/{path}", follow_redirects=True)  # `//` is merged first
    assert response.status_code == 404
    response.close()


def test_search_finds_lessons(client):
    """Search finds lessons by words in titles and bodies, title hits first, with highlighted excerpts."""
    body = client.get("/search?q=headline").get_data(as_text=True)
    assert "/courses/demo/headlines" in body and "<mark>" in body
    assert "Nothing found" in client.get("/search?q=zzzzqqq").get_data(as_text=True)
    assert client.get("/search?q=" + "x" * 5000).status_code == 200


def test_dashboard_shows_courses_and_next_step(client, logged_in):
    """The dashboard shows my started courses with percentage and what to do next."""
    assert "You have not started a course yet" in client.get("/dashboard").get_data(as_text=True)
    complete_welcome(client)
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'value="50"' in body and "Headlines" in body


def test_unpublished_course_hidden(app_factory, content_copy):
    """A lesson of an unpublished course is 404 for affiliates."""
    course = content_copy / "demo" / "course.md"
    course.write_text(course.read_text().replace("order: 1", "order: 1\npublished: false"))
    client = signed_in_client(app_factory(CONTENT_DIR=content_copy))
    assert client.get("/courses/demo/welcome").status_code == 404
    assert "Demo course" not in client.get("/").get_data(as_text=True)


def test_hot_reload_and_deleted_lesson_keeps_progress(app_factory, content_copy):
    """Edits are picked up without restart; deleting a lesson keeps progress rows but not the percentage."""
    app = app_factory(CONTENT_DIR=content_copy)
    client = signed_in_client(app)
    complete_welcome(client)
    lesson = content_copy / "demo" / "01-welcome.md"
    lesson.write_text(lesson.read_text().replace("title: Welcome", "title: Welcome aboard"))
    time.sleep(0.01)
    assert "Welcome aboard" in client.get("/courses/demo").get_data(as_text=True)
    # A broken edit keeps the last good version.
    lesson.write_text("---\ntitle: [unclosed\n---\nbody")
    assert "Welcome aboard" in client.get("/courses/demo").get_data(as_text=True)
    lesson.unlink()
    (content_copy / "demo" / "01-welcome.de.md").unlink()
    body = client.get("/courses/demo").get_data(as_text=True)
    assert "Welcome aboard" not in body and "0 of 1 lessons done" in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1


def test_catalog_and_course_pages_show_the_path(app_factory, tmp_path):
    """With several courses the catalog numbers them as steps, and a course page links the courses before
    and after it in the catalog's order."""
    import shutil

    from tests.conftest import DEMO_CONTENT

    content = tmp_path / "path-content"
    shutil.copytree(DEMO_CONTENT, content)
    second = content / "second"
    shutil.copytree(content / "demo", second)
    course = second / "course.md"
    course.write_text(course.read_text(encoding="utf-8").replace("title: Demo course", "title: Second course")
                      .replace("order: 1", "order: 2"), encoding="utf-8")
    client = app_factory(CONTENT_DIR=content).test_client()
    catalog = client.get("/").get_data(as_text=True)
    assert "Step 1 of 2" in catalog and "Step 2 of 2" in catalog and "build on each other" in catalog
    first_page = client.get("/courses/demo").get_data(as_text=True)
    assert "Next in the path:" in first_page and 'href="/courses/second"' in first_page
    assert "Before this course:" not in first_page
    second_page = client.get("/courses/second").get_data(as_text=True)
    assert "Before this course:" in second_page and "Next in the path:" not in second_page
