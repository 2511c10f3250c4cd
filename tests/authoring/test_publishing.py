"""Where the truth lives: the published revisions in the database. Two app servers (two apps, each with its own
content folder, one database): an edit through one is served by the other; drafts never reach a folder; a
file changed by hand is never overwritten; a folder that cannot be written keeps serving what it has."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.exc import OperationalError

from coaching.services import publishing
from tests.authoring.conftest import WELCOME, Editor, sign_in, welcome_text
from tests.conftest import DEMO_CONTENT


@pytest.fixture
def servers(app_factory, tmp_path):
    """Two apps ("server A" and "server B") with their own folders on one database; a manager signed in on A."""
    folders = [tmp_path / "server-a", tmp_path / "server-b"]
    for folder in folders:
        shutil.copytree(DEMO_CONTENT, folder)
    a = app_factory(CONTENT_DIR=str(folders[0]), CONTENT_EDITING="on")
    b = app_factory(CONTENT_DIR=str(folders[1]), CONTENT_EDITING="on")
    return Editor(sign_in(a, "boss@example.com"), a, folders[0]), Editor(None, b, folders[1])


def served(app, lesson: str = "welcome", lang: str = "en") -> str | None:
    """The title a server's readers get now (None when the lesson is not served)."""
    with app.app_context():
        from coaching.services import catalog

        found = catalog.catalog().course("demo").lesson(lesson)
        return found.texts[lang].title if found is not None else None


def test_an_edit_through_one_server_is_served_by_the_other(servers):
    """A published save on A is written into B's folder at B's next check and served there."""
    a, b = servers
    text = welcome_text(a.root).replace("title: Welcome", "title: Welcome from A")
    assert a.save(text).status_code == 303
    assert served(b.app) == "Welcome from A"
    assert (b.root / "demo" / "01-welcome.md").read_text(encoding="utf-8") == text
    marker = json.loads((b.root / publishing.MARKER_NAME).read_text())
    assert marker["paths"]["demo/01-welcome.md"][1] == a.revisions()[-1].sha256


def test_drafts_never_reach_a_folder(servers, app_factory):
    """A draft stays in the database: B's folder and a restarted B serve the published version."""
    a, b = servers
    before = welcome_text(b.root)
    a.save(before.replace("title: Welcome", "title: Draft only"), action="draft")
    a.save(before.replace("minutes: 3", "minutes: broken"))  # errors: a draft too
    assert served(b.app) == "Welcome" and welcome_text(b.root) == before
    restarted = app_factory(CONTENT_DIR=str(b.root), CONTENT_EDITING="on")
    assert served(restarted) == "Welcome"


def test_deletions_renames_and_pictures_reach_the_other_server(servers):
    """Deleting, renaming and uploading on A show on B: archived, moved, written."""
    a, b = servers
    assert a.post(f"{WELCOME}/rename", {"slug": "hello"}).status_code == 303
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), "blue").save(buffer, "PNG")
    response = a.client.post("/manage/content/demo/images", content_type="multipart/form-data",
                             headers={"Accept": "application/json"},
                             data={"csrf_token": a.token(), "alt": "Blue", "image": (io.BytesIO(buffer.getvalue()),
                                                                                     "blue.png")})
    assert response.status_code == 200
    assert a.post("/manage/content/demo/headlines/delete", {"confirm": "y"}).status_code == 303
    assert served(b.app, "hello") == "Welcome" and served(b.app, "headlines") is None
    names = sorted(p.name for p in (b.root / "demo").glob("*.md"))
    assert names == ["01-hello.de.md", "01-hello.md", "course.de.md", "course.md"]
    assert (b.root / "demo" / "images" / "blue.png").read_bytes() == buffer.getvalue()
    assert [p.name.split("-", 2)[2] for p in (b.root / ".archive" / "demo").iterdir()] == ["02-headlines.md"]


def test_a_file_changed_by_hand_is_not_overwritten(servers):
    """B's file edited on B (not in the editor) is left alone when A publishes it, and B's content page says so."""
    a, b = servers
    served(b.app)  # B caught up once (its marker knows the file)
    a.save(welcome_text(a.root).replace("Welcome", "First"))
    assert served(b.app) == "First"
    by_hand = welcome_text(b.root).replace("First", "Edited on B")
    (b.root / "demo" / "01-welcome.md").write_text(by_hand, encoding="utf-8")
    a.save(welcome_text(a.root).replace("First", "Second"))
    assert served(b.app) == "Edited on B" and welcome_text(b.root) == by_hand
    manager_b = sign_in(b.app, "second@example.com")
    page = manager_b.get("/manage/content").get_data(as_text=True)
    assert "outside the editor" in page and "demo/01-welcome.md" in page


def test_a_fresh_folder_takes_what_it_can(servers, app_factory, tmp_path):
    """A new server's folder (no marker): files the database knows are brought up to date, a file edited by hand
    that the database never saw is kept."""
    a, _b = servers
    a.save(welcome_text(a.root).replace("Welcome", "Latest"))
    headlines = (a.root / "demo" / "02-headlines.md").read_text(encoding="utf-8")
    a.save(headlines.replace("title: Headlines", "title: Better headlines"), "/manage/content/demo/headlines")
    fresh = tmp_path / "server-c"
    shutil.copytree(DEMO_CONTENT, fresh)
    (fresh / "demo" / "02-headlines.md").write_text(headlines.replace("Headlines", "Local"), encoding="utf-8")
    c = app_factory(CONTENT_DIR=str(fresh), CONTENT_EDITING="on")
    assert served(c) == "Latest"  # the original text was known: replaced
    assert served(c, "headlines") == "Local"  # never seen by the database: kept, reported
    assert publishing.outside_changes(fresh) == ["demo/02-headlines.md"]


def test_nothing_is_written_without_browser_edits(app_factory, tmp_path):
    """A server whose database holds no revision never writes into its folder (not even a marker)."""
    folder = tmp_path / "plain"
    shutil.copytree(DEMO_CONTENT, folder)
    app = app_factory(CONTENT_DIR=str(folder), CONTENT_EDITING="on")
    assert served(app) == "Welcome"
    assert sorted(p.name for p in folder.iterdir()) == ["demo"]


def test_database_trouble_keeps_serving(servers, monkeypatch):
    """When the database cannot be asked, B serves what its folder holds and its content page names the trouble."""
    a, b = servers

    def unreachable(conn):
        raise OperationalError("SELECT max(id)", {}, Exception("connection refused"))

    monkeypatch.setattr(publishing, "latest_published_id", unreachable)
    assert served(b.app) == "Welcome"
    assert b.app.extensions["coaching.content"].check_error is not None
    page = sign_in(b.app, "second@example.com").get("/manage/content").get_data(as_text=True)
    assert "could not bring its content folder up to date" in page


def test_an_unwritable_folder_catches_up_later(servers, monkeypatch):
    """B cannot write for a while: it keeps serving the old text, says why, and catches up once it can."""
    a, b = servers
    real = publishing.atomic_write

    def read_only(target: Path, data: bytes) -> None:
        if str(target).startswith(str(b.root)):
            raise publishing.FolderError("read_only", "Read-only file system")
        real(target, data)

    monkeypatch.setattr(publishing, "atomic_write", read_only)
    a.save(welcome_text(a.root).replace("Welcome", "Later"))
    assert served(b.app) == "Welcome"
    assert "read_only" in str(b.app.extensions["coaching.content"].check_error)
    monkeypatch.setattr(publishing, "atomic_write", real)
    assert served(b.app) == "Later"
