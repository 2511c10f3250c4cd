"""Reading content files: bytes to text, front matter to values, and where problems are reported."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import frontmatter as fm
from .catalog import ContentError, Course, LessonText, resolve_asset
from .markdown import RenderContext

MAX_BYTES = 1024 * 1024
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LESSON_FILE = re.compile(r"^(\d{2,})-(.+?)(?:\.([a-z]{2}))?\.md$")
COURSE_FILE = re.compile(r"^course(?:\.([a-z]{2}))?\.md$")
# Words the manager area's and the site's URLs use beside course and lesson slugs
# (/manage/content/<course>/edit, /courses/<course>/assets/...): no course or lesson may be called so.
RESERVED_SLUGS = frozenset({"preview", "reload", "new", "edit", "assets", "history", "images"})


def reserved_slug_message(slug: str, kind: str) -> str:
    """The error for a course folder or lesson file named with a reserved word."""
    return (f"'{slug}' cannot be the name of a {kind}: the site uses this word in its addresses "
            f"(reserved: {', '.join(sorted(RESERVED_SLUGS))}); choose another name")


class Display:
    """Format paths for messages: as given when relative, else relative to the dir's parent."""

    def __init__(self, root: Path):
        self.root = root
        self.base = None if not root.is_absolute() else root.parent

    def __call__(self, path: Path) -> str:
        """Return the short, stable form of a path."""
        if self.base is None:
            return path.as_posix()
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return path.as_posix()


def inside(path: Path, root: Path) -> bool:
    """Return True when `path` (after following symlinks) stays inside `root`."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def digest(lines: list[str]) -> str:
    """Return a sha256 hex digest over lines."""
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class ContentFile:
    """One content file as read: its text (None when unreadable) and its problems."""

    path: Path
    shown: str
    lang: str
    lesson_slug: str | None = None
    order: int = 0
    text: str | None = None
    content_hash: str = ""
    mtime: float = 0.0
    issues: list[ContentError] = field(default_factory=list)
    preview: LessonText | None = None
    data: bytes | None = None  # the bytes to read instead of the file on disk (checking unsaved text)

    def add(self, line: int, message: str, severity: str = "error") -> None:
        """Record a problem in this file."""
        self.issues.append(ContentError(self.shown, line, message, severity))

    @property
    def ok(self) -> bool:
        """Return True when no error was recorded."""
        return not any(e.severity == "error" for e in self.issues)


@dataclass
class Folder:
    """One course folder being loaded: what every reader of its files needs."""

    path: Path
    root: Path
    context: RenderContext
    previous: Course | None
    files: list[ContentFile] = field(default_factory=list)
    scope: frozenset[str] | None = None  # file names to read (checking one file); None: all

    @property
    def slug(self) -> str:
        """Return the course slug (the folder name)."""
        return self.path.name

    def wants(self, file: ContentFile) -> bool:
        """Return True when this file is read in this load (every file unless a check narrowed the scope)."""
        return self.scope is None or file.path.name in self.scope


def read_file(file: ContentFile, root: Path) -> None:
    """Read a file's bytes into `file.text`, recording size, encoding and symlink problems."""
    if file.data is not None:  # unsaved text checked in the context of its course
        if len(file.data) > MAX_BYTES:
            file.add(1, f"the file is larger than 1 MB ({len(file.data)} bytes)")
            return
        file.content_hash = hashlib.sha256(file.data).hexdigest()
        file.text = _decode(file.data, file)
        return
    try:
        if not inside(file.path, root):
            file.add(1, "symlink leads outside the content folder")
            return
        stat = file.path.stat()
        file.mtime = stat.st_mtime
        if stat.st_size > MAX_BYTES:  # checked before reading anything
            file.add(1, f"the file is larger than 1 MB ({stat.st_size} bytes)")
            return
        with open(file.path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        file.add(1, f"cannot read the file: {exc.strerror}")
        return
    file.content_hash = hashlib.sha256(data).hexdigest()
    file.text = _decode(data, file)


def _decode(data: bytes, file: ContentFile) -> str | None:
    """Decode UTF-8 (BOM stripped, newlines normalised); record empty or invalid files."""
    if len(data) > MAX_BYTES:
        file.add(1, "the file is larger than 1 MB")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        file.add(line, f"the file is not valid UTF-8 (byte {exc.start}); save it as UTF-8")
        return None
    if not text.strip():
        file.add(1, "the file is empty")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(file: ContentFile, root: Path, schema: dict, full: dict | None = None) -> tuple[Any, Any]:
    """Read and parse a file's front matter; return (values, document) or (None, None)."""
    read_file(file, root)
    if file.text is None:
        return None, None
    try:
        doc = fm.parse(file.text)
    except fm.FrontMatterError as exc:
        file.add(exc.line, exc.message)
        return None, None
    values, issues = fm.coerce(doc.meta, schema, full=full)
    for line, message, severity in issues:
        file.add(line, message, severity)
    return values, doc


def key_line(doc: fm.Document, key: str) -> int:
    """Return the line of a front matter key (the opening '---' line when it is missing)."""
    entry = doc.meta.items.get(key) if doc.meta.items else None
    return entry[0] if entry else doc.meta.line


def check_images(file: ContentFile, folder: Folder, images: tuple[str, ...], external: tuple[str, ...],
                 body_line: int) -> None:
    """Report relative images that are not files in the course folder, and external images."""
    for relpath in images:
        if resolve_asset(folder.path, relpath) is None:
            file.add(line_of(file.text or "", relpath, body_line),
                     f"image not found in the course folder: {relpath}")
    for url in external:
        external_image(file, folder, line_of(file.text or "", url, body_line), url)


def external_image(file: ContentFile, folder: Folder, line: int, url: str) -> None:
    """Warn about an image from another host: dropped, or loaded from there when the course allows it."""
    if folder.context.external_images:
        file.add(line, f"image from another site: {url[:100]} (allowed by allow_external_images; the "
                       "reader's browser loads it from there)", "warning")
    else:
        file.add(line, f"image from another site removed: {url[:100]} (put the picture in the course's "
                       "images/ folder, or set allow_external_images: true in course.md)", "warning")


def line_of(text: str, needle: str, default: int) -> int:
    """Return the first line (from `default` on) that mentions `needle`."""
    lines = text.split("\n")
    for i in range(max(default - 1, 0), len(lines)):
        if needle in lines[i]:
            return i + 1
    return default
