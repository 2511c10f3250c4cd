"""Browser authoring: find a content file, open it at its newest revision, check unsaved text, save it as a
published revision or a draft (never over a newer revision), its history, and restoring an older version.

Services add and flush; the view publishes the files and commits (`publishing.publish`).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ..content import ContentStore
from ..content.catalog import LANGUAGES, ContentError
from ..content.check import TextCheck, check_text
from ..content.files import LESSON_FILE, MAX_BYTES, SLUG
from ..content.revisions import marker_lines
from ..extensions import db
from ..models import ContentDocument, ContentRevision, User, utcnow
from . import publishing
from .audit import record
from .db import insert_ignore

MAX_MESSAGE = 300
MARKER_MESSAGE = ("unresolved merge: keep the text you want and delete the lines starting with <<<<<<<, ======= "
                  "and >>>>>>>")
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}
AUDIT_ACTIONS = {"restore": "content_restored", "create": "content_created"}  # else published or draft saved


class AuthoringError(Exception):
    """A refused authoring action; `code` names the rule (too_large, not_utf8, control, empty, exists...)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class Conflict(Exception):
    """The file changed since the editor opened it: nothing was saved (the caller rolls back)."""

    def __init__(self, mine: str, base_id: int, base_sha: str = "") -> None:
        super().__init__("conflict")
        self.mine = mine
        self.base_id = base_id
        self.base_sha = base_sha


def store() -> ContentStore:
    """This process's content store."""
    return current_app.extensions["coaching.content"]


def editing_enabled() -> bool:
    """Whether managers may write content in the browser on this site (CONTENT_EDITING)."""
    return bool(current_app.config.get("CONTENT_EDITING"))


@dataclass(frozen=True)
class FileRef:
    """One content file of a course: a lesson file (default language or a translation) or course(.<lang>).md."""

    course_slug: str
    lesson_slug: str | None
    lang: str  # the language suffix of the file name, "" for the course's default language
    name: str
    exists: bool

    @property
    def path(self) -> str:
        """The path relative to the content folder, as revisions store it."""
        return f"{self.course_slug}/{self.name}"


def course_names(root: Path, course_slug: str, *, deleted: bool = False) -> dict[str, bool]:
    """The .md files of a course as the editor sees them: on this server's disk or in the database (drafts too),
    minus those deleted in the database. Maps name -> True (or, with `deleted`, also the deleted ones -> False)."""
    names: dict[str, bool] = {}
    with contextlib.suppress(OSError):
        names.update({e.name: True for e in os.scandir(root / course_slug) if e.name.endswith(".md")
                      and not e.name.startswith(".")})
    for path, gone in db.session.execute(select(ContentDocument.path, ContentDocument.deleted)
                                         .where(ContentDocument.course_slug == course_slug)):
        name = path.split("/", 1)[1]
        if not name.endswith(".md"):
            continue
        if gone:
            names.pop(name, None)
            if deleted:
                names[name] = False
        else:
            names[name] = True
    return names


def course_language(course_slug: str) -> str:
    """The course's default language (English when its course.md does not load)."""
    course = store().catalog.course(course_slug)
    return course.language if course is not None else "en"


def locate(course_slug: str, lesson_slug: str | None, lang: str | None, *, deleted: bool = False) -> FileRef | None:
    """The file an editor URL names, or None (bad names, unknown course or lesson, unsupported language).

    A translation that does not exist yet is found (with exists=False) when its original exists."""
    if not SLUG.match(course_slug or "") or (lesson_slug is not None and not SLUG.match(lesson_slug)):
        return None
    names = course_names(store().content_dir, course_slug, deleted=deleted)
    if not names:
        return None
    default = course_language(course_slug)
    lang = lang or default
    if lang not in LANGUAGES:
        return None
    suffix = "" if lang == default else lang
    if lesson_slug is None:
        name = f"course.{suffix}.md" if suffix else "course.md"
        if suffix and "course.md" not in names:
            return None
        return FileRef(course_slug, None, suffix, name, name in names)
    original = next((n for n in sorted(names) if (m := LESSON_FILE.match(n)) and m.group(2) == lesson_slug
                     and not m.group(3)), None)
    if original is None:
        return None
    name = original if not suffix else original[:-3] + f".{suffix}.md"
    return FileRef(course_slug, lesson_slug, suffix, name, name in names)


