"""Whole files in the browser: a new lesson from a template, a new course, renaming a lesson (its old address
redirects, progress and attempts move along) and deleting one (archived, progress kept)."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from coaching.extensions import db
from coaching.models import AttemptGrant, LessonProgress, QuizAttempt, User
from tests.authoring.conftest import HEADLINES, WELCOME, sign_in
from tests.manage.conftest import answers


def test_new_lesson_is_a_draft_after_the_last_one(editor, editor_app, content):
    """The new lesson gets the next number, its front matter filled in, and stays a draft until published."""
    response = editor.post("/manage/content/demo/new", {"title": "Größere Überschriften", "summary": "Bigger.",
                                                        "minutes": "7"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/content/demo/groessere-ueberschriften/edit"
    assert not (content / "demo" / "03-groessere-ueberschriften.md").exists()  # a draft: not in the folder
    page = editor.open("/manage/content/demo/groessere-ueberschriften")
    assert page.text.startswith('---\ntitle: "Größere Überschriften"\nsummary: "Bigger."\nminutes: 7\n---\n')
    assert editor.audit() == ["content_created"]
    listing = editor.client.get("/manage/content").get_data(as_text=True)
    assert "groessere-ueberschriften" in listing  # listed as a new draft
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    assert affiliate.get("/courses/demo/groessere-ueberschriften").status_code == 404
    assert editor.save(page.text, "/manage/content/demo/groessere-ueberschriften", page=page).status_code == 303
    assert (content / "demo" / "03-groessere-ueberschriften.md").read_text(encoding="utf-8") == page.text
    assert affiliate.get("/courses/demo/groessere-ueberschriften").status_code == 200


@pytest.mark.parametrize(("slug", "message"), [
    ("Big-Headlines", "lowercase letters a-z"), ("../etc", "lowercase letters a-z"), ("a/b", "lowercase letters"),
    ("/abs", "lowercase letters"), ("edit", "used by the site"), ("preview", "used by the site"),
    ("welcome", "is or was used"), ("a" * 61, "longer than 60"), ("a--b", "single hyphens"),
])
def test_new_lesson_refuses_bad_names(editor, content, slug, message):
    """Names outside [a-z0-9-], reserved words and taken names get a clear message and create nothing."""
    response = editor.post("/manage/content/demo/new", {"title": "X", "slug": slug, "minutes": "3"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert editor.revisions() == [] and sorted(p.name for p in (content / "demo").iterdir()) == sorted(
        ["01-welcome.md", "01-welcome.de.md", "02-headlines.md", "course.md", "course.de.md", "images"])


def test_new_lesson_form_errors_and_unknown_course(editor):
    """A missing title is a form error (400); an unknown course is 404."""
    assert editor.post("/manage/content/demo/new", {"title": "", "minutes": "3"}).status_code == 400
    assert editor.client.get("/manage/content/nope/new").status_code == 404
    assert editor.client.post("/manage/content/demo/new", data={"title": "x", "minutes": "3"}).status_code == 400


def test_new_course_is_created_unpublished(editor, editor_app, content):
    """A new course: its folder and course.md, hidden from affiliates until published: true."""
    response = editor.post("/manage/content/new", {"title": "Social media", "summary": "Posts that sell.",
                                                   "language": "de"})
    assert response.status_code == 303 and response.headers["Location"] == "/manage/content/social-media/edit"
    text = (content / "social-media" / "course.md").read_text(encoding="utf-8")
    assert 'title: "Social media"' in text and "published: false" in text and "language: de" in text
    assert "order: 2" in text
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    assert affiliate.get("/courses/social-media").status_code == 404
    assert editor.client.get("/courses/social-media").status_code == 200  # managers see drafts
    assert editor.post("/manage/content/new", {"title": "Again", "slug": "social-media",
                                               "language": "en"}).status_code == 400
    assert editor.post("/manage/content/new", {"title": "x", "slug": "new", "language": "en"}).status_code == 400
    lesson = editor.post("/manage/content/social-media/new", {"title": "Erste Schritte", "minutes": "4"})
    assert lesson.headers["Location"] == "/manage/content/social-media/erste-schritte/edit"
    assert "Schreiben Sie die Lektion hier" in editor.open("/manage/content/social-media/erste-schritte").text


def progress_and_attempts(app, user_id: int) -> None:
    """The affiliate completes the welcome lesson, answers the headlines quiz twice and gets an extra attempt."""
    from coaching.services import catalog, progress, quizzes

    with app.app_context():
        user = db.session.get(User, user_id)
        course = catalog.catalog().course("demo")
        welcome, headlines = course.lesson("welcome"), course.lesson("headlines")
        progress.mark_complete(user, course, welcome, welcome.texts["en"].content_hash, "en")
        for right in (False, True):
            quizzes.submit_quiz(user, course, headlines, headlines.texts["en"], answers(single=right, multi=right),
                                secrets.token_hex(8), "en")
        quizzes.grant_attempt(user.id, "demo", "headlines", user)
        db.session.commit()


def slugs_of(app, model) -> list[str]:
    """The lesson slugs a table's rows point at."""
    with app.app_context():
        return sorted(set(db.session.scalars(select(model.lesson_slug))))


