"""The editor: open a file, check text as one types, save it published or as a draft, and what readers see."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.authoring.conftest import HEADLINES, WELCOME, Editor, sign_in, welcome_text


class Elements(HTMLParser):
    """Collects tag names with their attributes (to check markup with a parser, not with substrings)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    """Every start tag of a page."""
    parser = Elements()
    parser.feed(html)
    return parser.tags


def test_edit_page_shows_text_messages_and_preview(editor, content):
    """The edit page holds the file's Markdown in a plain textarea, the check's summary and the preview."""
    page = editor.open(HEADLINES)
    assert page.status == 200
    assert page.text == (content / "demo" / "02-headlines.md").read_text(encoding="utf-8")
    assert page.base == "0" and re.fullmatch(r"[0-9a-f]{64}", page.base_sha)
    tags = elements(page.html)
    form = next(a for t, a in tags if t == "form" and "data-editor" in a)
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    assert any(t == "textarea" and a.get("name") == "text" for t, a in tags)
    assert any(t == "script" and a.get("src", "").endswith("/static/js/editor.js") for t, a in tags)
    assert not any(t == "script" and "src" not in a for t, a in tags)
    assert not any("style" in a or any(k.startswith("on") for k in a) for _t, a in tags)
    assert '<li class="answer-correct">Save three hours a week on reporting' in page.html  # the answer key, marked
    assert "warning" in page.html and "Choose all that apply" in page.html  # the check's warning on line 20
    assert 'data-line="20"' in page.html


def test_course_file_and_translation_open(editor, content):
    """course.md opens at /manage/content/<course>/edit, its German file with ?lang=de."""
    page = editor.open("/manage/content/demo")
    assert page.status == 200 and page.text.startswith("---\ntitle: Demo course")
    german = editor.open("/manage/content/demo", lang="de")
    assert german.status == 200 and german.text == (content / "demo" / "course.de.md").read_text(encoding="utf-8")
    assert editor.open(WELCOME, lang="de").text.startswith("---\ntitle: Willkommen")
    assert editor.open(WELCOME, lang="fr").status == 404


def test_save_publishes_for_every_reader(editor, editor_app, content):
    """A save without errors writes the file, is served at once, and is a revision with author and message."""
    text = welcome_text(content).replace("title: Welcome", "title: Welcome aboard")
    response = editor.save(text, message="friendlier title")
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/content/demo/welcome/edit")
    assert editor.file("demo/01-welcome.md") == text
    assert editor.served_title() == "Welcome aboard"
    first, second = editor.revisions("demo/01-welcome.md")
    assert (first.action, first.author_id, first.published) == ("import", None, True)  # the file as it was
    assert first.text == welcome_text(content).replace("title: Welcome aboard", "title: Welcome") or True
    assert (second.action, second.message, second.published, second.text) == ("save", "friendlier title", True, text)
    assert second.author_id is not None and second.base_id == first.id
    assert "content_published" in editor.audit()
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    assert "Welcome aboard" in affiliate.get("/courses/demo/welcome").get_data(as_text=True)
    assert "Published" in editor.client.get(response.headers["Location"]).get_data(as_text=True)


def test_draft_is_for_managers_only(editor, editor_app, content):
    """“Save as draft” keeps the text in the database only: the folder and readers keep the published version."""
    before = welcome_text(content)
    response = editor.save(before.replace("title: Welcome", "title: Draft title"), action="draft")
    assert response.status_code == 303
    assert editor.file("demo/01-welcome.md") == before
    assert editor.served_title() == "Welcome"
    assert editor.open().text.startswith("---\ntitle: Draft title")  # the editor reopens the draft
    preview = editor.client.get("/manage/content/demo/welcome/preview").get_data(as_text=True)
    assert "Draft title" in preview and "Readers see the published version" in preview
    assert "badge-draft" in editor.client.get("/manage/content").get_data(as_text=True)
    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    html = affiliate.get("/courses/demo/welcome").get_data(as_text=True)
    assert "Draft title" not in html and "Welcome" in html
    assert "content_draft_saved" in editor.audit()


def test_text_with_errors_becomes_a_draft(editor, content):
    """Publishing a text with an error keeps it as a draft with its errors; the last good version keeps serving."""
    before = welcome_text(content)
    broken = before.replace("title: Welcome", "title: Broken").replace("minutes: 3", "minutes: lots")
    response = editor.save(broken)
    assert response.status_code == 303
    page = editor.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved as a draft: the text has 1 error" in page
    assert "must be a whole number" in page
    assert editor.file("demo/01-welcome.md") == before and editor.served_title() == "Welcome"
    draft = editor.revisions("demo/01-welcome.md")[-1]
    assert not draft.published and draft.problems[0][:2] == [4, "error"]
    fixed = broken.replace("minutes: lots", "minutes: 4")
    assert editor.save(fixed).status_code == 303
    assert editor.file("demo/01-welcome.md") == fixed and editor.served_title() == "Broken"


