"""Backups: `flask db backup` of a live SQLite database with a writer active, and pg_dump/pg_restore, restored."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import make_config, skip_or_fail

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def seed(app: Any) -> dict[str, str]:
    """One affiliate with a certificate, made through the services; the ids to look for after a restore."""
    from coaching.extensions import db
    from coaching.services.accounts import create_user
    from coaching.services.catalog import catalog
    from coaching.services.certificates import issue_certificate

    with app.app_context():
        user = create_user(email=f"kept-{uuid.uuid4().hex[:8]}@example.com", name="Kept Person",
                           password="correct horse battery staple")
        db.session.flush()
        cert = issue_certificate(user, catalog().course("demo"), "en")
        db.session.commit()
        return {"email": user.email, "certificate": cert.id}


def assert_restored(app: Any, seeded: dict[str, str]) -> None:
    """The restored database has the person and the certificate, and the verification page shows it."""
    from coaching.services.accounts import find_user_by_email
    from coaching.services.certificates import find_certificate

    with app.app_context():
        assert find_user_by_email(seeded["email"]) is not None
        assert find_certificate(seeded["certificate"]) is not None
    page = app.test_client().get(f"/verify/{seeded['certificate']}")
    assert page.status_code == 200 and "Kept Person" in page.get_data(as_text=True)


def restored_app(tmp_path: Path, signing_key_file: Path, url: str) -> Any:
    """An app pointed at the restored database."""
    from coaching import create_app

    (tmp_path / "restored").mkdir()
    return create_app(make_config(tmp_path / "restored", signing_key_file, SQLALCHEMY_DATABASE_URI=url))


def dispose(app: Any) -> None:
    """Close the app's database connections."""
    from coaching.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Writer(threading.Thread):
    """Another process's writes while the backup runs: one committed audit row per transaction."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path, self.stop, self.committed, self.error = path, threading.Event(), 0, None

    def run(self) -> None:
        """Insert and commit rows until told to stop."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO audit_log (created_at, action, detail) "
                             "VALUES (CURRENT_TIMESTAMP, 'tick', '{}')")
                conn.execute("COMMIT")
                self.committed += 1
        except Exception as error:  # reported by the test
            self.error = error
        finally:
            conn.close()


@pytest.fixture
def sqlite_app(app_factory: Any, tmp_path: Path) -> Any:
    """An app on a SQLite file whatever the suite's backend (`flask db backup` is for SQLite)."""
    return app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.db'}")


def test_backup_of_live_sqlite_is_consistent_and_restores(sqlite_app: Any, tmp_path: Path,
                                                          signing_key_file: Path) -> None:
    """A backup taken while another connection commits is a consistent copy that an app can run on."""
    seeded = seed(sqlite_app)
    writer = Writer(str(tmp_path / "live.db"))
    writer.start()
    while writer.committed < 200 and writer.is_alive():
        threading.Event().wait(0.01)
    before = writer.committed
    target = tmp_path / "backups" / "copy.db"
    result = sqlite_app.test_cli_runner().invoke(args=["db", "backup", str(target)])
    writer.stop.set()
    writer.join(timeout=30)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row[0] for row in copy.execute("SELECT id FROM audit_log WHERE action = 'tick' ORDER BY id")]
    finally:
        copy.close()
    assert len(ids) >= before and ids == list(range(ids[0], ids[0] + len(ids)))  # no gaps: one snapshot
    restored = restored_app(tmp_path, signing_key_file, f"sqlite:///{target}")
    assert_restored(restored, seeded)
    dispose(restored)


def test_backup_refuses_to_overwrite(sqlite_app: Any, tmp_path: Path) -> None:
    """An existing file is never overwritten by a backup."""
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")
    result = sqlite_app.test_cli_runner().invoke(args=["db", "backup", str(target)])
    assert result.exit_code != 0 and target.read_bytes() == b"keep me"


def pg_tool(name: str) -> str:
    """Path of a PostgreSQL client program (the server's own version first)."""
    found = PG_BIN / name if (PG_BIN / name).exists() else shutil.which(name)
    if not found:
        skip_or_fail(f"{name} is not installed")
    return str(found)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """TEST_DATABASE_URL (CI starts PostgreSQL); skipped loudly elsewhere when unset."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        skip_or_fail("TEST_DATABASE_URL is not set (no PostgreSQL server)")
    yield url


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_round_trip(app_factory: Any, pg_url: str, tmp_path: Path,
                                           signing_key_file: Path) -> None:
    """`pg_dump -Fc` then `pg_restore` into a new database (as docs/deployment.md says) keeps the data."""
    seeded = seed(app_factory(SQLALCHEMY_DATABASE_URI=pg_url))
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    dump = tmp_path / "coaching.dump"
    subprocess.run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", plain], check=True,
                   timeout=120)
    name = f"coaching_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = plain.rsplit("/", 1)[0] + "/" + name
    try:
        subprocess.run([pg_tool("pg_restore"), "--no-owner", f"--dbname={target}", str(dump)], check=True,
                       timeout=120)
        restored = restored_app(tmp_path, signing_key_file, pg_url.rsplit("/", 1)[0] + "/" + name)
        assert_restored(restored, seeded)
        dispose(restored)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
