"""Operator-edited pages (privacy notice, imprint) from Markdown files in PAGES_DIR."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..content import render

MAX_PAGE_BYTES = 200_000


@dataclass(frozen=True)
class OperatorPage:
    """A rendered page: its title (the first `# ` heading) and sanitized body HTML."""

    title: str
    html: str
    lang: str


def load_page(pages_dir: str | Path, name: str, lang: str) -> OperatorPage | None:
    """The page in the reader's language, else English; None when no file exists."""
    folder = Path(pages_dir)
    for candidate_lang, filename in ((lang, f"{name}.{lang}.md"), ("en", f"{name}.md")):
        path = folder / filename
        if path.is_file() and path.stat().st_size <= MAX_PAGE_BYTES:
            text = path.read_text("utf-8-sig")
            title, _, body = _split_title(text)
            html, _toc = render(body, asset_base="/")
            return OperatorPage(title=title or name.title(), html=html, lang=candidate_lang)
    return None


def _split_title(text: str) -> tuple[str, str, str]:
    """Take the first level-1 heading off the text as the page title."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("# "):
            return line[2:].strip(), "", "\n".join(lines[:index] + lines[index + 1:])
        if line.strip():
            break
    return "", "", text
