"""Full-text search over the published lessons of one catalog.

The loader builds a `SearchIndex` for each Catalog; the documents of a language are built on the first
search in it and kept by that index (so by that catalog), never in a module global.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

from .catalog import Course
from .markdown import html_to_text

_WORD = re.compile(r"\w+")
LANGUAGES_KEPT = 8  # documents are kept for this many languages (the site has two)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: a lesson with an escaped excerpt holding `<mark>` tags."""

    course_slug: str
    lesson_slug: str
    title: str
    excerpt_html: str
    score: int


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


class SearchIndex:
    """Search the published lessons of a set of courses; documents are built once per language."""

    def __init__(self, courses: tuple[Course, ...]):
        self.courses = tuple(c for c in courses if c.published)
        self.docs = functools.lru_cache(maxsize=LANGUAGES_KEPT)(self._build_docs)

    def search(self, query: str, lang: str, limit: int = 20) -> list[SearchHit]:
        """Find published lessons whose text holds every query word (prefix match)."""
        terms = _query_terms(query)
        if not terms or limit <= 0:
            return []
        hits = []
        for doc in self.docs(lang):
            ranked = _rank(doc, terms)
            if ranked is not None:
                hits.append((ranked, doc))
        hits.sort(key=lambda h: (-h[0][0], -h[0][1], h[1].title))
        return [_hit(doc, terms, title_hits * 100 + body_hits)
                for (title_hits, body_hits), doc in hits[:limit]]

    def _build_docs(self, lang: str) -> tuple[_Doc, ...]:
        """Turn every lesson (in `lang` or its fallback) into a search document."""
        docs = []
        for course in self.courses:
            for lesson in course.lessons:
                text, _ = lesson.text(lang)
                body = html_to_text(text.html)
                docs.append(_Doc(course.slug, lesson.slug, text.title, text.summary, body,
                                 tuple(fold(w) for w in _WORD.findall(text.title)),
                                 tuple(fold(w) for w in _WORD.findall(text.summary + " " + body))))
        return tuple(docs)


def _query_terms(query: str) -> tuple[str, ...]:
    """Split a query into distinct folded words (at most ten)."""
    if not isinstance(query, str):
        return ()
    terms = dict.fromkeys(fold(w) for w in _WORD.findall(query[:200]))
    return tuple(terms)[:10]


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
