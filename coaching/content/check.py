"""`flask content check` for any target: the lessons folder, one course folder or one lesson file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .catalog import ContentError, CourseText, LessonText
from .files import Display
from .loader import DEFAULT_ASSET_BASE, load_catalog
from .markdown import Renderer


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What a check found: every problem in scope and what loaded (`scope`: content, course or file)."""

    problems: tuple[ContentError, ...]
    courses: int
    lessons: int
    scope: str

    @property
    def errors(self) -> int:
        """Return the number of errors (not warnings)."""
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        """Return the number of warnings."""
        return len(self.problems) - self.errors

    def summary(self) -> str:
        """Return the closing line of the check."""
        loaded = (f"{self.courses} courses, {self.lessons} lessons" if self.scope != "file"
                  else f"1 file ({'published' if self.lessons else 'not published'})")
        return f"{loaded}: {self.errors} errors, {self.warnings} warnings"


def is_course_folder(path: Path) -> bool:
    """Return True for a folder that holds a course (course.md or lesson files), not course folders."""
    try:
        return (path / "course.md").is_file() or any(p.suffix == ".md" and p.is_file() for p in path.iterdir())
    except OSError:
        return False


def check_path(path: Path) -> CheckReport:
    """Check a lessons folder, a course folder or a lesson file (in the context of its course)."""
    path = Path(path)
    if path.is_file():
        return _check_file(path)
    if is_course_folder(path):
        catalog = load_catalog(path.parent, only=path.name)
        lessons = sum(len(c.lessons) for c in catalog.courses)
        return CheckReport(catalog.errors, len(catalog.courses), lessons, "course")
    catalog = load_catalog(path)
    return CheckReport(catalog.errors, len(catalog.courses), sum(len(c.lessons) for c in catalog.courses),
                       "content")


def _check_file(path: Path) -> CheckReport:
    """Check one file: the problems of that file and of its course folder."""
    course_dir = path.parent
    shown = Display(course_dir.parent)
    if path.suffix != ".md":
        return CheckReport((ContentError(shown(path), 0, "not a content file: lessons and course.md end "
                                                         "in .md"),), 0, 0, "file")
    catalog = load_catalog(course_dir.parent, only=course_dir.name)
    mine, folder = shown(path), shown(course_dir)
    problems = tuple(p for p in catalog.errors if p.path == mine or (p.path == folder and p.line == 0))
    status = next((f for f in catalog.files if f.path == mine), None)
    course = catalog.course(course_dir.name)
    if status is None or course is None or not status.ok:
        published = False
    elif status.lesson_slug is None:  # course.md or a translation of it
        published = status.lang in course.texts
    else:
        lesson = course.lesson(status.lesson_slug)
        published = lesson is not None and status.lang in lesson.texts
    return CheckReport(problems, len(catalog.courses), int(published), "file")


@dataclass(frozen=True, slots=True)
class TextCheck:
    """Unsaved text checked in the context of its course: its problems, what a reader would see (a lesson's
    text even when it has errors, or the course text), and whether it could be published as it is."""

    problems: tuple[ContentError, ...]
    lesson: LessonText | None
    course: CourseText | None

    @property
    def errors(self) -> int:
        """Return the number of errors (not warnings)."""
        return sum(1 for p in self.problems if p.severity == "error")


def _scope(name: str) -> frozenset[str]:
    """The files a check of `name` reads: itself, course.md and, for a translation, its original."""
    original = re.sub(r"\.[a-z]{2}\.md$", ".md", name)
    return frozenset({name, "course.md", original})


def check_text(content_dir: Path, course_slug: str, name: str, data: bytes, *, renderer: Renderer | None = None,
               asset_base: str = DEFAULT_ASSET_BASE, hide: tuple[str, ...] = ()) -> TextCheck:
    """Check `data` as the file `name` of a course folder, with the course's other files as they are on disk
    (`hide`: file names to leave out, as if already gone). Nothing is written."""
    overlay: dict[str, bytes | None] = {name: data, **{other: None for other in hide}}
    catalog = load_catalog(Path(content_dir), only=course_slug, overlay=overlay, renderer=renderer,
                           asset_base=asset_base, scope=_scope(name))
    shown = Display(Path(content_dir))
    mine, folder = shown(Path(content_dir) / course_slug / name), shown(Path(content_dir) / course_slug)
    problems = tuple(p for p in catalog.errors if p.path == mine or (p.path == folder and p.line == 0))
    status = next((f for f in catalog.files if f.path == mine), None)
    course = catalog.course(course_slug)
    course_text = None
    if status is not None and status.lesson_slug is None and course is not None:
        course_text = course.texts.get(status.lang)
    return TextCheck(problems, status.preview if status else None, course_text)
