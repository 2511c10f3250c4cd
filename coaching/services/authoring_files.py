"""Browser authoring of whole files: a new lesson from a template, a translation, a new course, renaming a
lesson (its old address redirects; progress and attempts move with it), deleting one (archived, progress kept),
and pictures uploaded into a course's images/ folder. Services add and flush; the view publishes and commits.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, select, update

from ..content.files import LESSON_FILE
from ..content.images import MAX_IMAGE_BYTES, ImageInfo, inspect_image
from ..content.scaffold import (
    course_filename,
    image_filename,
    image_markdown,
    lesson_filename,
    new_course,
    new_lesson,
    next_order,
    slug_problem,
    translation_of,
)
from ..extensions import db
from ..models import AttemptGrant, ContentDocument, LessonAlias, LessonProgress, QuizAttempt, Submission, User
from . import publishing
from .audit import record
from .authoring import (
    AuthoringError,
    FileRef,
    Saved,
    add_revision,
    advance,
    course_names,
    document,
    open_file,
    revision,
    save,
    store,
)
from .db import insert_ignore

MAX_UPLOAD = MAX_IMAGE_BYTES
# Every table that names a lesson by its slug: a rename moves their rows to the new slug.
SLUG_TABLES = (LessonProgress, QuizAttempt, AttemptGrant, Submission)  # rows naming a lesson by its slug


@dataclass
class Batch:
    """Several revisions made by one action, and the files they write."""

    revisions: list = field(default_factory=list)
    changes: list[publishing.Change] = field(default_factory=list)


def _slug_or_refuse(slug: str) -> str:
    """A slug that may name a lesson or course, else AuthoringError(slug_<problem>)."""
    problem = slug_problem(slug)
    if problem:
        raise AuthoringError(f"slug_{problem}")
    return slug


def lesson_names(course_slug: str, *, deleted: bool = False) -> dict[str, list[str]]:
    """Lesson slug -> its file names (the default-language file first)."""
    found: dict[str, list[str]] = {}
    for name in sorted(course_names(store().content_dir, course_slug, deleted=deleted),
                       key=lambda n: (n.count("."), n)):
        if m := LESSON_FILE.match(name):
            found.setdefault(m.group(2), []).append(name)
    return found


def create_lesson(actor: User, course_slug: str, *, title: str, slug: str, summary: str, minutes: int,
                  lang: str) -> tuple[FileRef, Saved]:
    """A new lesson after the last one, as a draft (it goes live when the manager publishes it)."""
    _slug_or_refuse(slug)
    names = course_names(store().content_dir, course_slug)
    if "course.md" not in names:
        raise AuthoringError("no_course")
    if slug in lesson_names(course_slug) or _has_history(course_slug, slug):
        raise AuthoringError("slug_taken")
    order, width = next_order(list(names))
    ref = FileRef(course_slug, slug, "", lesson_filename(order, slug, width=width), False)
    saved = save(actor, ref, new_lesson(title, summary or title, minutes, lang), base_id=0, publish=False,
                 action="create", message="new lesson")
    return ref, saved


def translation_template(ref: FileRef) -> str:
    """The starting text of a missing translation: the original with only the keys a translation may set."""
    original_name = "course.md" if ref.lesson_slug is None else ref.name.replace(f".{ref.lang}.md", ".md")
    original = open_file(FileRef(ref.course_slug, ref.lesson_slug, "", original_name, True))
    return translation_of(original.text, course=ref.lesson_slug is None)


def create_course(actor: User, *, title: str, slug: str, summary: str, lang: str) -> tuple[FileRef, Saved]:
    """A new course folder with its course.md, unpublished (`published: false`) until the manager says so."""
    _slug_or_refuse(slug)
    content = store()
    taken = (content.content_dir / slug).exists() or db.session.scalar(
        select(exists().where(ContentDocument.course_slug == slug)))
    if taken:
        raise AuthoringError("course_taken")
    order = max((c.order for c in content.catalog.courses), default=0) + 1
    ref = FileRef(slug, None, "", course_filename(), False)
    saved = save(actor, ref, new_course(title, summary or title, order, lang), base_id=0, publish=True,
                 action="create", message="new course")
    return ref, saved


def _has_history(course_slug: str, slug: str) -> bool:
    """True when progress, attempts or an alias name this slug: reusing it would mix two lessons' data."""
    for model in SLUG_TABLES:
        if db.session.scalar(select(exists().where(model.course_slug == course_slug, model.lesson_slug == slug))):
            return True
    return False