def test_rename_moves_files_progress_and_redirects(editor, editor_app, content):
    """Both language files move, the old address redirects (301, and 308 for a POST), rows move along."""
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    with editor_app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "aff@example.com"))
    progress_and_attempts(editor_app, user_id)
    response = editor.post(f"{WELCOME}/rename", {"slug": "hello"})
    assert response.status_code == 303 and response.headers["Location"] == "/manage/content/demo/hello/edit"
    names = sorted(p.name for p in (content / "demo").glob("*.md"))
    assert names == ["01-hello.de.md", "01-hello.md", "02-headlines.md", "course.de.md", "course.md"]
    old = affiliate.get("/courses/demo/welcome")
    assert old.status_code == 301 and old.headers["Location"] == "/courses/demo/hello"
    assert affiliate.get("/courses/demo/hello").status_code == 200
    assert slugs_of(editor_app, LessonProgress) == ["headlines", "hello"]
    course_page = affiliate.get("/courses/demo").get_data(as_text=True)
    assert "100%" in course_page  # both completions still count
    assert "lesson_renamed" in editor.audit()
    history = editor.client.get("/manage/content/demo/hello/history").get_data(as_text=True)
    assert "renamed from 01-welcome.md" in history and "taken from the content folder" in history
    assert editor.client.get(f"{WELCOME}/edit").status_code == 404


def test_rename_of_a_quiz_lesson_keeps_attempts_and_answers(editor, editor_app, content):
    """Attempts and granted attempts move; a quiz posted to the old address is re-sent to the new one (308)."""
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    with editor_app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "aff@example.com"))
    progress_and_attempts(editor_app, user_id)
    assert editor.post(f"{HEADLINES}/rename", {"slug": "better-headlines"}).status_code == 303
    assert slugs_of(editor_app, QuizAttempt) == ["better-headlines"]
    assert slugs_of(editor_app, AttemptGrant) == ["better-headlines"]
    post = affiliate.post("/courses/demo/headlines/quiz", data={"submission_id": "x" * 16})
    assert post.status_code == 308 and post.headers["Location"] == "/courses/demo/better-headlines/quiz"
    attempts = affiliate.get("/courses/demo/better-headlines").get_data(as_text=True)
    assert "2 of 3" in attempts or "attempt" in attempts.lower()