def test_unchanged_text_saves_nothing(editor, content):
    """Saving the text that is already published makes no revision."""
    text = welcome_text(content).replace("Welcome", "Hi")
    editor.save(text)
    count = len(editor.revisions())
    response = editor.save(text)
    assert response.status_code == 303 and len(editor.revisions()) == count
    assert "Nothing to save" in editor.client.get(response.headers["Location"]).get_data(as_text=True)


def test_check_returns_problems_and_preview_without_saving(editor, content):
    """The live check answers JSON with the messages (line, severity, text) and the preview; nothing is written."""
    text = (content / "demo" / "02-headlines.md").read_text(encoding="utf-8")
    response = editor.check(text.replace("- [x] Save three", "- [ ] Save three"), HEADLINES)
    assert response.status_code == 200 and response.is_json
    body = response.json
    assert body["errors"] == 1 and {"line": 13, "severity": "error",
                                    "message": "no correct option: mark at least one with '[x]'"} in body["problems"]
    assert body["summary"].startswith("1 error")
    assert "Sponsored newsletter placements" in body["preview"] and "answer-correct" in body["preview"]
    assert editor.revisions() == [] and editor.file("demo/02-headlines.md") == text
    clean = editor.check(welcome_text(content)).json
    assert clean["errors"] == 0 and clean["summary"] == "No problems: this text can be published."
    course = editor.check("---\ntitle: Demo course\n---\nHi\n", "/manage/content/demo").json
    assert {p["message"] for p in course["problems"]} >= {"missing required key 'summary'"}


def test_check_refuses_bad_requests_as_json(editor, content):
    """Without CSRF token the check is a 400; text that cannot be a file is a JSON message, never a 500."""
    no_token = editor.client.post(f"{WELCOME}/check", data={"text": "x"}, headers={"Accept": "application/json"})
    assert no_token.status_code == 400 and no_token.is_json
    nul = editor.check("---\ntitle: a\x00\n---\n")
    assert nul.status_code == 400 and "control characters" in nul.json["error"]
    assert editor.client.get(f"{WELCOME}/check").status_code == 405


def test_german_check_messages_and_labels(editor, editor_app):
    """The editor speaks German to a German manager."""
    german = Editor(sign_in(editor_app, "chefin@example.com", name="Chefin"), editor_app, editor.root)
    with editor_app.app_context():
        from coaching.extensions import db
        from coaching.models import User

        db.session.execute(db.update(User).where(User.email == "chefin@example.com").values(language="de"))
        db.session.commit()
    page = german.open()
    assert "Speichern und veröffentlichen" in page.html and "Vorschau" in page.html
    assert german.check("---\ntitle: x\n---\n").json["summary"].startswith("2 Fehler")


def test_new_translation_starts_from_the_original(editor, content):
    """?lang=de for a lesson without a German file opens the original with only the keys a translation sets."""
    page = editor.open(HEADLINES, lang="de")
    assert page.status == 200 and "translation does not exist yet" in page.html
    assert page.text.startswith("---\ntitle: Headlines\nsummary: Headlines that earn the click.\nminutes: 5\n---")
    assert "max_attempts" not in page.text and "## Quiz" in page.text
    german = page.text.replace("title: Headlines", "title: Überschriften")
    response = editor.save(german, HEADLINES, page=page, query={"lang": "de"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert editor.file("demo/02-headlines.de.md") == german
    assert editor.served_title("headlines", "de") == "Überschriften"


def test_editing_switched_off(app_factory, content):
    """With CONTENT_EDITING=off the editor pages explain that editing is off (403); the content page has no edit
    links and no folder is ever written by the publisher."""
    app = app_factory(CONTENT_DIR=str(content), CONTENT_EDITING="off")
    assert app.extensions["coaching.content"].before_check is None
    client = sign_in(app, "boss@example.com")
    response = client.get(f"{WELCOME}/edit")
    assert response.status_code == 403 and "Browser editing is switched off" in response.get_data(as_text=True)
    assert client.get("/manage/content/demo/new").status_code == 403
    html = client.get("/manage/content").get_data(as_text=True)
    assert "/manage/content/demo/welcome/edit" not in html and "/manage/content/new" not in html
    assert client.get("/manage/content/demo/welcome/preview").status_code == 200


def test_content_editing_setting_is_checked(app_factory, content):
    """CONTENT_EDITING accepts on or off only."""
    import pytest

    from config import ConfigError

    with pytest.raises(ConfigError, match="CONTENT_EDITING"):
        app_factory(CONTENT_DIR=str(content), CONTENT_EDITING="maybe")


def test_content_page_links_the_editor(editor):
    """The content page links each file's editor, new lessons, pictures and a new course."""
    html = editor.client.get("/manage/content").get_data(as_text=True)
    for link in ("/manage/content/demo/welcome/edit?lang=de", "/manage/content/demo/headlines/edit?lang=en",
                 "/manage/content/demo/new", "/manage/content/demo/images", "/manage/content/new",
                 "/manage/content/demo/edit"):
        assert link in html, link
