"""`flask content sync`: files changed outside the editor become revisions (checked like a save), removals become
deletions, rows written under a renamed lesson's old slug move, and published revisions are committed to git with
their author where the folder is a git work tree."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from coaching.extensions import db
from coaching.models import LessonProgress, User
from tests.authoring.conftest import WELCOME, welcome_text
from tests.conftest import skip_or_fail


def sync(app, *args: str):
    """Run `flask content sync` against an app; returns the click result."""
    return app.test_cli_runner().invoke(args=["content", "sync", *args], catch_exceptions=False)


def git(folder: Path, *args: str) -> str:
    """Run git in a folder."""
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(content: Path) -> Path:
    """The content folder as a git work tree with one commit."""
    if shutil.which("git") is None:
        skip_or_fail("git is not installed")
    git(content, "init", "-q", "-b", "main")
    git(content, "config", "user.email", "ops@example.com")
    git(content, "config", "user.name", "Ops")
    git(content, "add", ".")
    git(content, "commit", "-q", "-m", "the curriculum")
    return content


def test_changed_files_are_imported(editor, editor_app, content):
    """A good change is published; a broken one is kept as a draft and the folder goes back to the published text;
    a new file is imported; a removed file becomes a deletion."""
    editor.save(welcome_text(content).replace("Welcome", "Browser"))
    editor.save((content / "demo" / "02-headlines.md").read_text(encoding="utf-8"), "/manage/content/demo/headlines")
    editor.client.get("/manage/content")  # this server caught up once
    (content / "demo" / "01-welcome.md").write_text(welcome_text(content).replace("Browser", "Pulled"),
                                                    encoding="utf-8")
    broken = (content / "demo" / "02-headlines.md").read_text(encoding="utf-8").replace("minutes: 5", "minutes: x")
    (content / "demo" / "02-headlines.md").write_text(broken, encoding="utf-8")
    (content / "demo" / "03-fresh.md").write_text("---\ntitle: New\nsummary: s\nminutes: 2\n---\nNew text.\n",
                                                encoding="utf-8")
    result = sync(editor_app, "--no-git")
    assert result.exit_code == 0, result.output
    assert "published: demo/01-welcome.md" in result.output and "published: demo/03-fresh.md" in result.output
    assert "draft: demo/02-headlines.md: kept as a draft (1 errors" in result.output
    welcome = editor.revisions("demo/01-welcome.md")[-1]
    assert (welcome.action, welcome.published, welcome.author_id) == ("sync", True, None)
    assert "minutes: 5" in (content / "demo" / "02-headlines.md").read_text(encoding="utf-8")
    assert any(p.name.endswith("02-headlines.md") for p in (content / ".archive" / "demo").iterdir())
    assert not editor.revisions("demo/02-headlines.md")[-1].published
    (content / "demo" / "03-fresh.md").unlink()
    result = sync(editor_app, "--no-git")
    assert "deleted: demo/03-fresh.md" in result.output and editor.revisions("demo/03-fresh.md")[-1].deleted
    assert sync(editor_app, "--no-git").output.strip().endswith("0 published, 0 drafts, 0 deleted, 0 commits")


def test_a_change_made_in_both_places_becomes_a_draft(app_factory, tmp_path):
    """Changed by hand in server B's folder while a manager saved the same file on server A: B keeps serving its
    file until the sync, which keeps the browser's version published and the folder's text as a draft to merge."""
    from tests.authoring.conftest import Editor, sign_in
    from tests.conftest import DEMO_CONTENT

    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        shutil.copytree(DEMO_CONTENT, folder)
    app_a = app_factory(CONTENT_DIR=str(folders[0]), CONTENT_EDITING="on")
    app_b = app_factory(CONTENT_DIR=str(folders[1]), CONTENT_EDITING="on")
    a = Editor(sign_in(app_a, "boss@example.com"), app_a, folders[0])
    a.save(welcome_text(folders[0]).replace("Welcome", "One"))
    b = Editor(sign_in(app_b, "b@example.com"), app_b, folders[1])
    b.client.get("/manage/content")  # B caught up: it holds "One"
    (folders[1] / "demo" / "01-welcome.md").write_text(welcome_text(folders[1]).replace("One", "Folder"),
                                                       encoding="utf-8")
    a.save(welcome_text(folders[0]).replace("One", "Browser two"))
    assert "Folder" in welcome_text(folders[1])  # B does not overwrite the hand-made change
    result = sync(app_b, "--no-git")
    assert "demo/01-welcome.md: kept as a draft (also changed in the browser" in result.output
    assert "Browser two" in welcome_text(folders[1]) and b.served_title() == "Browser two"
    draft = a.revisions("demo/01-welcome.md")[-1]
    assert not draft.published and "Folder" in draft.text


def test_a_save_over_a_hand_made_change_keeps_a_copy(editor, content):
    """A browser save on the server whose file was changed by hand keeps that version in the archive."""
    editor.save(welcome_text(content).replace("Welcome", "One"))
    editor.client.get("/manage/content")
    (content / "demo" / "01-welcome.md").write_text(welcome_text(content).replace("One", "By hand"),
                                                    encoding="utf-8")
    editor.save(welcome_text(content).replace("By hand", "Browser"))
    copies = [p for p in (content / ".archive" / "demo").iterdir() if "outside" in p.name]
    assert len(copies) == 1 and "By hand" in copies[0].read_text(encoding="utf-8")


def test_published_revisions_are_committed_with_their_author(editor, editor_app, repo):
    """Each published revision becomes one commit by its manager; the folder stays clean; a second sync commits
    nothing; drafts are never committed."""
    editor.save(welcome_text(repo).replace("Welcome", "Committed"), message="clearer title")
    editor.save(welcome_text(repo).replace("Committed", "Only a draft"), action="draft")
    result = sync(editor_app)
    assert result.exit_code == 0, result.output
    log = git(repo, "log", "--format=%an <%ae>|%s").splitlines()
    assert log[0] == "Maria Manager <boss@example.com>|demo/01-welcome.md: clearer title"
    assert len(log) == 2  # the import of the file as it was is already in git: no commit for it
    assert git(repo, "status", "--porcelain") == ""
    assert "Only a draft" not in git(repo, "show", "HEAD:demo/01-welcome.md")
    assert sync(editor_app).output.strip().endswith("0 commits")
    assert all(r.git_commit for r in editor.revisions() if r.published)


def test_renames_and_deletions_are_committed(editor, editor_app, repo):
    """A rename and a delete become commits that move and remove the files in git."""
    editor.post(f"{WELCOME}/rename", {"slug": "hello"})
    editor.post("/manage/content/demo/headlines/delete", {"confirm": "y"})
    sync(editor_app)
    files = git(repo, "ls-files").splitlines()
    assert "demo/01-hello.md" in files and "demo/01-welcome.md" not in files and "demo/02-headlines.md" not in files
    assert git(repo, "status", "--porcelain") == ""


def test_folder_inside_a_bigger_repository(editor, editor_app, content, tmp_path):
    """When the content folder is a subfolder of a work tree, commits use its path there and touch nothing else."""
    if shutil.which("git") is None:
        skip_or_fail("git is not installed")
    top = content.parent
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "user.email", "ops@example.com")
    git(top, "config", "user.name", "Ops")
    (top / "README.md").write_text("app\n")
    git(top, "add", ".")
    git(top, "commit", "-q", "-m", "app and content")
    (top / "README.md").write_text("staged change of a developer\n")
    git(top, "add", "README.md")
    editor.save(welcome_text(content).replace("Welcome", "Sub"))
    sync(editor_app)
    assert git(top, "show", "--name-only", "--format=", "HEAD") == f"{content.name}/demo/01-welcome.md"
    assert git(top, "diff", "--cached", "--name-only") == "README.md"  # the developer's staged change untouched


def test_sync_moves_rows_written_under_an_old_slug(editor, editor_app, content):
    """A completion recorded under a renamed lesson's old slug (by a server that had not seen the rename yet) moves
    to the new slug; a duplicate completion is dropped."""
    editor.post(f"{WELCOME}/rename", {"slug": "hello"})
    with editor_app.app_context():
        boss = db.session.scalar(db.select(User))
        db.session.add(LessonProgress(user_id=boss.id, course_slug="demo", lesson_slug="welcome", content_hash="x"))
        db.session.commit()
    result = sync(editor_app, "--no-git")
    assert "moved 1 progress and attempt rows" in result.output
    with editor_app.app_context():
        assert list(db.session.scalars(db.select(LessonProgress.lesson_slug))) == ["hello"]


def test_sync_author_option(editor, editor_app, content):
    """--author names a manager as the author of imported changes; an unknown address is an error."""
    assert sync(editor_app, "--author", "nobody@example.com").exit_code != 0
    editor.client.get("/manage/content")
    editor.save(welcome_text(content))
    (content / "demo" / "01-welcome.md").write_text(welcome_text(content).replace("Welcome", "Ops"), encoding="utf-8")
    sync(editor_app, "--no-git", "--author", "boss@example.com")
    assert editor.revisions("demo/01-welcome.md")[-1].author_id is not None


def test_sync_on_an_unwritable_folder_says_so(editor, editor_app, content, monkeypatch):
    """A folder that cannot be written stops the command with a clear message and nothing imported."""
    from coaching.services import publishing

    def refuse(*_args, **_kwargs):
        raise publishing.FolderError("read_only", "Read-only file system")

    monkeypatch.setattr(publishing, "folder_lock", refuse)
    result = editor_app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0 and "cannot be written (read_only" in result.output
