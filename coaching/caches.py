"""Per-app memory caches in one idiom: bounded cachetools LRUs owned by the app, never module globals.

Only what is the same for everyone is cached (rendered fragments keyed by content version, QR codes of
public URLs); the key names everything the value depends on, so no write ever has to remember to clear one.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import LRUCache
from flask import current_app

T = TypeVar("T")


class AppCache:
    """A thread-safe LRU cache of at most `maxsize` values."""

    def __init__(self, maxsize: int) -> None:
        self._cache: LRUCache = LRUCache(maxsize=max(1, maxsize))
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, computing (outside the lock) and keeping it on a miss."""
        with self._lock:
            try:
                return self._cache[key]
            except KeyError:
                pass
        value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._cache.clear()


def app_cache(name: str, maxsize: int = 1024) -> AppCache:
    """The current app's cache called `name` (created on first use)."""
    caches = current_app.extensions.setdefault("coaching.caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, AppCache(maxsize))
    return cache