def rename_lesson(actor: User, course_slug: str, old_slug: str, new_slug: str) -> Batch:
    """Rename every file of a lesson (drafts included), redirect the old address, move progress and attempts."""
    _slug_or_refuse(new_slug)
    lessons = lesson_names(course_slug)
    if old_slug not in lessons:
        raise AuthoringError("not_found")
    if new_slug == old_slug:
        raise AuthoringError("same_slug")
    if new_slug in lessons or _has_history(course_slug, new_slug):
        raise AuthoringError("slug_taken")
    batch = Batch()
    for name in lessons[old_slug]:
        _rename_file(actor, course_slug, name, name.replace(f"-{old_slug}.", f"-{new_slug}.", 1), batch)
    db.session.execute(delete(LessonAlias).where(LessonAlias.course_slug == course_slug,
                                                 LessonAlias.old_slug == new_slug))
    db.session.execute(update(LessonAlias).where(LessonAlias.course_slug == course_slug,
                                                 LessonAlias.new_slug == old_slug).values(new_slug=new_slug))
    insert_ignore(LessonAlias, {"course_slug": course_slug, "old_slug": old_slug, "new_slug": new_slug,
                                "created_by_id": actor.id}, conflict=["course_slug", "old_slug"])
    moved = move_slug_rows(course_slug, old_slug, new_slug)
    record(actor, "lesson_renamed", "content", f"{course_slug}/{new_slug}"[:60], old=old_slug, new=new_slug,
           rows=moved)
    return batch


def _rename_file(actor: User, course_slug: str, old_name: str, new_name: str, batch: Batch) -> None:
    """Move one file: the new path starts with the old published text (and draft), the old path is removed."""
    old_path, new_path = f"{course_slug}/{old_name}", f"{course_slug}/{new_name}"
    doc = document(old_path) or _import_from_disk(old_path, course_slug)
    if doc is not None and doc.deleted:
        return
    published = revision(doc.published_id) if doc else None
    draft = revision(doc.draft_id) if doc else None
    text = published.text if published is not None else None
    head = 0 if document(new_path) is None else document(new_path).head_id
    message = f"renamed from {old_name}"
    if text is not None:
        new = add_revision(new_path, course_slug, text=text, action="rename", published=True, author=actor,
                           message=message, renamed_from=old_path)
        if not advance(new_path, course_slug, head, new):
            raise AuthoringError("busy")
        batch.revisions.append(new)
        batch.changes.append(publishing.Change(new_path, text.encode("utf-8")))
        head = new.id
    if draft is not None:
        new_draft = add_revision(new_path, course_slug, text=draft.text, action="rename", published=False,
                                 author=actor, message=message, renamed_from=old_path, problems=draft.problems)
        if not advance(new_path, course_slug, head, new_draft):
            raise AuthoringError("busy")
    gone = add_revision(old_path, course_slug, action="rename", published=True, deleted=True, author=actor,
                        message=f"renamed to {new_name}")
    if not advance(old_path, course_slug, doc.head_id if doc else 0, gone):
        raise AuthoringError("busy")
    batch.revisions.append(gone)
    batch.changes.append(publishing.Change(old_path, None))


def _import_from_disk(path: str, course_slug: str) -> ContentDocument | None:
    """A file never saved in the browser: its text on disk becomes its first revision (so the history keeps it)."""
    data = publishing.read_bytes(publishing.target_of(store().content_dir, path))
    if data is None:
        return None
    first = add_revision(path, course_slug, text=data.decode("utf-8", "replace"), action="import", published=True,
                         author=None, message="as it was in the content folder", sha=hashlib.sha256(data).hexdigest())
    if not advance(path, course_slug, 0, first):
        raise AuthoringError("busy")
    return document(path)


