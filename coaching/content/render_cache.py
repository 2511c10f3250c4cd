"""Renderings kept in a file that every process of a server shares and that outlives restarts.

Markdown text -> sanitized HTML, table of contents, images and word count (`markdown.Rendered`), in one SQLite
file (the standard library's sqlite3, not the app's database). A new gunicorn worker, a restart or
`flask content check` after a deploy then renders only the texts no process has rendered before.

The key is a digest of the text, its options (asset URL, inline or not, external images allowed) and of the
rendering code itself: the source of `markdown.py` and the versions of python-markdown, nh3 and Pygments.
Changing any of them misses the old entries instead of serving stale HTML, so nothing has to remember to
invalidate this cache; entries of another code version are deleted when a process opens the file.

Writes are collected and stored in one transaction by `flush()` (the loader calls it after each load). Any
error of the file (unwritable folder, corrupt file, disk full) switches the cache off for this process with
one warning: rendering goes on as before, only slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_ENTRIES = 200_000  # about 4 KB each for a lesson body: under a gigabyte in the worst case
FLUSH_AT = 500  # pending renderings written at once when a load renders this many


def code_fingerprint(source: Path) -> str:
    """A digest of the rendering code: `source` (the pipeline's module) and the libraries it calls."""
    digest = hashlib.sha256(source.read_bytes())
    for package in ("markdown", "nh3", "pygments"):
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "?"
        digest.update(f"\0{package}={version}".encode())
    return digest.hexdigest()[:32]


class RenderCache:
    """A key -> JSON store in one SQLite file, safe for threads and processes (WAL, busy timeout)."""

    def __init__(self, path: Path | str, fingerprint: str, *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._pending: dict[str, str] = {}
        self._conn: sqlite3.Connection | None = None
        self.hits = self.misses = 0
        try:
            self._open()
        except (OSError, sqlite3.Error) as error:
            self._give_up(error)

    def _open(self) -> None:
        """Open (or create) the file and drop entries of other code versions."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # a cache: losing the last writes on power loss is fine
        conn.execute("CREATE TABLE IF NOT EXISTS renderings (key TEXT PRIMARY KEY, code TEXT NOT NULL, "
                     "value TEXT NOT NULL)")
        conn.execute("DELETE FROM renderings WHERE code != ?", (self.fingerprint,))
        self._conn = conn

    def _give_up(self, error: BaseException) -> None:
        """Switch the cache off for this process (rendering goes on without it)."""
        log.warning("render cache %s switched off for this process: %s", self.path, error)
        conn, self._conn = self._conn, None
        self._pending.clear()
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    @property
    def enabled(self) -> bool:
        """False once an error switched the cache off."""
        return self._conn is not None

    def key(self, *parts: str) -> str:
        """The entry's key for a text and its options."""
        digest = hashlib.sha256(self.fingerprint.encode())
        for part in parts:
            digest.update(b"\0" + part.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, key: str) -> Any:
        """The stored value (decoded JSON), or None."""
        with self._lock:
            if key in self._pending:
                return json.loads(self._pending[key])
            if self._conn is None:
                return None
            try:
                row = self._conn.execute("SELECT value FROM renderings WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as error:
                self._give_up(error)
                return None
        if row is None:
            self.misses += 1
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """Keep a value; it reaches the file at the next `flush()` (or when many are pending)."""
        with self._lock:
            if self._conn is None:
                return
            self._pending[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            full = len(self._pending) >= FLUSH_AT
        if full:
            self.flush()

    def flush(self) -> None:
        """Write the pending values in one transaction, then keep the file within `max_entries`."""
        with self._lock:
            if self._conn is None or not self._pending:
                return
            rows = [(key, self.fingerprint, value) for key, value in self._pending.items()]
            self._pending.clear()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("INSERT OR REPLACE INTO renderings (key, code, value) VALUES (?, ?, ?)",
                                       rows)
                count = self._conn.execute("SELECT count(*) FROM renderings").fetchone()[0]
                if count > self.max_entries:  # the oldest writes go first
                    self._conn.execute("DELETE FROM renderings WHERE rowid IN (SELECT rowid FROM renderings "
                                       "ORDER BY rowid LIMIT ?)", (count - self.max_entries,))
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                self._give_up(error)

    def close(self) -> None:
        """Write what is pending and close the file."""
        self.flush()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
