"""Where the truth lives with browser editing on: the database's published revisions; every server writes them
into its own content folder (atomically, under a folder lock), and never overwrites a change made there by hand.

Each folder keeps a marker (`.coaching-published.json`): the last revision id it caught up with and, per file,
the revision and hash it wrote. A file whose bytes still match what the marker says was written is replaced
by a newer revision; a file changed by hand since (a `git pull`, an editor on the server) is left alone and
reported, until `flask content sync` imports it. Dot-names are ignored by the loader, so the marker, the lock
and `.archive/` (where deleted files go) never show up as content.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import func, select

from ..extensions import db
from ..models import ContentRevision, utcnow

MARKER_NAME = ".coaching-published.json"
LOCK_NAME = ".coaching-publish.lock"
ARCHIVE_DIR = ".archive"
LOCK_TIMEOUT = 15.0
_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
# The only paths the editor ever writes: a course's .md files and the pictures in its images/ folder.
SAFE_PATH = re.compile(rf"^{_SLUG}/(?:(?:course|\d{{2,}}-{_SLUG})(?:\.[a-z]{{2}})?\.md"
                       rf"|images/{_SLUG}\.(?:png|jpg|gif|webp|svg))$")


class FolderError(Exception):
    """The content folder could not be written: `code` is read_only, disk_full, symlink, busy or failed."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def _from_os(exc: OSError) -> FolderError:
    """Name an operating system error the way the editor explains it."""
    code = {errno.EROFS: "read_only", errno.EACCES: "read_only", errno.EPERM: "read_only",
            errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full"}.get(exc.errno or 0, "failed")
    return FolderError(code, exc.strerror or str(exc))


def target_of(root: Path, relpath: str) -> Path:
    """The file a content path names, refusing anything but a course file or image and any symlink on the way."""
    if not SAFE_PATH.match(relpath):
        raise FolderError("failed", f"not a content path: {relpath[:80]}")
    current = root
    for part in relpath.split("/"):
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                raise FolderError("symlink", relpath)
        except FileNotFoundError:
            break  # nothing further down exists yet: no link on the way
    return root / relpath


def sha_of(path: Path) -> str | None:
    """The sha256 of a file's bytes, or None when there is no such regular file."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def read_bytes(path: Path) -> bytes | None:
    """A file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def atomic_write(target: Path, data: bytes) -> None:
    """Write a file so that readers see the old bytes or the new ones, never a part (temp file, fsync, rename)."""
    temp = target.parent / f".tmp-{secrets.token_hex(6)}-{target.name}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise _from_os(exc) from exc


def archive(root: Path, target: Path) -> Path | None:
    """Move a file into `.archive/<course>/` under a time-stamped name; None when there was nothing to move."""
    if not target.exists():
        return None
    relative = target.relative_to(root)
    place = root / ARCHIVE_DIR / relative.parent / f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}-{target.name}"
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, place)
    except FileNotFoundError:
        return None  # another worker moved it first
    except OSError as exc:
        raise _from_os(exc) from exc
    return place


@contextlib.contextmanager
def folder_lock(root: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the folder's lock (one writer per folder across this server's workers); yields False when `wait`
    is off and another process holds it. An unwritable folder raises FolderError."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / LOCK_NAME, "a+b")  # noqa: SIM115 (closed below, after the lock is released)
    except OSError as exc:
        raise _from_os(exc) from exc
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    yield False
                    return
                if time.monotonic() > deadline:
                    raise FolderError("busy", "the content folder stayed locked") from None
                time.sleep(0.02)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


@dataclass
class Marker:
    """What this folder caught up with: `seq` (a revision id), per path [revision id, sha or None for removed],
    and the paths changed by hand that wait for `flask content sync` (path -> the revision they hold back)."""

    seq: int = 0
    paths: dict[str, list[Any]] = field(default_factory=dict)
    outside: dict[str, int] = field(default_factory=dict)

    def note(self, path: str, revision_id: int, sha: str | None) -> None:
        """Record that the folder holds this revision of `path`."""
        self.paths[path] = [revision_id, sha]
        self.outside.pop(path, None)


