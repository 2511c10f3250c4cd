"""SQLite connection settings, and the writers of one process taking turns for the database's write lock.

Every connection: WAL, a busy timeout, foreign keys, `synchronous=NORMAL`. A write transaction starts with
`BEGIN IMMEDIATE` (the execution option `sqlite_immediate`), so a read-then-write cannot fail halfway.

SQLite has one writer at a time, and a writer that finds the lock taken polls with growing sleeps (1, 2, 5, 10,
... 100 ms): with eight threads of each of two workers submitting at once, some slept through many turns of the
others (p99 of a quiz submission 650-850 ms at 16 connections in `make bench`). So writers take turns before
`BEGIN IMMEDIATE` and hand the turn on right after their `COMMIT` or `ROLLBACK`: the threads of a process on a
lock of their own, the processes of a server on an advisory file lock beside the database (`<file>-writers`,
flock), where a waiting process sleeps in the kernel and wakes the moment the other is done. The wait is
bounded by the same busy timeout; past it the writer gets SQLite's own "database is locked" (a 503, see
services/db.database_unavailable). Processes on other machines cannot share a SQLite file anyway.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import event

HELD = "coaching.write_turn"  # in the pool record's info while this connection holds its process's turn


class WriterTurns:
    """Whose turn it is to write: one thread of this process (a lock), one process of this server (flock)."""

    def __init__(self, lock_file: str | None, timeout: float) -> None:
        self.lock_file = lock_file  # None: an in-memory database, only this process writes to it
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        """This process's descriptor of the lock file (only the thread holding the turn uses it)."""
        if self.lock_file is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        """Wait for the turn (at most the busy timeout), else raise SQLite's "database is locked"."""
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            fd = self._file()
            if fd is not None and not self._lock_file(fd, deadline):
                raise sqlite3.OperationalError("database is locked")
        except BaseException:
            self._threads.release()
            raise

    def _lock_file(self, fd: int, deadline: float) -> bool:
        """Take the file lock: at once when free, else sleeping in the kernel on a helper thread until it is
        free or the deadline passed (flock itself cannot time out). An abandoned helper gives the lock back as
        soon as it gets it and closes its descriptor; the next writer opens a new one."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        got, guard, state = threading.Event(), threading.Lock(), {"abandoned": False}

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if state["abandoned"]:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                    return
                got.set()

        threading.Thread(target=wait, name="sqlite-writer-turn", daemon=True).start()
        if got.wait(max(0.0, deadline - time.monotonic())):
            return True
        with guard:
            if got.is_set():
                return True
            state["abandoned"] = True
            self._fd = None  # the helper owns (and closes) the old descriptor
        return False

    def release(self) -> None:
        """Hand the turn on: first to the other processes, then to this process's next thread."""
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _lock_file_of(engine: Any) -> str | None:
    """`<database file>-writers` beside a file database; None for an in-memory one."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{os.path.abspath(database)}-writers"


def configure(engine: Any, busy_timeout_ms: int) -> None:
    """Install the connection settings and the writers' turns on a SQLite engine."""
    turn = WriterTurns(_lock_file_of(engine), busy_timeout_ms / 1000)  # one per engine: per app and process

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" event emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    def release(info: dict[str, Any]) -> None:
        """Hand the turn on, if this connection holds it."""
        if info.pop(HELD, False):
            turn.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        driver = connection.connection.driver_connection
        if not connection.get_execution_options().get("sqlite_immediate"):
            driver.execute("BEGIN")  # straight to the driver: this runs at the start of every transaction
            return
        info = connection.connection.info
        if not info.get(HELD):
            turn.acquire()
            info[HELD] = True
        try:
            driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            release(info)
            raise

    # COMMIT and ROLLBACK are sent here, before SQLAlchemy asks the driver (which then finds no transaction
    # open and does nothing), so that the turn is handed on after the database lock is free, not before.
    def end(connection: Any, verb: str) -> None:
        info = connection.connection.info
        if not info.get(HELD):
            return
        try:
            driver = connection.connection.driver_connection
            if driver.in_transaction:
                driver.execute(verb)
        finally:
            release(info)

    event.listen(engine, "commit", lambda connection: end(connection, "COMMIT"))
    event.listen(engine, "rollback", lambda connection: end(connection, "ROLLBACK"))

    # A connection closed, invalidated or returned with its turn still held (an error between BEGIN and the end
    # of the transaction) gives it back, so the queue never stalls.
    def give_back(_dbapi_connection: Any, record: Any, _detail: Any = None) -> None:
        release(record.info)

    for name in ("checkin", "reset", "close", "invalidate"):  # reset and invalidate pass a third argument
        event.listen(engine, name, give_back)
