"""A thread-safe holder of the current Catalog that reloads when the files change."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .catalog import Catalog
from .loader import DEFAULT_ASSET_BASE, load_catalog
from .markdown import Renderer


def tree_fingerprint(root: Path) -> str:
    """Hash the names, sizes, mtimes and inodes of every entry under `root` (no reading)."""
    digest = hashlib.sha256()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            digest.update(f"!{folder}\n".encode("utf-8", "surrogatepass"))
            continue
        for entry in entries:
            try:
                # stat() follows symlinks: an edited symlink target counts as a change.
                st = entry.stat()
                is_dir = entry.is_dir()
            except OSError:
                continue
            digest.update(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n"
                          .encode("utf-8", "surrogatepass"))
            if is_dir and not entry.is_symlink():
                stack.append(entry.path)
    return digest.hexdigest()


class ContentStore:
    """Serve the current Catalog; look for changes at most every `reload_seconds`.

    The catalog is read at the first use (gunicorn.conf.py asks for it before a worker takes requests).
    Each gunicorn worker holds its own store; the check is a cheap walk of the tree,
    and a reload passes the current catalog as `previous` so broken edits keep the old text.
    The store owns the Renderer (and so the cache of renderings) that every reload shares: a reload
    renders only the texts that changed, and nothing is kept after the store is gone.

    `before_check`, when set, runs at every check before the tree is compared (the browser editor's
    publisher writes newer published revisions into the folder there); it returns True to force a
    reload. Whatever it raises is kept in `check_error` and never stops the catalog from being served.
    """

    def __init__(self, content_dir: Path | str, *, reload_seconds: float = 2.0,
                 asset_base: str = DEFAULT_ASSET_BASE, renderer: Renderer | None = None,
                 before_check: Callable[[], bool] | None = None):
        self.content_dir = Path(content_dir)
        self.reload_seconds = reload_seconds
        self.asset_base = asset_base
        self.renderer = renderer or Renderer()
        self.before_check = before_check
        self.check_error: Exception | None = None
        self._lock = threading.Lock()
        self._checked = float("-inf")  # the first use checks (and runs before_check) at once
        self._tree = ""
        self._catalog: Catalog | None = None  # read at the first use: a CLI command that needs no lesson reads none
        self.loads = 0

    @property
    def loaded(self) -> bool:
        """True once the catalog has been read."""
        return self._catalog is not None

    def _first_load(self) -> Catalog:
        """Read the catalog for the first time (every thread that comes meanwhile waits for it)."""
        with self._lock:
            if self._catalog is None:
                self._tree = tree_fingerprint(self.content_dir)
                self._catalog = load_catalog(self.content_dir, asset_base=self.asset_base, renderer=self.renderer)
                self.loads = 1
            return self._catalog

    @property
    def catalog(self) -> Catalog:
        """Return the current catalog, reloading first when the files changed."""
        if self._catalog is None:
            self._first_load()
        # Only one thread checks; the others serve the current catalog instead of waiting.
        if time.monotonic() - self._checked >= self.reload_seconds and self._lock.acquire(blocking=False):
            try:
                self._check(force=False)
            finally:
                self._lock.release()
        return self._catalog

    def reload(self, force: bool = True) -> Catalog:
        """Reload now when forced or when the tree changed; return the current catalog."""
        if self._catalog is None:
            self._first_load()
        with self._lock:
            return self._check(force)

    def _check(self, force: bool) -> Catalog:
        """Reload when forced or changed; the caller holds the lock."""
        self._checked = time.monotonic()
        if self.before_check is not None:
            try:
                force = bool(self.before_check()) or force
                self.check_error = None
            except Exception as exc:  # the publisher failed (database away...): serve what the folder holds
                self.check_error = exc
        tree = tree_fingerprint(self.content_dir)
        if force or tree != self._tree:
            self._catalog = load_catalog(self.content_dir, asset_base=self.asset_base,
                                         previous=self._catalog, renderer=self.renderer)
            self._tree = tree
            self.loads += 1
        assert self._catalog is not None
        return self._catalog
