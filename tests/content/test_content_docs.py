"""The documentation stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

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
            parsed = parse_quiz(section.quiz_lines, section.heading_line, asset_base="/", pass_mark=80)
            assert parsed.issues == () and len(parsed.quiz.questions) == 3, name
