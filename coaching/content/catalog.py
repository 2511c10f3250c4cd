"""The in-memory content catalog: frozen dataclasses and read-only lookups.

Nothing here touches the file system except `Course.asset`, which resolves a
request path to a file inside the course folder (or refuses to).
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .assignment import Assignment

LANGUAGES = ("en", "de")
Severity = Literal["error", "warning"]
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
    """One quiz question; options are empty and `accepted` is set for text questions."""

    id: str
    kind: Literal["single", "multiple", "text"]
    html: str
    options: tuple[Option, ...]
    accepted: tuple[str, ...]
    explanation_html: str
    line: int

    @property
    def correct_ids(self) -> tuple[str, ...]:
        """Return the ids of the correct options (empty for text questions)."""
        return tuple(o.id for o in self.options if o.correct)


@dataclass(frozen=True, slots=True)
class Quiz:
    """The quiz of one lesson text with the settings of the default-language file."""

    questions: tuple[Question, ...]
    pass_mark: int
    max_attempts: int | None
    shuffle: bool

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, or None."""
        for q in self.questions:
            if q.id == question_id:
                return q
        return None


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

    @property
    def title_de(self) -> str | None:
        """Return the German certificate title, if any."""
        return self.titles.get("de")


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


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: a lesson with an escaped excerpt holding `<mark>` tags."""

    course_slug: str
    lesson_slug: str
    title: str
    excerpt_html: str
    score: int


_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Fold text for matching: NFC and case folding (Ä/ä, ß/ss match)."""
    return unicodedata.normalize("NFC", text).casefold()


@dataclass(frozen=True, slots=True)
class _Doc:
    """A searchable lesson text."""

    course_slug: str
    lesson_slug: str
    title: str
    summary: str
    body: str
    title_words: tuple[str, ...]
    body_words: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)  # identity: holds mappings, stays hashable
class Catalog:
    """All courses (published or not), every problem found and the file list."""

    courses: tuple[Course, ...]
    errors: tuple[ContentError, ...] = ()
    fingerprint: str = ""
    files: tuple[FileStatus, ...] = ()
    _index: dict = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

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

    def _docs(self, lang: str) -> tuple[_Doc, ...]:
        """Return the search documents for `lang`, built once per catalog."""
        with self._lock:
            if lang not in self._index:
                self._index[lang] = _build_docs(self.published_courses(), lang)
            return self._index[lang]

    def search(self, query: str, lang: str, limit: int = 20) -> list[SearchHit]:
        """Find published lessons whose text holds every query word (prefix match)."""
        terms = _query_terms(query)
        if not terms or limit <= 0:
            return []
        hits = []
        for doc in self._docs(lang):
            ranked = _rank(doc, terms)
            if ranked is not None:
                hits.append((ranked, doc))
        hits.sort(key=lambda h: (-h[0][0], -h[0][1], h[1].title))
        return [_hit(doc, terms, title_hits * 100 + body_hits)
                for (title_hits, body_hits), doc in hits[:limit]]


def _query_terms(query: str) -> tuple[str, ...]:
    """Split a query into distinct folded words (at most ten)."""
    if not isinstance(query, str):
        return ()
    terms = dict.fromkeys(fold(w) for w in _WORD.findall(query[:200]))
    return tuple(terms)[:10]


def _build_docs(courses: tuple[Course, ...], lang: str) -> tuple[_Doc, ...]:
    """Turn every lesson (in `lang` or its fallback) into a search document."""
    from .markdown import html_to_text  # local: markdown imports this module

    docs = []
    for course in courses:
        for lesson in course.lessons:
            text, _ = lesson.text(lang)
            body = html_to_text(text.html)
            docs.append(_Doc(course.slug, lesson.slug, text.title, text.summary, body,
                             tuple(fold(w) for w in _WORD.findall(text.title)),
                             tuple(fold(w) for w in _WORD.findall(text.summary + " " + body))))
    return tuple(docs)


def _rank(doc: _Doc, terms: tuple[str, ...]) -> tuple[int, int] | None:
    """Return (title hits, body hits) when every term matches somewhere, else None."""
    title_hits = body_hits = 0
    for term in terms:
        t = sum(1 for w in doc.title_words if w.startswith(term))
        b = sum(1 for w in doc.body_words if w.startswith(term))
        if not t and not b:
            return None
        title_hits += t
        body_hits += min(b, 50)
    return title_hits, body_hits


def _hit(doc: _Doc, terms: tuple[str, ...], score: int) -> SearchHit:
    """Build a hit with an excerpt around the first body match."""
    source = doc.body if _first_match(doc.body, terms) is not None else doc.summary
    return SearchHit(doc.course_slug, doc.lesson_slug, doc.title, excerpt(source, terms), score)


def _first_match(text: str, terms: tuple[str, ...]) -> int | None:
    """Return the offset of the first word matching a term, or None."""
    for m in _WORD.finditer(text):
        if any(fold(m.group()).startswith(t) for t in terms):
            return m.start()
    return None


def excerpt(text: str, terms: tuple[str, ...], width: int = 160) -> str:
    """Return escaped text around the first match with matching words in `<mark>`."""
    first = _first_match(text, terms) or 0
    start = max(0, first - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    out = ["…" if start else ""]
    pos = start
    # Work on word spans of the original text: folding can change lengths (ß -> ss).
    for m in _WORD.finditer(text, start, end):
        if any(fold(m.group()).startswith(t) for t in terms):
            out.append(html.escape(text[pos:m.start()]))
            out.append(f"<mark>{html.escape(m.group())}</mark>")
            pos = m.end()
    out.append(html.escape(text[pos:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)