def read_marker(root: Path) -> Marker:
    """The folder's marker (an empty one for a folder that never caught up)."""
    try:
        raw = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
        return Marker(int(raw.get("seq", 0)), dict(raw.get("paths", {})), dict(raw.get("outside", {})))
    except (OSError, ValueError, TypeError, AttributeError):
        return Marker()


def write_marker(root: Path, marker: Marker) -> None:
    """Store the marker atomically."""
    body = json.dumps({"seq": marker.seq, "paths": marker.paths, "outside": marker.outside}, sort_keys=True)
    atomic_write(root / MARKER_NAME, body.encode("utf-8"))


@dataclass(frozen=True)
class Change:
    """One file to put in the folder: its bytes, or None to take it away (archived when `archive`)."""

    path: str
    content: bytes | None
    archive: bool = False


def content_of(revision: ContentRevision) -> bytes | None:
    """The bytes a revision puts in the folder (None for a deletion)."""
    if revision.deleted:
        return None
    return revision.data if revision.kind == "image" else (revision.text or "").encode("utf-8")


def write_changes(root: Path, changes: list[Change], marker: Marker | None = None) -> list[tuple[Path, bytes | None]]:
    """Apply changes in order (the caller holds the lock); on a failure undo the ones made and raise FolderError.
    A file changed by hand since this folder last wrote it is copied to the archive first (nothing is lost).
    Returns what each file held before, for `undo`."""
    done: list[tuple[Path, bytes | None]] = []
    try:
        for change in changes:
            target = target_of(root, change.path)
            before = read_bytes(target)
            entry = marker.paths.get(change.path) if marker is not None else None
            if before is not None and entry is not None and hashlib.sha256(before).hexdigest() != entry[1]:
                _keep_copy(root, target, before)
            if change.content is None:
                if change.archive:
                    archive(root, target)
                elif before is not None:
                    _unlink(target)
            else:
                atomic_write(target, change.content)
            done.append((target, before))
    except FolderError:
        undo(root, done)
        raise
    return done


def _keep_copy(root: Path, target: Path, data: bytes) -> None:
    """Put a copy of a hand-made version into the archive before the editor's version replaces it."""
    relative = target.relative_to(root)
    atomic_write(root / ARCHIVE_DIR / relative.parent / f"{utcnow():%Y%m%dT%H%M%S}-outside-{target.name}", data)


def _unlink(target: Path) -> None:
    """Remove a file (gone already is fine)."""
    try:
        target.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _from_os(exc) from exc


def undo(root: Path, done: list[tuple[Path, bytes | None]]) -> None:
    """Put back what `write_changes` replaced (best effort: the folder was writable a moment ago)."""
    for target, before in reversed(done):
        with contextlib.suppress(FolderError, OSError):
            if before is None:
                _unlink(target)
            else:
                atomic_write(target, before)


def publish(root: Path, changes: list[Change], revisions: list[ContentRevision], commit: Callable[[], None]) -> None:
    """Write the files of new published revisions, then commit: a commit that fails puts the old files back, a
    write that fails leaves the transaction for the caller to roll back. Either way nothing is half-written.
    A draft writes no file: it is only committed (a read-only folder does not stop drafts)."""
    if not changes:
        commit()
        return
    with folder_lock(root):
        marker = read_marker(root)
        done = write_changes(root, changes, marker)
        try:
            commit()
        except Exception:
            undo(root, done)
            raise
        for revision in revisions:
            marker.note(revision.path, revision.id, revision.sha256 or None)
        with contextlib.suppress(FolderError):
            write_marker(root, marker)


def latest_published_id(conn: Any) -> int:
    """The newest published revision id (0 when nothing was ever published in the browser)."""
    return conn.scalar(select(func.max(ContentRevision.id)).where(ContentRevision.published.is_(True))) or 0