def move_slug_rows(course_slug: str, old_slug: str, new_slug: str) -> int:
    """Point progress, attempts and granted attempts of a lesson at its new slug (idempotent; a completion
    recorded under the old slug while the rename reached every server is dropped when the new one exists)."""
    dupes = select(LessonProgress.user_id).where(LessonProgress.course_slug == course_slug,
                                                 LessonProgress.lesson_slug == new_slug)
    db.session.execute(delete(LessonProgress).where(
        LessonProgress.course_slug == course_slug, LessonProgress.lesson_slug == old_slug,
        LessonProgress.user_id.in_(dupes)))
    moved = 0
    for model in SLUG_TABLES:
        moved += db.session.execute(update(model).where(model.course_slug == course_slug,
                                                        model.lesson_slug == old_slug)
                                    .values(lesson_slug=new_slug)).rowcount or 0
    return moved


def lesson_alias(course_slug: str, slug: str) -> str | None:
    """The current slug of a lesson renamed away from `slug`, or None."""
    return db.session.scalar(select(LessonAlias.new_slug).where(LessonAlias.course_slug == course_slug,
                                                                LessonAlias.old_slug == slug))


def all_aliases() -> list[LessonAlias]:
    """Every alias (for `flask content sync`, which moves rows written under an old slug late)."""
    return list(db.session.scalars(select(LessonAlias).order_by(LessonAlias.id)))


def delete_lesson(actor: User, course_slug: str, slug: str, lang: str = "") -> Batch:
    """Delete a lesson (every language) or one translation: archived in the folder, history and progress kept."""
    files = lesson_names(course_slug).get(slug)
    if not files:
        raise AuthoringError("not_found")
    names = [n for n in files if n.endswith(f".{lang}.md")] if lang else files
    if not names:
        raise AuthoringError("not_found")
    batch = Batch()
    for name in names:
        path = f"{course_slug}/{name}"
        doc = document(path) or _import_from_disk(path, course_slug)
        gone = add_revision(path, course_slug, action="delete", published=True, deleted=True, author=actor,
                            message="deleted (archived)")
        if not advance(path, course_slug, doc.head_id if doc else 0, gone):
            raise AuthoringError("busy")
        batch.revisions.append(gone)
        batch.changes.append(publishing.Change(path, None, archive=True))
    record(actor, "lesson_deleted", "content", f"{course_slug}/{slug}"[:60], files=", ".join(names))
    return batch


@dataclass
class Upload:
    """An accepted picture: where it went, its Markdown and what it is."""

    relpath: str
    markdown: str
    info: ImageInfo
    batch: Batch


def image_names(course_slug: str) -> list[str]:
    """The pictures in a course's images/ folder (on disk or saved in the database), sorted."""
    names = set()
    with contextlib.suppress(OSError):
        names.update(e.name for e in os.scandir(store().content_dir / course_slug / "images")
                     if e.is_file() and not e.name.startswith("."))
    prefix = f"{course_slug}/images/"
    names.update(p[len(prefix):] for p in db.session.scalars(
        select(ContentDocument.path).where(ContentDocument.course_slug == course_slug,
                                           ContentDocument.path.startswith(prefix),
                                           ContentDocument.deleted.is_(False))))
    return sorted(names)


def upload_image(actor: User, course_slug: str, filename: str, data: bytes, alt: str) -> Upload:
    """Check a picture by its content and add it to the course's images/ (published at once: pictures have
    no draft). Raises ImageRefused for anything that is not a clean PNG, JPEG, WebP, GIF or SVG."""
    if not alt.strip():
        raise AuthoringError("alt_missing")
    if "course.md" not in course_names(store().content_dir, course_slug):
        raise AuthoringError("no_course")
    info = inspect_image(data)
    name = image_filename(filename or "image", info.ext, set(image_names(course_slug)))
    path = f"{course_slug}/images/{name}"
    row = add_revision(path, course_slug, data=data, action="upload", published=True, author=actor, kind="image",
                       message=f"uploaded ({info.kind}, {len(data)} bytes)")
    if not advance(path, course_slug, 0, row):
        raise AuthoringError("busy")
    record(actor, "image_uploaded", "content", f"{course_slug}/images"[:60], path=path, bytes=len(data),
           kind=info.kind)
    batch = Batch([row], [publishing.Change(path, data)])
    return Upload(f"images/{name}", image_markdown(alt, f"images/{name}"), info, batch)
