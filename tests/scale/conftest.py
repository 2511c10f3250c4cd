"""Fixtures of the scale tests: a real gunicorn on the suite's database backend (SQLite file or PostgreSQL)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import backend
from tests.scale.helpers import Server, app_for


def empty_postgres(url: str) -> None:
    """Drop everything in the PostgreSQL test database (the scale tests start from `flask db upgrade`)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def server_database(root: Path) -> str:
    """The server's database: its own SQLite file, or the (emptied) PostgreSQL test database."""
    if backend() == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.fail("COACHING_TEST_BACKEND=postgresql needs TEST_DATABASE_URL")
        empty_postgres(url)
        return url
    return f"sqlite:///{root / 'scale.db'}"


@contextmanager
def live_server(root: Path, signing_key_file: Path, **extra_env: str) -> Iterator[Server]:
    """gunicorn (2 workers x 4 threads) on a migrated database in `root`; stopped when the block ends."""
    live = Server(root=root, database_url=server_database(root), workers=2, threads=4, extra_env=extra_env)
    live.prepare(signing_key_file)
    live.start()
    _LIVE.append(live)
    try:
        yield live
    finally:
        _LIVE.remove(live)
        live.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[Server]:
    """gunicorn with 2 workers x 4 threads on a migrated database; stopped after the module."""
    with live_server(tmp_path_factory.mktemp("gunicorn"), signing_key_file) as live:
        yield live


@pytest.fixture(scope="module")
def db_app(server: Server) -> Iterator[Any]:
    """An in-process app on the server's database, for seeding users and counting rows."""
    from coaching.extensions import db

    app = app_for(server.database_url, server.root)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


_LIVE: list[Server] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """On a failure, attach the running server's error lines and log tail to the report."""
    report = yield
    if report.failed and _LIVE:
        live = _LIVE[-1]
        report.sections.append(("gunicorn errors", "\n".join(live.server_errors()[:40])))
        report.sections.append(("gunicorn log (tail)", live.log_text()[-6000:]))
    return report
