"""Browser authoring, what happened to a file: its history (following renames), restoring an older version,
the conflict view after a refused save, and the content page's view of drafts and held-back files."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..content.files import COURSE_FILE, LESSON_FILE
from ..content.revisions import diff_rows, merge3
from ..extensions import db
from ..models import ContentDocument, ContentRevision, User
from . import publishing
from .authoring import FileRef, Saved, disk_bytes, document, editing_enabled, revision, save, store


@dataclass
class ConflictView:
    """Both versions after a refused save, and a three-way merge of them with the version both started from."""

    mine: str
    theirs: str
    theirs_revision: ContentRevision | None
    base_id: int
    merged: str
    conflicts: int
    rows: list


def conflict_view(ref: FileRef, mine: str, base_id: int, base_sha: str = "") -> ConflictView:
    """What the manager sees after a conflict: the newer saved version, their own text, and a merge."""
    doc = document(ref.path)
    theirs_rev = revision(doc.head_id) if doc else None
    if theirs_rev is not None:
        theirs, new_base = theirs_rev.text or "", theirs_rev.id
    else:
        data = disk_bytes(ref)
        theirs, new_base = (data or b"").decode("utf-8", "replace"), 0
    base_rev = revision(base_id) if base_id else _revision_with_hash(ref.path, base_sha)
    base = base_rev.text or "" if base_rev is not None else ""
    merged = merge3(base, mine, theirs)
    return ConflictView(mine, theirs, theirs_rev, new_base, merged.text, merged.conflicts, diff_rows(theirs, mine))


def _revision_with_hash(path: str, sha: str) -> ContentRevision | None:
    """The revision of a file that had these bytes (the editor opened a file never saved in the browser)."""
    if not sha:
        return None
    return db.session.scalar(select(ContentRevision).where(ContentRevision.path == path,
                                                           ContentRevision.sha256 == sha).limit(1))


def history(path: str, limit: int = 200) -> list[ContentRevision]:
    """Every revision of a file, newest first, following renames back to the file's earlier names."""
    found: list[ContentRevision] = []
    current, before = path, None
    for _ in range(20):  # a chain of renames, at most this long
        query = select(ContentRevision).options(joinedload(ContentRevision.author)).where(
            ContentRevision.path == current)
        if before is not None:
            query = query.where(ContentRevision.id < before)
        rows = list(db.session.scalars(query.order_by(ContentRevision.id.desc()).limit(limit - len(found))))
        found.extend(rows)
        origin = rows[-1] if rows else None
        if origin is None or not origin.renamed_from or len(found) >= limit:
            break
        current, before = origin.renamed_from, origin.id
    return found


def revision_of(path: str, revision_id: int) -> ContentRevision | None:
    """A revision of this file's history (also under an earlier name), or None."""
    return next((r for r in history(path) if r.id == revision_id), None)


def restore(actor: User, ref: FileRef, old: ContentRevision, *, base_id: int) -> Saved:
    """Save an older version again as a new revision (published when it still has no errors)."""
    when = f"{old.created_at:%Y-%m-%d %H:%M} UTC"
    return save(actor, ref, old.text or "", base_id=base_id, base_sha=_sha_for_restore(ref, base_id),
                message=f"restored the version of {when} (#{old.id})", action="restore")


def _sha_for_restore(ref: FileRef, base_id: int) -> str:
    """A restore of a file never saved in the browser is based on the file on disk."""
    if base_id:
        return ""
    data = disk_bytes(ref)
    return hashlib.sha256(data).hexdigest() if data is not None else ""


@dataclass(frozen=True)
class DraftInfo:
    """A file with a draft newer than what readers see; `new` when readers see no version of it at all."""

    path: str
    course_slug: str
    lesson_slug: str | None
    lang: str
    errors: int
    new: bool


@dataclass(frozen=True)
class EditorState:
    """What the content page says about browser editing: on or off, drafts per course, files this server
    holds back because they were changed by hand, and why this server could not catch up (if it could not)."""

    editing: bool
    drafts: dict[str, list[DraftInfo]]
    outside: list[str]
    folder_error: str | None

    def draft(self, course_slug: str, name: str) -> DraftInfo | None:
        """The draft of one file, if any."""
        return next((d for d in self.drafts.get(course_slug, []) if d.path == f"{course_slug}/{name}"), None)


def editor_state() -> EditorState:
    """The content page's view of browser editing on this server."""
    content = store()
    drafts: dict[str, list[DraftInfo]] = {}
    query = (select(ContentDocument, ContentRevision)
             .join(ContentRevision, ContentRevision.id == ContentDocument.draft_id)
             .where(ContentDocument.deleted.is_(False)).order_by(ContentDocument.path))
    for doc, draft in db.session.execute(query):
        name = doc.path.split("/", 1)[1]
        m = LESSON_FILE.match(name)
        lang = (m.group(3) if m else (COURSE_FILE.match(name).group(1) if COURSE_FILE.match(name) else "")) or ""
        drafts.setdefault(doc.course_slug, []).append(DraftInfo(doc.path, doc.course_slug, m.group(2) if m else None,
                                                                lang, draft.errors, doc.published_id is None))
    error = content.check_error
    return EditorState(editing_enabled(), drafts, publishing.outside_changes(content.content_dir),
                       f"{type(error).__name__}: {error}"[:300] if error is not None else None)
