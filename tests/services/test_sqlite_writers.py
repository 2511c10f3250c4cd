"""SQLite writers take turns (coaching/sqlitedb.py): threads and processes that write at once all get through,
the turn is handed on after COMMIT, ROLLBACK or an error, and a turn held too long ends in "database is locked"."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from coaching import sqlitedb
from tests.conftest import backend

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="SQLite's writer turns")


def engine_for(path: Path, timeout_ms: int = 5000) -> Any:
    """An engine on a SQLite file with the app's settings and writer turns."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    sqlitedb.configure(engine, timeout_ms)
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS hits (n INTEGER)"))
        conn.commit()
    return engine


def write(engine: Any, n: int, *, fail: bool = False) -> None:
    """One write transaction (BEGIN IMMEDIATE), committed, or rolled back by an error."""
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        conn.execute(text("INSERT INTO hits VALUES (:n)"), {"n": n})
        if fail:
            raise RuntimeError("the request failed")
        conn.commit()


def count(engine: Any) -> int:
    """Rows written."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM hits")).scalar_one()


def test_threads_writing_at_once_all_get_through(tmp_path: Path) -> None:
    """16 threads x 25 writes on one engine: every write stored, no "database is locked"."""
    engine = engine_for(tmp_path / "a.db")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for n in range(25):
                write(engine, k * 100 + n)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and count(engine) == 400
    assert (tmp_path / "a.db-writers").exists()


WRITER = """
import sys
from sqlalchemy import create_engine, text
sys.path.insert(0, {repo!r})
from coaching import sqlitedb
engine = create_engine("sqlite:///" + sys.argv[1])
sqlitedb.configure(engine, 10000)
for n in range(int(sys.argv[2])):
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        conn.execute(text("INSERT INTO hits VALUES (:n)"), {{"n": n}})
        conn.commit()
"""


def test_processes_writing_at_once_all_get_through(tmp_path: Path) -> None:
    """Three processes writing 150 rows each into one file: all 450 stored."""
    engine = engine_for(tmp_path / "b.db")
    script = WRITER.format(repo=str(Path(__file__).resolve().parents[2]))
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "b.db"), "150"],
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    assert count(engine) == 450


def test_the_turn_is_handed_on_after_an_error_and_a_rollback(tmp_path: Path) -> None:
    """A write that fails halfway (rolled back) leaves no turn held: the next one goes through at once."""
    engine = engine_for(tmp_path / "c.db", timeout_ms=2000)
    with pytest.raises(RuntimeError):
        write(engine, 1, fail=True)
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        conn.execute(text("INSERT INTO hits VALUES (2)"))
        conn.rollback()
    started = time.monotonic()
    write(engine, 3)
    assert time.monotonic() - started < 1.0
    assert count(engine) == 1


def test_a_turn_held_too_long_ends_in_database_is_locked(tmp_path: Path) -> None:
    """Another process holds the file lock past the busy timeout: the writer gets SQLite's own error, then
    writes normally once the lock is free (the abandoned wait left nothing behind)."""
    engine = engine_for(tmp_path / "d.db", timeout_ms=300)
    holder = os.open(f"{tmp_path / 'd.db'}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    script = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); "
              "print('held', flush=True); time.sleep(float(sys.argv[2]))")
    other = subprocess.Popen([sys.executable, "-c", script, f"{tmp_path / 'd.db'}-writers", "1.5"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(Exception, match="database is locked"):
            write(engine, 1)
        assert 0.25 < time.monotonic() - started < 1.2
    finally:
        other.wait(timeout=10)
        if other.stdout is not None:
            other.stdout.close()
    write(engine, 2)
    assert count(engine) == 1
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again: nothing of the abandoned wait holds it
    os.close(holder)


def test_reads_take_no_turn(tmp_path: Path) -> None:
    """A plain BEGIN (reading) does not wait for a writer holding the turn."""
    engine = engine_for(tmp_path / "e.db")
    with engine.connect().execution_options(sqlite_immediate=True) as writer:
        writer.execute(text("INSERT INTO hits VALUES (1)"))
        started = time.monotonic()
        assert count(engine) == 0  # WAL: the reader sees the last committed state, at once
        assert time.monotonic() - started < 0.5
        writer.commit()
    assert count(engine) == 1


def test_an_in_memory_database_needs_no_lock_file() -> None:
    """No file beside an in-memory database: the threads' turn alone."""
    engine = create_engine("sqlite://")
    assert sqlitedb._lock_file_of(engine) is None
    sqlitedb.configure(engine, 1000)
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.commit()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