def document(path: str) -> ContentDocument | None:
    """The editor's row of a file (None when it was never saved in the browser)."""
    return db.session.scalar(select(ContentDocument).where(ContentDocument.path == path))


def revision(revision_id: int | None) -> ContentRevision | None:
    """A revision by id."""
    return db.session.get(ContentRevision, revision_id) if revision_id else None


@dataclass
class Opened:
    """A file as the editor opens it: its text, the revision it was opened at (0: never saved in the browser,
    then `base_sha` is the hash of the file read from disk), and its published and draft revisions."""

    ref: FileRef
    text: str
    base_id: int
    base_sha: str
    published: ContentRevision | None = None
    draft: ContentRevision | None = None
    head: ContentRevision | None = None
    from_template: bool = False
    problems: list[ContentError] = field(default_factory=list)


def disk_bytes(ref: FileRef) -> bytes | None:
    """The file as this server's folder holds it (None when absent; symlinks refused)."""
    return publishing.read_bytes(publishing.target_of(store().content_dir, ref.path))


def open_file(ref: FileRef, template: str | None = None) -> Opened:
    """The text to edit: the newest revision (a draft when there is one), else the file on disk, else `template`."""
    doc = document(ref.path)
    if doc is not None and not doc.deleted:
        head = revision(doc.head_id)
        return Opened(ref, head.text or "", head.id, "", revision(doc.published_id), revision(doc.draft_id), head)
    data = disk_bytes(ref) if doc is None else None
    if data is not None:
        return Opened(ref, data.decode("utf-8", "replace"), 0, hashlib.sha256(data).hexdigest())
    return Opened(ref, template or "", doc.head_id if doc else 0, "", from_template=True)


def clean_text(text: str) -> str:
    """Refuse what a content file may not hold; normalise line ends and end with one newline."""
    if "\ufffd" in text:
        raise AuthoringError("not_utf8")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise AuthoringError("not_utf8") from None
    if size > MAX_BYTES:
        raise AuthoringError("too_large", size=size)
    if any(ord(c) < 32 and c not in _ALLOWED_CONTROLS or ord(c) == 127 for c in text):
        raise AuthoringError("control")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise AuthoringError("empty")
    return text.rstrip("\n") + "\n"


def check(ref: FileRef, text: str, *, hide: tuple[str, ...] = ()) -> TextCheck:
    """Check text as this file in the context of its course (nothing saved), merge markers included."""
    content = store()
    result = check_text(content.content_dir, ref.course_slug, ref.name, text.encode("utf-8"),
                        renderer=content.renderer, asset_base=content.asset_base, hide=hide)
    shown = result.problems[0].path if result.problems else ref.path
    markers = tuple(ContentError(shown, line, MARKER_MESSAGE) for line in marker_lines(text))
    if not markers:
        return result
    problems = tuple(sorted(result.problems + markers, key=lambda p: p.line))
    return TextCheck(problems, result.lesson, result.course)


def problem_rows(result: TextCheck) -> list[list[Any]]:
    """Problems as stored with a revision: [line, severity, message]."""
    return [[p.line, p.severity, p.message] for p in result.problems]


@dataclass
class Saved:
    """What a save did: `state` is published, draft or unchanged; `changes` are the files to write."""

    revision: ContentRevision | None
    state: str
    result: TextCheck | None
    changes: list[publishing.Change] = field(default_factory=list)

    @property
    def revisions(self) -> list[ContentRevision]:
        """The published revisions whose files are written."""
        return [self.revision] if self.revision is not None and self.changes else []


