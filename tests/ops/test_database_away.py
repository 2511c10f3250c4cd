"""A database that goes away: 503 with Retry-After and the friendly page, quiz answers kept, /healthz 503 until back.

Run twice: on a SQLite file whose folder disappears (a lost mount), and on a PostgreSQL cluster of its own that
is stopped and started like a restart (skipped loudly outside CI when PostgreSQL is not installed).
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, func, select, text

from coaching.extensions import db
from coaching.models import QuizAttempt
from coaching.services.db import database_unavailable
from tests.conftest import skip_or_fail
from tests.ops.pgcluster import Cluster, pg_bin
from tests.web.helpers import QUIZ_URL, answers, read_quiz, signed_in_client


@dataclass
class Outage:
    """Takes the app's database away and brings it back."""

    app: Any
    down: Callable[[], None]
    up: Callable[[], None]

    def stop(self) -> None:
        """Make the database unreachable; pooled connections are closed as a restart would."""
        self.down()
        with self.app.app_context():
            db.engine.dispose()

    def start(self) -> None:
        """Bring it back."""
        self.up()


class _HiddenInputs(HTMLParser):
    """The name/value pairs of every hidden input inside the page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("method") == "post" and "language" not in values.get("action", ""):
            self.action = values.get("action", "")
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.pairs.append((values["name"], values.get("value", "")))


@pytest.fixture
def sqlite_outage(app_factory: Any, tmp_path: Path) -> Outage:
    """An app on a SQLite file in a folder that can vanish (renamed away) and come back."""
    folder = tmp_path / "dbdir"
    folder.mkdir()
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'live.db'}")
    away = tmp_path / "dbdir-away"
    return Outage(app, down=lambda: folder.rename(away), up=lambda: away.rename(folder))


@pytest.fixture
def postgres_outage(app_factory: Any) -> Iterator[Outage]:
    """An app on a PostgreSQL cluster of its own, stopped and started during the test."""
    folder = pg_bin()
    if folder is None:
        skip_or_fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = Cluster(folder)
    try:
        cluster.create()
        app = app_factory(SQLALCHEMY_DATABASE_URI=cluster.url)
        with app.app_context():
            db.create_all()
        yield Outage(app, down=cluster.stop, up=cluster.start)
        with app.app_context():
            db.engine.dispose()
    finally:
        cluster.destroy()


def attempts(app: Any) -> int:
    """How many quiz attempts are stored."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(QuizAttempt))


def check_outage(outage: Outage) -> None:
    """The whole story: pages, JSON, quiz answers kept and sent again once, /healthz down then up."""
    app = outage.app
    client = signed_in_client(app)
    form = read_quiz(client)
    data = {**form.hidden, **answers(form)}
    assert app.test_client().get("/healthz").status_code == 200

    outage.stop()
    health = app.test_client().get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unavailable", health.json
    assert health.json["signing_key"] == "ok"
    signed_in_health = client.get("/healthz")  # a session cookie must not turn it into a 500
    assert signed_in_health.status_code == 503 and signed_in_health.json["database"] == "unavailable"
    stylesheet = client.get("/static/css/app.css")
    assert stylesheet.status_code == 200
    stylesheet.close()
    missing = client.get("/no-such-page")  # an error page renders without the database (for an anonymous header)
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    catalog = client.get("/")  # the signed-in header needs the account: 503, the friendly page
    assert catalog.status_code == 503 and "Temporarily unavailable" in catalog.get_data(as_text=True)

    page = client.get("/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
    assert "Temporarily unavailable" in html and "<html" in html and "Traceback" not in html

    api = client.get("/dashboard", headers={"Accept": "application/json"})
    assert api.status_code == 503 and api.json["status"] == 503 and api.headers["Retry-After"]

    sent = client.post(QUIZ_URL, data=data)
    kept = sent.get_data(as_text=True)
    assert sent.status_code == 503 and sent.headers["Retry-After"] and sent.headers["Cache-Control"] == "no-store"
    assert "not lost" in kept
    resend = _HiddenInputs()
    resend.feed(kept)
    assert resend.action == QUIZ_URL
    for name, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            assert (name, one) in resend.pairs, (name, one)

    outage.start()
    assert app.test_client().get("/healthz").status_code == 200  # back at once, no restart
    pairs = [pair for pair in resend.pairs if pair[0] != "lang"]
    again = client.post(QUIZ_URL, data=_multi(pairs))
    assert again.status_code == 303 and re.search(r"/attempts/\d+$", again.headers["Location"])
    assert client.post(QUIZ_URL, data=_multi(pairs)).status_code == 303  # the same submission twice: one attempt
    assert attempts(app) == 1
    assert client.get("/dashboard").status_code == 200


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs with repeated names (checkboxes) as the test client wants them."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def test_sqlite_file_gone_gives_503_and_keeps_answers(sqlite_outage: Outage) -> None:
    """A SQLite file that cannot be opened: 503 + Retry-After pages, answers kept, /healthz 503 until it is back."""
    check_outage(sqlite_outage)


@pytest.mark.postgres
def test_postgresql_restart_gives_503_and_keeps_answers(postgres_outage: Outage) -> None:
    """A stopped PostgreSQL: 503 + Retry-After pages, answers kept, /healthz 503 until it runs again."""
    check_outage(postgres_outage)


def test_database_errors_that_are_bugs_stay_500(app_factory: Any) -> None:
    """A missing table is a bug, not an outage: 500, not 503 (the classifier does not hide real errors)."""
    assert not database_unavailable(exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x")))
    for words in ("unable to open database file", "database is locked", "disk I/O error"):
        assert database_unavailable(exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(words))), words
    assert not database_unavailable(exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed")))
    assert not database_unavailable(ValueError("not a database error"))
    app = app_factory()
    with app.app_context():
        cascade = " CASCADE" if db.engine.dialect.name == "postgresql" else ""  # registrations refer to invites
        db.session.execute(text(f"DROP TABLE invites{cascade}"))
        db.session.commit()
    response = app.test_client().get("/auth/register?invite=abc")
    assert response.status_code == 500 and "Retry-After" not in response.headers
