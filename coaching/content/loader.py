"""Read a content folder into a Catalog, turning every problem into a ContentError.

One bad file never stops the rest from loading, and (hot-reload rule) a broken edit of a lesson text
that was served before keeps the previous version served. The jobs are split: `files` reads files,
`courses` reads course.md, `lessons` reads lessons and their translations, this module walks folders.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .catalog import LANGUAGES, Catalog, ContentError, Course, FileStatus
from .courses import read_meta
from .files import (
    COURSE_FILE,
    LESSON_FILE,
    RESERVED_SLUGS,
    SLUG,
    ContentFile,
    Display,
    Folder,
    digest,
    inside,
    reserved_slug_message,
)
from .lessons import load_lessons
from .markdown import RenderContext, Renderer
from .search import SearchIndex

DEFAULT_ASSET_BASE = "/courses/{course}/assets/"


def load_catalog(content_dir: Path, *, asset_base: str = DEFAULT_ASSET_BASE, previous: Catalog | None = None,
                 renderer: Renderer | None = None, only: str | None = None,
                 overlay: Mapping[str, bytes | None] | None = None, scope: frozenset[str] | None = None) -> Catalog:
    """Load every course folder under `content_dir` (the folder holding course folders).

    `renderer` keeps renderings between loads (the content store passes its own); `only` loads just
    the course folder of that name (for checking one course). `overlay` (with `only`) maps file names
    of that course folder to bytes read instead of the disk (None: as if the file were absent), so
    unsaved text is checked in the context of its course without writing anything. `scope` (with `only`)
    names the files to read: the others are only listed (their names still count for duplicates), which
    makes checking one file as fast as that file.
    """
    if overlay and only is None:
        raise ValueError("an overlay needs `only` (the course folder it belongs to)")
    root = Path(content_dir)
    renderer = renderer or Renderer()
    shown = Display(root)
    errors: list[ContentError] = []
    courses: list[Course] = []
    files: list[FileStatus] = []
    orders: list[tuple[Course, str, int]] = []  # course, its course.md and the line of `order:`
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        error = ContentError(shown(root), 0, f"cannot read the content folder: {exc.strerror}")
        return Catalog((), (error,), digest([str(error)]), ())
    folders = [(e.name, Path(e.path)) for e in entries
               if not e.name.startswith(".") and e.is_dir() and (only is None or e.name == only)]
    if only is not None and overlay and not folders:
        folders = [(only, root / only)]  # a new course checked before its folder exists
    for name, path in folders:
        if name in RESERVED_SLUGS:
            errors.append(ContentError(shown(path), 0, reserved_slug_message(name, "course")))
            continue
        if not SLUG.match(name):
            errors.append(ContentError(shown(path), 0, f"'{name}' is not a valid course folder "
                                       "name (lowercase letters, digits and single hyphens)"))
            continue
        if not inside(path, root):
            errors.append(ContentError(shown(path), 0, "symlink leads outside the content folder"))
            continue
        prev = previous.course(name) if previous else None
        context = RenderContext(renderer, asset_base.replace("{course}", name))
        loader = CourseLoader(Folder(path, root, context, prev, scope=scope if only else None), shown, overlay or {})
        try:
            course = loader.load()
        except Exception as exc:  # a loader bug must not take the other courses down
            loader.folder_error(f"this course could not be loaded ({type(exc).__name__})")
            course = prev
        if course is not None:
            courses.append(course)
            orders.append((course, shown(path / "course.md"), loader.order_line))
        errors.extend(loader.folder_errors)
        files.extend(loader.statuses())
    renderer.flush()  # new renderings to the shared file, one transaction per load
    errors.extend(e for f in files for e in f.errors)
    errors.extend(_duplicate_orders(orders))
    courses.sort(key=lambda c: (c.order, c.slug))
    errors.sort(key=lambda e: (e.path, e.line))
    fingerprint = digest([f"{c.slug}:{c.fingerprint}" for c in courses]
                         + [f"{f.path}:{f.content_hash}" for f in files])
    return Catalog(tuple(courses), tuple(errors), fingerprint, tuple(files), SearchIndex(tuple(courses)))


def _duplicate_orders(orders: list[tuple[Course, str, int]]) -> list[ContentError]:
    """Warn about courses sharing an `order` (their place in the catalog would depend on the names)."""
    first: dict[int, Course] = {}
    warnings = []
    for course, path, line in sorted(orders, key=lambda o: o[0].slug):
        if course.order not in first:
            first[course.order] = course
            continue
        warnings.append(ContentError(path, line, f"order {course.order} is also the order of course "
                                     f"'{first[course.order].slug}': give each course its own", "warning"))
    return warnings


class CourseLoader:
    """Loads one course folder: sorts its files, then hands them to the course and lesson readers."""

    def __init__(self, folder: Folder, shown: Display, overlay: Mapping[str, bytes | None] | None = None):
        self.folder = folder
        self.shown = shown
        self.overlay = overlay or {}
        self.folder_errors: list[ContentError] = []
        self.order_line = 1

    def load(self) -> Course | None:
        """Return the course, or None when it has no usable course.md."""
        course_files, lesson_files = self._scan()
        if "" not in course_files:
            self.folder_error("missing course.md: the lessons in this folder have no course")
        meta = read_meta(self.folder, course_files)
        lessons = load_lessons(self.folder, lesson_files, meta)
        if meta is None:
            return None
        self.order_line = meta.order_line
        fingerprint = digest([f"{lesson.slug}:{lang}:{lesson.texts[lang].content_hash}"
                              for lesson in lessons for lang in sorted(lesson.texts)])
        return Course(self.folder.slug, meta.order, meta.language, meta.published, meta.pass_mark,
                      meta.certificate, tuple(lessons), MappingProxyType(meta.texts), self.folder.path,
                      fingerprint, meta.external_images)

    def statuses(self) -> list[FileStatus]:
        """Return a FileStatus per file seen."""
        return [FileStatus(f.shown, self.folder.slug, f.lesson_slug, f.lang, f.content_hash, f.mtime,
                           tuple(f.issues), f.preview) for f in self.folder.files]

    def folder_error(self, message: str) -> None:
        """Record a problem of the folder itself."""
        self.folder_errors.append(ContentError(self.shown(self.folder.path), 0, message))

    def _scan(self) -> tuple[dict[str, ContentFile], list[ContentFile]]:
        """Sort the folder's .md files into course files (by language) and lesson files."""
        course_files: dict[str, ContentFile] = {}
        lessons: list[ContentFile] = []
        try:
            entries = sorted(os.scandir(self.folder.path), key=lambda e: e.name)
        except FileNotFoundError:
            if not self.overlay:
                self.folder_error("cannot read the folder: No such file or directory")
                return course_files, lessons
            entries = []  # only the overlay's files (a new course)
        except OSError as exc:
            self.folder_error(f"cannot read the folder: {exc.strerror}")
            return course_files, lessons
        names = {entry.name: entry for entry in entries}
        for name in sorted(set(names) | set(self.overlay)):
            entry = names.get(name)
            if name.startswith(".") or not name.endswith(".md") or (entry is not None and entry.is_dir()):
                continue
            if name in self.overlay and self.overlay[name] is None:
                continue  # checked as if it were gone
            path = self.folder.path / name
            file = ContentFile(path, self.shown(path), "", data=self.overlay.get(name))
            if entry is not None and file.data is None:
                with contextlib.suppress(OSError):
                    file.mtime = entry.stat().st_mtime  # also for files that are never read
            self.folder.files.append(file)
            _classify(file, name, course_files, lessons)
        return course_files, lessons


def _classify(file: ContentFile, name: str, course_files: dict, lessons: list) -> None:
    """Check a file name and put the file in the right group."""
    if m := COURSE_FILE.match(name):
        file.lang = m.group(1) or ""
        if file.lang and file.lang not in LANGUAGES:
            file.add(1, f"unsupported language '.{file.lang}' (use one of {', '.join(LANGUAGES)})")
            return
        course_files[file.lang] = file
        return
    m = LESSON_FILE.match(name)
    if not m:
        file.add(1, "not a lesson file name: use NN-slug.md or NN-slug.de.md (NN = two or more digits)")
        return
    lang, slug = m.group(3) or "", m.group(2)
    if lang and lang not in LANGUAGES:
        file.add(1, f"unsupported language '.{lang}' (use one of {', '.join(LANGUAGES)})")
        return
    if not SLUG.match(slug):
        file.add(1, f"'{slug[:60]}' is not a valid lesson slug (lowercase letters, digits and single hyphens)")
        return
    if slug in RESERVED_SLUGS:
        file.add(1, reserved_slug_message(slug, "lesson"))
        return
    file.lang, file.lesson_slug, file.order = lang, slug, int(m.group(1))
    lessons.append(file)
