"""Text people type (submissions, review comments): checked once before storing, shown escaped.

Pure helpers, no Flask app or database. PostgreSQL refuses NUL in text (a DataError) while SQLite stores
it, so such input is refused before any query, the same way on both. Shown back, the text is escaped,
its line breaks kept, and web addresses become links that pass no ranking or referrer (`nofollow ugc`).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

MAX_URL = 2000
# C0 controls except tab, line feed and carriage return (which a textarea sends), DEL, lone surrogates, and the
# replacement character (what the form parser makes of bytes that were not UTF-8).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffd]")
_FORBIDDEN_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\ufffd]")
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
LINK_REL = "nofollow ugc noopener"


class TextRefused(ValueError):
    """Text that cannot be stored as sent (control characters, broken encoding)."""


def clean_text(value: str | None, *, multiline: bool = True) -> str:
    """The text with line endings normalised to \\n; TextRefused for characters no one types."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if (_FORBIDDEN if multiline else _FORBIDDEN_LINE).search(text):
        raise TextRefused("control characters or an encoding error")
    return text


def without_control(value: str | None, *, multiline: bool = True) -> str:
    """The text with the characters `clean_text` refuses taken out (to show a refused text again)."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return (_FORBIDDEN if multiline else _FORBIDDEN_LINE).sub("", text)


def is_web_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host, without spaces, at most MAX_URL characters."""
    if not value or len(value) > MAX_URL or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _link(url: str) -> str:
    """One escaped link."""
    return f'<a href="{escape(url)}" rel="{LINK_REL}">{escape(url)}</a>'


def link_html(url: str | None) -> Markup:
    """A submitted link as an anchor (only http(s) URLs are ever stored), or nothing."""
    return Markup(_link(url)) if url and is_web_url(url) else Markup("")


def as_html(text: str | None) -> Markup:
    """Plain text as HTML: escaped, paragraphs at blank lines, line breaks kept, web addresses linked."""
    paragraphs = re.split(r"\n[ \t]*\n+", (text or "").strip("\n"))
    out = []
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        out.append("<p>" + "<br>\n".join(_linkify(line) for line in paragraph.split("\n")) + "</p>")
    return Markup("\n".join(out))


def _linkify(line: str) -> str:
    """Escape a line and turn its http(s) addresses into links (trailing punctuation stays outside)."""
    parts, position = [], 0
    for match in _URL.finditer(line):
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        if not is_web_url(stripped):
            continue
        parts.append(str(escape(line[position:match.start()])))
        parts.append(_link(stripped))
        position = match.start() + len(stripped)
    parts.append(str(escape(line[position:])))
    return "".join(parts)