def add_revision(ref_path: str, course_slug: str, *, text: str | None = None, data: bytes | None = None,
                 action: str, published: bool, author: User | None, message: str = "", base_id: int | None = None,
                 problems: list | None = None, deleted: bool = False, renamed_from: str | None = None,
                 kind: str = "text", sha: str | None = None) -> ContentRevision:
    """Add one revision (and flush, for its id)."""
    raw = data if kind == "image" else (text or "").encode("utf-8")
    row = ContentRevision(path=ref_path, course_slug=course_slug, kind=kind, action=action, published=published,
                          deleted=deleted, text=None if kind == "image" or deleted else text,
                          data=data if kind == "image" and not deleted else None,
                          sha256="" if deleted else (sha or hashlib.sha256(raw or b"").hexdigest()),
                          size=0 if deleted else len(raw or b""), message=message[:MAX_MESSAGE],
                          problems=problems or [], author_id=author.id if author else None, base_id=base_id,
                          renamed_from=renamed_from)
    db.session.add(row)
    db.session.flush()
    return row


def advance(path: str, course_slug: str, base_id: int, new: ContentRevision) -> bool:
    """Point the file's row at a new revision if its head is still `base_id` (0: no row yet); False otherwise.

    The conditional UPDATE (or the INSERT against the unique path) is what makes two saves at once safe:
    exactly one finds the head it started from."""
    values = {"head_id": new.id, "updated_at": utcnow(), "deleted": new.deleted}
    if new.published:
        values.update(published_id=new.id, draft_id=None)
    else:
        values["draft_id"] = new.id
    if base_id == 0:
        return insert_ignore(ContentDocument, {"path": path, "course_slug": course_slug, **values}, conflict=["path"])
    done = db.session.execute(update(ContentDocument).where(ContentDocument.path == path,
                                                            ContentDocument.head_id == base_id).values(**values))
    return done.rowcount == 1


def save(actor: User, ref: FileRef, text: str, *, base_id: int, base_sha: str = "", message: str = "",
         publish: bool = True, action: str = "save") -> Saved:
    """Save text as a new revision: published when asked and free of errors, else a draft only managers see.

    Raises Conflict when the file changed since `base_id`/`base_sha` (the caller rolls back)."""
    text = clean_text(text)
    doc = document(ref.path)
    head_id = doc.head_id if doc else 0
    if base_id != head_id:
        raise Conflict(text, base_id, base_sha)
    disk = None
    if head_id == 0:
        disk = disk_bytes(ref)
        if (hashlib.sha256(disk).hexdigest() if disk is not None else "") != base_sha:
            raise Conflict(text, base_id, base_sha)
    result = check(ref, text)
    state = "published" if publish and result.errors == 0 else "draft"
    head = revision(head_id)
    if head is not None and not head.deleted and head.text == text and head.published == (state == "published"):
        return Saved(None, "unchanged", result)
    if disk is not None:  # the first browser save of a file: its version from the folder becomes revision one
        imported = add_revision(ref.path, ref.course_slug, text=disk.decode("utf-8", "replace"), action="import",
                                published=True, author=None, message="as it was in the content folder",
                                sha=hashlib.sha256(disk).hexdigest())
        if not advance(ref.path, ref.course_slug, 0, imported):
            raise Conflict(text, base_id, base_sha)
        head_id = imported.id
    new = add_revision(ref.path, ref.course_slug, text=text, action=action, published=state == "published",
                       author=actor, message=message.strip(), base_id=head_id or None, problems=problem_rows(result))
    if not advance(ref.path, ref.course_slug, head_id, new):
        raise Conflict(text, base_id, base_sha)
    record(actor, AUDIT_ACTIONS.get(action) or ("content_published" if state == "published" else "content_draft_saved"),
           "content", target(ref), path=ref.path, revision=new.id, kind=action, state=state, errors=result.errors)
    changes = [publishing.Change(ref.path, text.encode("utf-8"))] if state == "published" else []
    return Saved(new, state, result, changes)


def target(ref: FileRef) -> str:
    """The audit log's short name of a file's lesson or course."""
    return f"{ref.course_slug}/{ref.lesson_slug or 'course'}"[:60]
