"""Rendered personal pages kept in memory, with the per-request values put back in on every hit.

The lesson page is the page affiliates load most (reloads, back and forth between lessons). Rendering it
takes a template with the quiz form and three progress queries; serving it from here takes a dictionary
lookup. An entry is keyed by everything the page shows - the person (id and session token, so a reused id
never matches), their progress version (moved in the same transaction as every change to progress, attempts
or grants), role, language, course and lesson - and it belongs to one catalog: when the content reloads,
the cache empties. An entry also carries an expiry (when reading has to be recorded again).

What must differ per request is cut out before storing and filled in on each hit: the CSRF token (it
belongs to the browser session, not to the person) and the quiz form's submission id (one per rendered
form, so two tabs are two attempts). No flash message, query string or POST re-render is ever cached;
the caller decides that.

One cache per process (gunicorn worker); it holds at most `max_entries` pages (least recently used go first).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Hashable, Mapping


@dataclass(frozen=True)
class _Entry:
    parts: tuple[bytes, ...]  # the page split at the cut-out values
    slots: tuple[str, ...]  # the names of the values between the parts, in order
    expires_at: datetime


class PageCache:
    """A bounded, thread-safe LRU of rendered pages tied to one catalog object."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max(0, max_entries)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._catalog: object | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when configured with 0 entries."""
        return self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, catalog: object, values: Mapping[str, str], *, now: datetime) -> bytes | None:
        """The cached page with `values` filled in, or None (missing, expired, or from another catalog)."""
        with self._lock:
            self._follow(catalog)
            entry = self._entries.get(key)
            if entry is None or now >= entry.expires_at:
                if entry is not None:
                    del self._entries[key]
                return None
            self._entries.move_to_end(key)
        pieces = [entry.parts[0]]
        for slot, part in zip(entry.slots, entry.parts[1:]):
            pieces.append(values[slot].encode())
            pieces.append(part)
        return b"".join(pieces)

    def put(self, key: Hashable, catalog: object, page: str, values: Mapping[str, str], *,
            expires_at: datetime) -> None:
        """Keep a rendered page; every occurrence of each value in `values` is cut out (refilled on `get`)."""
        if not self.enabled:
            return
        entry = _split(page, values, expires_at)
        with self._lock:
            self._follow(catalog)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._entries.clear()

    def _follow(self, catalog: object) -> None:
        """Pages belong to one catalog: a different catalog object (a reload) empties the cache.

        A request still holding the previous catalog empties it again; entries always match the catalog
        they are looked up with, whatever the order.
        """
        if catalog is not self._catalog:
            self._entries.clear()
            self._catalog = catalog


def _split(page: str, values: Mapping[str, str], expires_at: datetime) -> _Entry:
    """Cut every occurrence of the values out of the page (each value a non-empty string)."""
    names = {value: name for name, value in values.items()}
    if "" in names:
        raise ValueError("a per-request value is empty")
    pattern = "|".join(re.escape(value) for value in sorted(names, key=len, reverse=True))
    pieces = re.split(f"({pattern})", page)  # text, value, text, value, ..., text
    return _Entry(parts=tuple(piece.encode() for piece in pieces[0::2]),
                  slots=tuple(names[value] for value in pieces[1::2]), expires_at=expires_at)
