"""The content page and the lesson preview: every file the loader saw, loaded or not, with its problems."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...content import Catalog, FileStatus, LessonText


@dataclass(frozen=True)
class FileInfo:
    """One language file of a lesson for the content page."""

    lang: str
    path: str
    quiz_size: int | None
    hash_short: str
    changed_at: datetime | None
    errors: int
    warnings: int


@dataclass(frozen=True)
class LessonInfo:
    """A lesson (loaded or not) with its files."""

    slug: str
    title: str
    loaded: bool
    files: list[FileInfo]


@dataclass(frozen=True)
class CourseInfo:
    """A course folder with its lessons, as the loader saw it."""

    slug: str
    title: str
    loaded: bool
    published: bool
    lessons: list[LessonInfo]


def _file_info(status: FileStatus) -> FileInfo:
    """Describe one content file."""
    quiz = status.preview.quiz if status.preview else None
    return FileInfo(status.lang, status.path, len(quiz.questions) if quiz else None, status.content_hash[:10],
                    datetime.fromtimestamp(status.mtime, UTC) if status.mtime else None,
                    sum(e.severity == "error" for e in status.errors),
                    sum(e.severity == "warning" for e in status.errors))


def content_status(cat: Catalog, lang: str = "en") -> list[CourseInfo]:
    """Every course folder and lesson file the loader saw, loaded or not, in catalog order."""
    by_course: dict[str, dict[str, list[FileStatus]]] = {}
    for status in cat.files:
        if status.lesson_slug is not None:
            by_course.setdefault(status.course_slug, {}).setdefault(status.lesson_slug, []).append(status)
        else:
            by_course.setdefault(status.course_slug, {})
    loaded = [c.slug for c in cat.courses]
    order = loaded + sorted(set(by_course) - set(loaded))
    return [_course_info(cat, slug, by_course.get(slug, {}), lang) for slug in order]


def _course_info(cat: Catalog, slug: str, lessons: dict[str, list[FileStatus]], lang: str) -> CourseInfo:
    """Describe one course folder."""
    course = cat.course(slug)
    loaded_slugs = [lesson.slug for lesson in course.lessons] if course else []
    slugs = loaded_slugs + sorted(set(lessons) - set(loaded_slugs))
    infos = []
    for lesson_slug in slugs:
        lesson = course.lesson(lesson_slug) if course else None
        default = course.language if course else ""
        files = sorted(lessons.get(lesson_slug, []), key=lambda s: (s.lang != default, s.lang))
        preview = next((f.preview for f in files if f.preview), None)
        title = lesson.text(lang)[0].title if lesson else (preview.title if preview else lesson_slug)
        infos.append(LessonInfo(lesson_slug, title, lesson is not None, [_file_info(f) for f in files]))
    return CourseInfo(slug, course.text(lang).title if course else slug, course is not None,
                      bool(course and course.published), infos)


@dataclass(frozen=True)
class Preview:
    """A lesson text as a manager previews it: the file as it is now, with its problems."""

    course_slug: str
    lesson_slug: str
    lang: str
    languages: list[str]
    text: LessonText | None
    errors: list[Any]
    loaded: bool


def preview(cat: Catalog, course_slug: str, lesson_slug: str, lang: str | None) -> Preview | None:
    """The lesson text to preview (drafts and files with errors too); None when no such lesson file exists."""
    files = [f for f in cat.files if f.course_slug == course_slug and f.lesson_slug == lesson_slug]
    course = cat.course(course_slug)
    lesson = course.lesson(lesson_slug) if course else None
    if not files and lesson is None:
        return None
    languages = sorted({f.lang for f in files} | set(lesson.texts if lesson else ()))
    default = lesson.language if lesson else (course.language if course else languages[0])
    lang = lang if lang in languages else (default if default in languages else languages[0])
    status = next((f for f in files if f.lang == lang), None)
    text = status.preview if status and status.preview else (lesson.texts.get(lang) if lesson else None)
    return Preview(course_slug, lesson_slug, lang, languages, text, list(status.errors) if status else [],
                   lesson is not None)


def draft_preview(shown: Preview | None, course_slug: str, lesson_slug: str, lang: str, result: Any) -> Preview:
    """The preview of a draft saved in the browser (a `content.check.TextCheck`): its text and its problems."""
    languages = sorted(set(shown.languages if shown else ()) | {lang})
    return Preview(course_slug, lesson_slug, lang, languages, result.lesson, list(result.problems),
                   bool(shown and shown.loaded))