def test_rename_twice_and_back(editor, editor_app, content):
    """a -> b -> c: the first address leads to c; renaming back to a used name removes its alias."""
    assert editor.post(f"{WELCOME}/rename", {"slug": "hello"}).status_code == 303
    assert editor.post("/manage/content/demo/hello/rename", {"slug": "hi"}).status_code == 303
    first = editor.client.get("/courses/demo/welcome")
    assert first.status_code == 301 and first.headers["Location"] == "/courses/demo/hi"
    assert editor.post("/manage/content/demo/hi/rename", {"slug": "welcome"}).status_code == 303
    assert editor.client.get("/courses/demo/welcome").status_code == 200
    assert editor.client.get("/courses/demo/hi").headers["Location"] == "/courses/demo/welcome"


@pytest.mark.parametrize(("slug", "message"), [("headlines", "is or was used"), ("welcome", "current address"),
                                               ("Hello", "lowercase"), ("images", "used by the site"),
                                               ("..", "lowercase")])
def test_rename_refusals(editor, content, slug, message):
    """Taken, unchanged, badly formed and reserved names are refused with a message; nothing moves."""
    response = editor.post(f"{WELCOME}/rename", {"slug": slug})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert (content / "demo" / "01-welcome.md").exists() and editor.revisions() == []


def test_rename_refuses_a_name_with_old_progress(editor, editor_app, content):
    """A slug under which progress is stored (a deleted lesson's) cannot be reused: the rows would mix."""
    with editor_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
        db.session.add(LessonProgress(user_id=user.id, course_slug="demo", lesson_slug="old-lesson",
                                      content_hash="x"))
        db.session.commit()
    response = editor.post(f"{WELCOME}/rename", {"slug": "old-lesson"})
    assert response.status_code == 400 and "is or was used" in response.get_data(as_text=True)


def test_delete_archives_and_keeps_progress(editor, editor_app, content):
    """Delete asks for confirmation, moves the files to the archive, keeps progress and the history."""
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    with editor_app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "aff@example.com"))
    progress_and_attempts(editor_app, user_id)
    page = editor.client.get(f"{WELCOME}/delete").get_data(as_text=True)
    assert "01-welcome.de.md" in page and "progress" in page
    unconfirmed = editor.post(f"{WELCOME}/delete", {})
    assert unconfirmed.status_code == 303 and (content / "demo" / "01-welcome.md").exists()
    response = editor.post(f"{WELCOME}/delete", {"confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/manage/content"
    assert not (content / "demo" / "01-welcome.md").exists()
    archived = sorted(p.name.split("-", 2)[2] for p in (content / ".archive" / "demo").iterdir())
    assert archived == ["01-welcome.de.md", "01-welcome.md"]
    assert affiliate.get("/courses/demo/welcome").status_code == 404
    assert slugs_of(editor_app, LessonProgress) == ["headlines", "welcome"]
    assert "lesson_deleted" in editor.audit()
    history = editor.client.get(f"{WELCOME}/history").get_data(as_text=True)
    assert "Deleted" in history and "Restore #" in history


def test_delete_only_a_translation(editor, content):
    """?lang=de deletes the German file only."""
    assert editor.post(f"{WELCOME}/delete?lang=de", {"confirm": "y"}).status_code == 303
    assert not (content / "demo" / "01-welcome.de.md").exists() and (content / "demo" / "01-welcome.md").exists()


def test_deleted_lesson_can_be_restored_from_its_history(editor, editor_app, content):
    """A restore of a deleted lesson's last version brings it back."""
    editor.post(f"{WELCOME}/delete", {"confirm": "y"})
    revisions = editor.revisions("demo/01-welcome.md")
    response = editor.post(f"{WELCOME}/restore", {"revision": revisions[0].id, "base": revisions[-1].id})
    assert response.status_code == 303
    assert (content / "demo" / "01-welcome.md").exists()
    assert editor.served_title() == "Welcome"


def test_delete_refuses_get_without_confirmation_page_and_unknown(editor):
    """Unknown lessons are 404; the form needs its CSRF token."""
    assert editor.client.get("/manage/content/demo/nope/delete").status_code == 404
    assert editor.client.post(f"{WELCOME}/delete", data={"confirm": "y"}).status_code == 400
