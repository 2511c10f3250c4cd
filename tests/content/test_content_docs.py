"""The documentation stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from coaching.content.markdown import RenderContext, Renderer
from coaching.content.quiz import parse_quiz, split_quiz

from .helpers import FIXTURES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_authoring_guide_shows_the_example_course_verbatim():
    """Every file of the example course appears unchanged in docs/authoring.md."""
    guide = (DOCS / "authoring.md").read_text(encoding="utf-8")
    for path in sorted((FIXTURES / "example-course").glob("*.md")):
        assert path.read_text(encoding="utf-8") in guide, path.name


def test_quiz_examples_in_the_docs_parse():
    """The quiz examples in both documents parse without errors."""
    for name in ("content-format.md", "authoring.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        blocks = re.findall(r"```markdown\n(## Quiz\n.*?)```", text, re.S)
        assert blocks, name
        for block in blocks:
            section = split_quiz(block, 1)
            parsed = parse_quiz(section.quiz_lines, section.heading_line, context=RenderContext(Renderer(), "/"))
            assert parsed.issues == () and len(parsed.quiz.questions) == 3, name


def test_every_quiz_fragment_in_the_docs_parses():
    """Every Markdown block of numbered questions in the docs parses without errors or warnings."""
    for name in ("content-format.md", "authoring.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        blocks = [b for b in re.findall(r"```markdown\n(.*?)```", text, re.S) if re.search(r"^\d+\. ", b, re.M)
                  and "- [" in b and "---\n" not in b]
        assert len(blocks) >= 2, name
        for block in blocks:
            lines = block.split("\n")[2:] if block.startswith("## Quiz") else block.split("\n")
            parsed = parse_quiz(lines, 1, context=RenderContext(Renderer(), "/"))
            assert parsed.issues == () and parsed.quiz is not None, (name, block[:60])


def test_german_examples_in_the_docs_use_sie():
    """German examples address the reader as the interface does ("Sie"), never with "du"."""
    for name in ("content-format.md", "authoring.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        assert not re.findall(r"\b(du|dein|deine|deinen|deinem|deiner|dich|Lies|Wähle)\b", text), name
    for path in (FIXTURES / "example-course").glob("*.de.md"):
        assert not re.findall(r"\b(du|dein\w*|dich)\b", path.read_text(encoding="utf-8")), path.name


def test_docs_do_not_tell_authors_to_write_choose_all():
    """The page adds the multiple-answer hint; the docs' examples must not carry it."""
    for name in ("content-format.md", "authoring.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        for block in re.findall(r"```markdown\n(.*?)```", text, re.S):
            assert "all that apply" not in block.lower() and "alle zutreffenden" not in block.lower()