def _newest_per_path(conn: Any, *, after: int = 0, paths: list[str] | None = None) -> list[Any]:
    """The newest published revision of every path changed after `after` (or of the given paths)."""
    newest = select(ContentRevision.path, func.max(ContentRevision.id).label("id")).where(
        ContentRevision.published.is_(True))
    newest = newest.where(ContentRevision.path.in_(paths)) if paths is not None else newest.where(
        ContentRevision.id > after)
    sub = newest.group_by(ContentRevision.path).subquery()
    columns = (ContentRevision.id, ContentRevision.path, ContentRevision.kind, ContentRevision.deleted,
               ContentRevision.action,
               ContentRevision.sha256, ContentRevision.text, ContentRevision.data)
    return list(conn.execute(select(*columns).join(sub, ContentRevision.id == sub.c.id).order_by(ContentRevision.id)))


def known_hashes(conn: Any, path: str) -> set[str]:
    """Every hash any revision of `path` ever had."""
    return set(conn.scalars(select(ContentRevision.sha256).where(ContentRevision.path == path)))


def catch_up(root: Path, conn: Any, *, wait: bool = False) -> bool:
    """Write every newer published revision into this folder where that loses nothing; True when a file changed.

    Cheap when there is nothing new: one indexed query and a small file read."""
    latest = latest_published_id(conn)
    marker = read_marker(root)
    if latest <= marker.seq and not marker.outside:
        return False
    with folder_lock(root, wait=wait) as locked:
        if not locked:
            return False  # another worker of this server is writing; the next check catches up
        marker = read_marker(root)
        changed, failed = apply_pending(root, conn, marker, latest)
        write_marker(root, marker)
    if failed:
        raise failed[0]
    return changed


def apply_pending(root: Path, conn: Any, marker: Marker, latest: int) -> tuple[bool, list[FolderError]]:
    """Apply the newest revision of every path changed since `marker.seq` (and retry held-back paths); the
    caller holds the lock and stores the marker. Returns whether a file changed and the writes that failed."""
    rows = _newest_per_path(conn, after=marker.seq)
    seen = {row.path for row in rows}
    rows += [r for r in _newest_per_path(conn, paths=list(marker.outside)) if r.path not in seen]
    changed, failed, first_failed = False, [], latest + 1
    for row in rows:
        try:
            changed = _apply(root, conn, marker, row) or changed
        except FolderError as error:
            failed.append(error)
            first_failed = min(first_failed, row.id)
    marker.seq = min(latest, first_failed - 1)
    return changed, failed


def _apply(root: Path, conn: Any, marker: Marker, row: Any) -> bool:
    """Bring one path to its newest published revision, unless the file was changed by hand."""
    target = target_of(root, row.path)
    disk = sha_of(target)
    wanted = None if row.deleted else row.sha256
    if disk == wanted:
        marker.note(row.path, row.id, wanted)
        return False
    entry = marker.paths.get(row.path)
    ours = entry is not None and disk == entry[1]
    fresh = entry is None and (disk is None or disk in known_hashes(conn, row.path))
    if not (ours or fresh):
        marker.outside[row.path] = row.id  # changed by hand: `flask content sync` decides
        return False
    if row.deleted and row.action == "rename":
        _unlink(target)  # the text lives on under the new name
    elif row.deleted:
        archive(root, target)
    else:
        atomic_write(target, row.data if row.kind == "image" else (row.text or "").encode("utf-8"))
    marker.note(row.path, row.id, wanted)
    return True


def hook_for(app: Flask, root: Path) -> Callable[[], bool]:
    """The content store's `before_check` for one app: catch this folder up with the database."""

    def run() -> bool:
        with db.engine.connect() as conn:
            return catch_up(root, conn)

    def hook() -> bool:
        if has_app_context():
            return run()
        with app.app_context():
            return run()

    return hook


def outside_changes(root: Path) -> list[str]:
    """Paths this folder holds back because they were changed by hand (for the content page)."""
    return sorted(read_marker(root).outside)
