"""The in-memory content catalog: frozen dataclasses and read-only lookups.

Nothing here touches the file system except `Course.asset`, which resolves a
request path to a file inside the course folder (or refuses to).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from .assignment import Assignment
from .normalize import grade_normalize
from .numbers import NumberKey

LANGUAGES = ("en", "de")
SHOW_ANSWERS = ("after_pass", "immediate", "never")
Severity = Literal["error", "warning"]
ShowAnswers = Literal["after_pass", "immediate", "never"]
ASSET_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"})


@dataclass(frozen=True, slots=True)
class ContentError:
    """One problem in one content file, shown as `path:line: message`."""

    path: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        """Return the `path:line: message` form used by the CLI and the manager page."""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option of a choice question; `correct` is the answer key."""

    id: str
    html: str
    correct: bool


@dataclass(frozen=True, slots=True)
class Question:
    """One quiz question; options are empty and `accepted` is set for text questions.

    `accepted` holds every `[=]` answer as written; `numbers` the ones that are numbers (graded as
    numbers, read in the file's language), `text_keys` the others (graded as text).
    """

    id: str
    kind: Literal["single", "multiple", "text"]
    html: str
    options: tuple[Option, ...]
    accepted: tuple[str, ...]
    explanation_html: str
    line: int
    numbers: tuple[NumberKey, ...] = ()
    graded_texts: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Normalise the text keys once (grading compares every answer with them)."""
        object.__setattr__(self, "graded_texts", frozenset(grade_normalize(a) for a in self.text_keys))

    @property
    def correct_ids(self) -> tuple[str, ...]:
        """Return the ids of the correct options (empty for text questions)."""
        return tuple(o.id for o in self.options if o.correct)

    @property
    def text_keys(self) -> tuple[str, ...]:
        """Return the accepted answers that are compared as text (not numbers)."""
        numeric = {n.text for n in self.numbers}
        return tuple(a for a in self.accepted if a not in numeric)


@dataclass(frozen=True, slots=True)
class Quiz:
    """The quiz of one lesson text with the settings of the default-language file.

    `lang` is the language its text answers and numbers were written in. `version` is a digest of what
    the quiz means (ids, kinds, the key, accepted answers, settings), not of the file: a typo fix in
    the prose or an explanation keeps it, a changed key or setting moves it.
    """

    questions: tuple[Question, ...]
    pass_mark: int
    max_attempts: int | None
    shuffle: bool = True
    show_answers: ShowAnswers = "after_pass"
    lang: str = "en"
    version: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        """Work out the version (a field so it is computed once; replace() computes it again)."""
        object.__setattr__(self, "version", quiz_version(self))

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, or None."""
        for q in self.questions:
            if q.id == question_id:
                return q
        return None


