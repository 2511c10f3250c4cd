"""Fixtures of the browser-editing tests: an app with browser editing on, serving its own copy of the demo
content, a signed-in manager, and a small client for the editor's forms."""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from coaching.extensions import db
from coaching.models import AuditLog, ContentDocument, ContentRevision
from coaching.services.accounts import create_user
from tests.conftest import DEMO_CONTENT, Auth, csrf_token

WELCOME = "/manage/content/demo/welcome"
HEADLINES = "/manage/content/demo/headlines"
PASSWORD = "correct horse battery"
TEXTAREA = re.compile(r'<textarea id="editor-text"[^>]*>(.*?)</textarea>', re.S)


def hidden(html: str, name: str) -> str:
    """The value of a hidden input on a page ('' when absent)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    return unescape(match.group(1)) if match else ""


def multipart(fields: dict[str, Any], files: dict[str, tuple[str, bytes]] | None = None) -> tuple[bytes, str]:
    """A multipart body built in memory, as a browser sends the editor's form (the test client would spool a large
    body to a temporary file that it never closes)."""
    boundary = "----coaching-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
             + str(value).encode("utf-8", "surrogatepass") + b"\r\n" for key, value in fields.items()]
    for key, (name, data) in (files or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class EditPage:
    """The editor form as a page shows it."""

    status: int
    html: str
    text: str
    base: str
    base_sha: str
    token: str


class Editor:
    """A manager's client for the editor: open a file, save it, check text, post the other forms."""

    def __init__(self, client: Any, app: Any, root: Path) -> None:
        self.client = client
        self.app = app
        self.root = root

    def open(self, path: str = WELCOME, **query: str) -> EditPage:
        """GET an edit page and read its form."""
        response = self.client.get(f"{path}/edit", query_string=query)
        html = response.get_data(as_text=True)
        match = TEXTAREA.search(html)
        text = unescape(match.group(1)) if match else ""
        return EditPage(response.status_code, html, text.removeprefix("\n"), hidden(html, "base"),
                        hidden(html, "base_sha"), csrf_token(html) if response.status_code == 200 else "")

    def save(self, text: str, path: str = WELCOME, *, page: EditPage | None = None, action: str = "publish",
             message: str = "", query: dict | None = None, **fields: Any) -> Any:
        """POST the edit form (multipart, as the page's form does) from a freshly opened page unless given."""
        page = page or self.open(path, **(query or {}))
        data = {"csrf_token": page.token, "base": page.base, "base_sha": page.base_sha, "text": text,
                "message": message, "action": action, **fields}
        body, content_type = multipart(data)
        return self.client.post(f"{path}/edit", data=body, query_string=query or {}, content_type=content_type)

    def check(self, text: str, path: str = WELCOME, **query: str) -> Any:
        """POST text to the live check; returns the response (JSON)."""
        token = self.token()
        return self.client.post(f"{path}/check", query_string=query, data={"csrf_token": token, "text": text},
                                headers={"Accept": "application/json"}, content_type="multipart/form-data")

    def token(self) -> str:
        """A CSRF token of this session."""
        return csrf_token(self.client.get("/manage/content").get_data(as_text=True))

    def post(self, url: str, data: dict | None = None, **kwargs: Any) -> Any:
        """POST a form with this session's CSRF token."""
        return self.client.post(url, data={"csrf_token": self.token(), **(data or {})}, **kwargs)

    def file(self, relpath: str) -> str | None:
        """A file of the served content folder (None when absent)."""
        path = self.root / relpath
        return path.read_text(encoding="utf-8") if path.exists() else None

    def revisions(self, path: str | None = None) -> list[ContentRevision]:
        """Stored revisions (of one path), oldest first, detached."""
        with self.app.app_context():
            query = select(ContentRevision).order_by(ContentRevision.id)
            if path is not None:
                query = query.where(ContentRevision.path == path)
            rows = list(db.session.scalars(query))
            for row in rows:
                db.session.expunge(row)
            return rows

    def document(self, path: str) -> ContentDocument | None:
        """The editor's row of a file."""
        with self.app.app_context():
            row = db.session.scalar(select(ContentDocument).where(ContentDocument.path == path))
            if row is not None:
                db.session.expunge(row)
            return row

    def audit(self) -> list[str]:
        """Audit log action names, oldest first."""
        with self.app.app_context():
            return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))

    def served_title(self, lesson: str = "welcome", lang: str = "en") -> str:
        """The title readers are served now (this app's catalog)."""
        with self.app.app_context():
            from coaching.services import catalog

            return catalog.catalog().course("demo").lesson(lesson).texts[lang].title


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of the demo content."""
    root = tmp_path / "lessons"
    shutil.copytree(DEMO_CONTENT, root)
    return root


def sign_in(app: Any, email: str, role: str = "manager", name: str = "Maria Manager") -> Any:
    """A client of `app` signed in as a new account."""
    with app.app_context():
        create_user(email=email, name=name, password=PASSWORD, role=role)
        db.session.commit()
    client = app.test_client()
    assert Auth(client).login(email, PASSWORD).status_code == 302
    return client


@pytest.fixture
def editor_app(app_factory: Any, content: Path) -> Any:
    """An app with browser editing on, serving the copy."""
    return app_factory(CONTENT_DIR=str(content), CONTENT_EDITING="on")


@pytest.fixture
def editor(editor_app: Any, content: Path) -> Editor:
    """A signed-in manager's editor client."""
    return Editor(sign_in(editor_app, "boss@example.com"), editor_app, content)


@pytest.fixture
def second_editor(editor_app: Any, content: Path) -> Editor:
    """Another manager, signed in on the same app."""
    return Editor(sign_in(editor_app, "other@example.com", name="Otto Other"), editor_app, content)


def welcome_text(root: Path) -> str:
    """The demo's welcome lesson as it is on disk."""
    return (root / "demo" / "01-welcome.md").read_text(encoding="utf-8")
