"""SECURITY.md lines that were still without a test: extra form fields on registration and profile change
nothing they name, every download names its file per RFC 6266, and SQLite connections use WAL, a busy timeout
of 5 s or more and foreign keys."""
from __future__ import annotations

import email.message
from urllib.parse import unquote

from sqlalchemy import select, text

from coaching.extensions import db
from coaching.models import User
from coaching.routing import attachment
from tests.conftest import Auth, backend, csrf_token
from tests.web.helpers import certificate_id, finish_demo_course


def test_registration_ignores_role_and_id_fields(app, client):
    """`role=manager`, `user_id`, `active` and `id` sent with a registration change nothing: an affiliate."""
    auth = Auth(client)
    response = auth.post("/auth/register", {"name": "Ada Affiliate", "email": "ada@example.com",
                                            "password": "a long enough passphrase", "role": "manager",
                                            "user_id": "1", "id": "1", "active": "0"})
    assert response.status_code == 303
    auth.confirm(email="ada@example.com")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ada@example.com"))
        assert user is not None and user.role == "affiliate" and user.active


def test_profile_ignores_role_and_email_fields(app, client, logged_in):
    """A profile POST with `role=manager` and another `email` saves the name only."""
    page = client.get("/auth/profile").get_data(as_text=True)
    response = client.post("/auth/profile", data={"csrf_token": csrf_token(page), "name": "Alex Renamed",
                                                  "language": "", "role": "manager", "email": "boss@example.com",
                                                  "id": "99"})
    assert response.status_code in (302, 303)
    with app.app_context():
        user = db.session.get(User, logged_in.id)
        assert (user.name, user.role, user.email) == ("Alex Renamed", "affiliate", "aff@example.com")


def _disposition(header: str) -> email.message.Message:
    """A Content-Disposition header read by the standard library (RFC 2231/6266 parameters decoded)."""
    message = email.message.Message()
    message["Content-Disposition"] = header
    return message


def test_download_names_follow_rfc_6266(app, client, logged_in):
    """The certificate PDF and the data export name their file as an attachment with a plain ASCII name and a
    UTF-8 `filename*`; a hostile name cannot break out of the header."""
    finish_demo_course(client)
    cert = certificate_id(client)
    for path in (f"/certificates/{cert}.pdf", "/auth/export.json"):
        header = client.get(path).headers["Content-Disposition"]
        parsed = _disposition(header)
        assert parsed.get_content_disposition() == "attachment" and "filename*=UTF-8''" in header
        assert parsed.get_filename().endswith((".pdf", ".json"))
    name = 'Zertifikat "Müller"\r\nX-Injected: 1.pdf'
    hostile = attachment(name)
    assert "\r" not in hostile and "\n" not in hostile and "X-Injected:" not in hostile.split(";")[0]
    assert _disposition(hostile).get_param("filename", header="content-disposition") == "Zertifikat MllerX-Injected: 1.pdf"
    assert unquote(hostile.split("filename*=UTF-8''", 1)[1]) == name


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(app):
    """Every SQLite connection: journal_mode WAL, busy_timeout of at least 5 s, foreign_keys on."""
    if backend() != "sqlite":
        return  # PostgreSQL has none of these settings; the suite's SQLite pass checks them
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
