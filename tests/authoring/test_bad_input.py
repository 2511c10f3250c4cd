"""Bad input to the editor: each a clear message, the right status, nothing half-written, the published version
unchanged, never a 500."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from coaching.services import publishing
from tests.authoring.conftest import WELCOME, welcome_text


def unchanged(editor, content: Path, before: str) -> None:
    """The folder, the served lesson and the database show no trace of the refused save."""
    assert (content / "demo" / "01-welcome.md").read_text(encoding="utf-8") == before
    assert editor.served_title() == "Welcome"
    assert editor.revisions() == []
    assert not [p for p in (content / "demo").iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("path", [
    "/manage/content/demo/..%2F..%2Fetc/edit", "/manage/content/..%2Fdemo/welcome/edit", "/manage/content/Demo/edit",
    "/manage/content/demo/Welcome/edit", "/manage/content/demo/wel.come/edit", "/manage/content/demo/%2Fetc%2Fpasswd/edit",
    "/manage/content/demo/welcome%00/edit", "/manage/content/demo/../../etc/edit", "/manage/content/nope/edit",
    "/manage/content/demo/welcome/history?lang=../de",
])
def test_odd_paths_are_404(editor, path):
    """Path segments with .., absolute paths, upper case, dots or NUL never reach the folder: 404."""
    assert editor.client.get(path).status_code == 404


def test_a_nul_in_the_language_is_refused_by_the_input_rule(editor):
    """A control character in a query string never reaches the folder: the input rule answers 400 first."""
    assert editor.client.get("/manage/content/demo/welcome/edit?lang=de%00").status_code == 400


def test_symlinked_lesson_cannot_be_edited(editor, content, tmp_path):
    """A lesson file that is a link to a file elsewhere is neither read nor written through."""
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: Outside\nsummary: s\nminutes: 1\n---\nSecret.\n", encoding="utf-8")
    (content / "demo" / "03-linked.md").symlink_to(outside)
    response = editor.client.get("/manage/content/demo/linked/edit")
    assert response.status_code == 400 and "is a link" in response.get_data(as_text=True)
    assert "Secret." not in response.get_data(as_text=True)
    page = editor.open(WELCOME)
    response = editor.client.post("/manage/content/demo/linked/edit", content_type="multipart/form-data", data={
        "csrf_token": page.token, "base": "0", "text": "---\ntitle: x\nsummary: s\nminutes: 1\n---\nx\n"})
    assert response.status_code == 400 and "is a link" in response.get_data(as_text=True)
    assert outside.read_text(encoding="utf-8").endswith("Secret.\n")


def test_symlinked_images_folder_refuses_uploads(editor, content, tmp_path):
    """Pictures are never written through a linked images/ folder."""
    import io

    from PIL import Image

    target = tmp_path / "elsewhere"
    target.mkdir()
    os.rename(content / "demo" / "images", tmp_path / "old-images")
    (content / "demo" / "images").symlink_to(target)
    buffer = io.BytesIO()
    Image.new("RGB", (3, 3)).save(buffer, "PNG")
    response = editor.client.post("/manage/content/demo/images", content_type="multipart/form-data",
                                  headers={"Accept": "application/json"},
                                  data={"csrf_token": editor.token(), "alt": "x",
                                        "image": (io.BytesIO(buffer.getvalue()), "a.png")})
    assert response.status_code == 400 and "link" in response.json["error"]
    assert list(target.iterdir()) == [] and editor.revisions() == []


def test_text_over_one_megabyte_is_refused_and_kept(editor, content):
    """A text over 1 MB is refused with the limit named; the text stays in the form; nothing is written."""
    before = welcome_text(content)
    huge = before + ("word " * 220_000)
    response = editor.save(huge)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "larger than 1 MB" in html
    assert "word word word" in html  # what was typed is not lost
    unchanged(editor, content, before)


def test_body_over_the_route_limit_is_413(editor, content):
    """A body over the editor's 3 MB allowance is refused before parsing, with the editor's message."""
    before = welcome_text(content)
    page = editor.open()
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{page.token}\r\n--b\r\n'
            f'Content-Disposition: form-data; name="text"\r\n\r\n').encode() + b"x" * (3 * 1024 * 1024) + b"\r\n--b--\r\n"
    response = editor.client.post(f"{WELCOME}/edit", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413 and "larger than 1 MB" in response.get_data(as_text=True)
    unchanged(editor, content, before)


def test_invalid_utf8_is_refused(editor, content):
    """Bytes that are not UTF-8 (multipart or urlencoded) are refused, not silently replaced."""
    before = welcome_text(content)
    page = editor.open()
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{page.token}\r\n--b\r\n'
            f'Content-Disposition: form-data; name="base"\r\n\r\n0\r\n--b\r\n'
            f'Content-Disposition: form-data; name="base_sha"\r\n\r\n{page.base_sha}\r\n--b\r\n'
            f'Content-Disposition: form-data; name="text"\r\n\r\n').encode() + before.encode().replace(
                b"Welcome", b"Willkommen \xff\xfe") + b"\r\n--b--\r\n"
    response = editor.client.post(f"{WELCOME}/edit", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)
    encoded = f"csrf_token={page.token}&base=0&base_sha={page.base_sha}&text=%FF%FE".encode()
    response = editor.client.post(f"{WELCOME}/edit", data=encoded, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)
    check = editor.client.post(f"{WELCOME}/check", data=f"csrf_token={page.token}&text=%C3%28".encode(),
                               content_type="application/x-www-form-urlencoded", headers={"Accept": "application/json"})
    assert check.status_code == 400 and "UTF-8" in check.json["error"]
    unchanged(editor, content, before)


@pytest.mark.parametrize(("text", "message"), [("---\ntitle: a\x00b\n---\n", "control characters"),
                                                ("   \n\n", "The text is empty")])
def test_text_that_cannot_be_a_file(editor, content, text, message):
    """NUL and other control characters, an empty text and lone surrogates are refused with a message."""
    before = welcome_text(content)
    response = editor.save(text)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    unchanged(editor, content, before)


@pytest.mark.parametrize(("code", "message"), [(errno.EROFS, "read-only"), (errno.EACCES, "read-only"),
                                               (errno.ENOSPC, "disk is full"), (errno.EIO, "could not be written")])
def test_unwritable_folder_saves_nothing(editor, content, monkeypatch, code, message):
    """A read-only or full content folder: the save says so (503), the text stays, the database holds no revision
    and readers keep the published version."""
    before = welcome_text(content)
    real_open = os.open

    def refuse(path, flags, *args):
        if str(path).startswith(str(content)) and flags & os.O_CREAT and ".tmp-" in str(path):
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, *args)

    monkeypatch.setattr(publishing.os, "open", refuse)
    response = editor.save(before.replace("title: Welcome", "title: Never"))
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and message in html and "title: Never" in html
    unchanged(editor, content, before)


def test_lone_surrogates_are_refused():
    """A text holding a lone surrogate (which no file can store) is refused by the service."""
    from coaching.services.authoring import AuthoringError, clean_text

    with pytest.raises(AuthoringError, match="not_utf8"):
        clean_text("---\ntitle: \ud800\n---\n")
    with pytest.raises(AuthoringError, match="too_large"):
        clean_text("x" * (1024 * 1024 + 1))
    assert clean_text("a\r\nb") == "a\nb\n"


def test_failed_commit_puts_the_old_file_back(editor_app, content):
    """When the database refuses the commit after the file was written, the file is restored."""
    from coaching.extensions import db
    from coaching.models import User
    from coaching.services import authoring
    from coaching.services.accounts import create_user

    before = welcome_text(content)
    with editor_app.test_request_context(method="POST"):
        create_user(email="m@example.com", name="M", password=None, role="manager")
        db.session.commit()
        actor = db.session.scalar(db.select(User))
        ref = authoring.locate("demo", "welcome", None)
        saved = authoring.save(actor, ref, before.replace("Welcome", "Doomed"), base_id=0,
                               base_sha=authoring.open_file(ref).base_sha)

        def failing_commit() -> None:
            raise RuntimeError("the database went away")

        with pytest.raises(RuntimeError):
            publishing.publish(content, saved.changes, saved.revisions, failing_commit)
        db.session.rollback()
    assert (content / "demo" / "01-welcome.md").read_text(encoding="utf-8") == before


def test_every_state_change_needs_post_and_csrf(editor):
    """Saving, checking, restoring, renaming, deleting, creating and uploading refuse GET (or show a form) and
    refuse a POST without the token."""
    for path in (f"{WELCOME}/edit", f"{WELCOME}/check", f"{WELCOME}/restore", f"{WELCOME}/rename",
                 f"{WELCOME}/delete", "/manage/content/demo/new", "/manage/content/new", "/manage/content/demo/images"):
        response = editor.client.post(path, data={"text": "x", "slug": "x", "confirm": "y", "title": "x"})
        assert response.status_code == 400, path
    assert editor.client.get(f"{WELCOME}/check").status_code == 405
    assert editor.client.get(f"{WELCOME}/restore").status_code == 405


def test_affiliates_cannot_use_the_editor(editor_app):
    """Affiliates get 403 on every editor page and action."""
    from tests.authoring.conftest import sign_in

    affiliate = sign_in(editor_app, "aff@example.com", role="affiliate", name="Alex")
    for path in (f"{WELCOME}/edit", f"{WELCOME}/history", "/manage/content/demo/images", "/manage/content/new"):
        assert affiliate.get(path).status_code == 403


def test_drafts_are_saved_even_when_the_folder_is_read_only(editor, content, monkeypatch):
    """A draft needs no file: it is kept although the folder cannot be written; publishing it then is refused."""
    def refuse(*_args, **_kwargs):
        raise publishing.FolderError("read_only", "Read-only file system")

    monkeypatch.setattr(publishing, "folder_lock", refuse)
    text = welcome_text(content).replace("Welcome", "Draft while read-only")
    assert editor.save(text, action="draft").status_code == 303
    assert editor.revisions()[-1].text == text and not editor.revisions()[-1].published
    response = editor.save(text)
    assert response.status_code == 503 and "read-only" in response.get_data(as_text=True)
    assert welcome_text(content).startswith("---\ntitle: Welcome\n")