def quiz_version(quiz: Quiz) -> str:
    """Return 16 hex digits of a digest over what the quiz means.

    Text answers count as graded (normalised, as a set); numbers by value, tolerance and unit, so
    `0,25 €` in German and `EUR 0.25` in English weigh the same.
    """
    meaning = {
        "settings": [quiz.pass_mark, quiz.max_attempts, quiz.shuffle, quiz.show_answers],
        "questions": [[q.id, q.kind, [[o.id, o.correct] for o in q.options],
                       sorted(q.graded_texts),
                       sorted({n.canonical for n in q.numbers})] for q in quiz.questions],
    }
    text = json.dumps(meaning, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TocItem:
    """One heading of a lesson body for the table of contents."""

    level: int
    anchor: str
    title: str


@dataclass(frozen=True, slots=True)
class LessonText:
    """A lesson in one language: metadata, sanitized body HTML and its quiz."""

    lang: str
    title: str
    summary: str
    minutes: int
    html: str
    toc: tuple[TocItem, ...]
    quiz: Quiz | None
    content_hash: str
    path: str
    words: int
    assignment: Assignment | None = None


@dataclass(frozen=True, slots=True, eq=False)  # identity: holds mappings, stays hashable
class Lesson:
    """A lesson with its texts per language; `language` is the course default."""

    course_slug: str
    slug: str
    order: int
    exam: bool
    texts: Mapping[str, LessonText]
    language: str = "en"

    def text(self, lang: str) -> tuple[LessonText, bool]:
        """Return the text in `lang`, else the default-language text and fell_back=True."""
        if lang in self.texts:
            return self.texts[lang], False
        return self.texts[self.language], True

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the available languages, the default language first."""
        return tuple(sorted(self.texts, key=lambda la: (la != self.language, la)))

    @property
    def minutes(self) -> int:
        """Return the reading time of the default-language text."""
        return self.texts[self.language].minutes


@dataclass(frozen=True, slots=True, eq=False)  # identity: holds mappings, stays hashable
class CertificateSettings:
    """Certificate settings of a course; `titles` holds the title per language."""

    title: str | None = None
    signer_name: str | None = None
    signer_role: str | None = None
    validity_months: int | None = None
    logo: Path | None = None
    titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CourseText:
    """Course metadata in one language."""

    lang: str
    title: str
    summary: str
    description_html: str


@dataclass(frozen=True, slots=True, eq=False)  # identity: holds mappings, stays hashable
class Course:
    """A course folder: settings, texts per language and its ordered lessons."""

    slug: str
    order: int
    language: str
    published: bool
    pass_mark: int
    certificate: CertificateSettings
    lessons: tuple[Lesson, ...]
    texts: Mapping[str, CourseText]
    path: Path
    fingerprint: str
    external_images: bool = False  # course.md's allow_external_images

    def text(self, lang: str) -> CourseText:
        """Return the course text in `lang`, falling back to the default language."""
        return self.texts.get(lang) or self.texts[self.language]

    def certificate_title(self, lang: str) -> str:
        """Return the certificate title in `lang` (falls back to default, then course title)."""
        titles = self.certificate.titles
        return titles.get(lang) or titles.get(self.language) or self.text(lang).title

    def lesson(self, slug: str) -> Lesson | None:
        """Return the lesson with this slug, or None."""
        for lesson in self.lessons:
            if lesson.slug == slug:
                return lesson
        return None

    def _neighbour(self, slug: str, step: int) -> Lesson | None:
        """Return the lesson `step` places away from `slug`, or None."""
        slugs = [lesson.slug for lesson in self.lessons]
        if slug not in slugs:
            return None
        i = slugs.index(slug) + step
        return self.lessons[i] if 0 <= i < len(self.lessons) else None

    def next_lesson(self, slug: str) -> Lesson | None:
        """Return the lesson after `slug`, or None."""
        return self._neighbour(slug, 1)

    def previous_lesson(self, slug: str) -> Lesson | None:
        """Return the lesson before `slug`, or None."""
        return self._neighbour(slug, -1)

    @property
    def total_minutes(self) -> int:
        """Return the sum of the lessons' reading times."""
        return sum(lesson.minutes for lesson in self.lessons)

    def asset(self, relpath: str) -> Path | None:
        """Return the image file at `relpath` inside the course folder, or None."""
        return resolve_asset(self.path, relpath)


_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]*$")


def resolve_asset(course_dir: Path, relpath: str) -> Path | None:
    """Resolve a relative image path inside `course_dir`; None for anything suspicious."""
    if not isinstance(relpath, str) or not relpath or len(relpath) > 512:
        return None
    # Refuse rather than normalise: a request path holding any of these is never a real asset.
    if relpath.startswith("/") or any(c in relpath for c in "\\%:\x00"):
        return None
    parts = relpath.split("/")
    if not all(_SAFE_SEGMENT.match(p) for p in parts):
        return None  # also refuses "", ".", ".." and hidden files
    if Path(parts[-1]).suffix.lower() not in ASSET_SUFFIXES:
        return None  # the .md files hold the answer keys: never serve them
    try:
        root = course_dir.resolve(strict=True)
        target = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None  # a symlink leading out of the course folder
    return target


@dataclass(frozen=True, slots=True)
class FileStatus:
    """One content file as seen by the loader, for the manager's content page."""

    path: str
    course_slug: str
    lesson_slug: str | None
    lang: str
    content_hash: str
    mtime: float
    errors: tuple[ContentError, ...]
    preview: LessonText | None

    @property
    def ok(self) -> bool:
        """Return True when the file has no errors (warnings allowed)."""
        return not any(e.severity == "error" for e in self.errors)


class Searcher(Protocol):
    """What a Catalog searches with (`search.SearchIndex`, built by the loader)."""

    def search(self, query: str, lang: str, limit: int) -> list: ...


@dataclass(frozen=True, slots=True, eq=False)  # identity: holds mappings, stays hashable
class Catalog:
    """All courses (published or not), every problem found and the file list."""

    courses: tuple[Course, ...]
    errors: tuple[ContentError, ...] = ()
    fingerprint: str = ""
    files: tuple[FileStatus, ...] = ()
    index: Searcher | None = field(default=None, repr=False, compare=False)

    def course(self, slug: str) -> Course | None:
        """Return the course with this slug (published or not), or None."""
        for course in self.courses:
            if course.slug == slug:
                return course
        return None

    def published_courses(self) -> tuple[Course, ...]:
        """Return the published courses in catalog order."""
        return tuple(c for c in self.courses if c.published)

    @property
    def has_errors(self) -> bool:
        """Return True when any error (not warning) was found."""
        return any(e.severity == "error" for e in self.errors)

    def search(self, query: str, lang: str, limit: int = 20) -> list:
        """Find published lessons whose text holds every query word (prefix match): SearchHits."""
        return self.index.search(query, lang, limit) if self.index is not None else []

