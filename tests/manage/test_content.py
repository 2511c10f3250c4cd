"""Content status, preview (drafts and broken files included) and forced reload."""
from __future__ import annotations

import re
import shutil

import pytest

from coaching.extensions import db
from coaching.services.accounts import create_user
from tests.conftest import DEMO_CONTENT, Auth

BROKEN = """---
title: Broken lesson
minutes: lots
---
Some text.

## Quiz

1. Which is right?
   - [x] This one
   - [ ] That one
"""


@pytest.fixture
def content_dir(tmp_path):
    """The demo content plus a broken lesson and an unpublished course."""
    root = tmp_path / "lessons"
    shutil.copytree(DEMO_CONTENT, root)
    (root / "demo" / "03-broken.md").write_text(BROKEN, encoding="utf-8")
    (root / "drafty").mkdir()
    (root / "drafty" / "course.md").write_text("---\ntitle: Draft course\nsummary: Soon.\norder: 9\npublished: false\n"
                                               "---\nA draft.\n", encoding="utf-8")
    (root / "drafty" / "01-intro.md").write_text("---\ntitle: Draft lesson\nsummary: Hi.\nminutes: 2\n---\n"
                                                 "Draft body text.\n", encoding="utf-8")
    return root


@pytest.fixture
def boss(app_factory, content_dir):
    """A manager client on an app serving that content."""
    app = app_factory(CONTENT_DIR=str(content_dir))
    with app.app_context():
        create_user(email="boss@example.com", name="Maria Manager", password="correct horse battery", role="manager")
        db.session.commit()
    client = app.test_client()
    assert Auth(client).login("boss@example.com").status_code == 302
    client.application = app
    return client


def test_status_lists_files_and_problems(boss):
    """Every course and lesson file, with languages, quiz size, short hash, and every path:line: message."""
    html = boss.get("/manage/content").get_data(as_text=True)
    assert "Draft course" in html and "Broken lesson" in html and "Headlines" in html
    assert "demo/03-broken.md:3: &#39;minutes&#39; must be a whole number, got &#39;lots&#39;" in html
    assert html.count('class="problem problem-error"') >= 2
    assert re.search(r'<td class="num">3</td>\s*<td><code>[0-9a-f]{10}</code>', html)  # the headlines quiz
    assert "/manage/content/demo/welcome/preview?lang=de" in html


def test_preview_marks_correct_answers(boss):
    """The preview shows the quiz with the correct options marked and explanations."""
    html = boss.get("/manage/content/demo/headlines/preview").get_data(as_text=True)
    correct = [c.strip() for c in re.findall(r'<li class="answer-correct">(.*?)<span', html, re.S)]
    assert correct == ["Save three hours a week on reporting", "Search ads", "Sponsored newsletter placements"]
    assert "click-through rate" in html and "Organic search is earned" in html


def test_preview_of_broken_file_and_draft(boss):
    """A lesson with errors is previewed from its file with its errors highlighted; drafts preview too."""
    html = boss.get("/manage/content/demo/broken/preview").get_data(as_text=True)
    assert "Not published" in html and "preview-errors" in html and "must be a whole number" in html
    assert '<li class="answer-correct">This one' in html
    assert "Draft body text." in boss.get("/manage/content/drafty/intro/preview").get_data(as_text=True)
    german = boss.get("/manage/content/demo/welcome/preview?lang=de").get_data(as_text=True)
    assert "Provision" in german
    assert boss.get("/manage/content/demo/welcome/preview?lang=xx").status_code == 200


def test_old_preview_address_redirects(boss):
    """The preview's old address answers 301 with the new one (the language kept)."""
    response = boss.get("/manage/content/preview/demo/welcome?lang=de")
    assert response.status_code == 301
    assert response.headers["Location"] == "/manage/content/demo/welcome/preview?lang=de"


def test_reload_picks_up_changes_and_is_audited(boss, content_dir):
    """The reload button reloads at once and writes the audit log."""
    boss.application.config["CONTENT_RELOAD_SECONDS"] = 3600
    boss.application.extensions["coaching.content"].reload_seconds = 3600
    (content_dir / "demo" / "03-broken.md").write_text(BROKEN.replace("lots", "4").replace(
        "minutes", "summary: Fixed.\nminutes"), encoding="utf-8")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      boss.get("/manage/content").get_data(as_text=True)).group(1)
    response = boss.post("/manage/content/reload", data={"csrf_token": token})
    assert response.status_code == 303
    html = boss.get("/manage/content").get_data(as_text=True)
    assert "03-broken.md:3" not in html
    with boss.application.app_context():
        from coaching.models import AuditLog

        assert [a.action for a in db.session.scalars(db.select(AuditLog))] == ["content_reloaded"]
