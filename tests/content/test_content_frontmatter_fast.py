"""The front matter reads the same with libyaml's fast parser as with PyYAML's Python parser: the same values and
lines for every shipped and fixture file, the same message and line for every kind of mistake."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from coaching.content import frontmatter as fm

REPO = Path(__file__).resolve().parents[2]

TRICKY = [
    "title: Plain\nsummary: 'single ''quoted'''\nminutes: 5",
    'title: "Step 1: the click"\nsummary: "a \\"quote\\" and \\u00e9"',
    "title: a: b",  # a value with ': '
    "title:\tx",  # a tab after the colon: the Python parser refuses it, libyaml would not
    "\ttitle: x",
    "title: x\n\tsummary: y",
    "title: 'never closed",
    'title: "never closed',
    "tags: [1, 2",
    "title: x\ntitle: y",
    "title: !!str 3",
    "title: &a 1\nsummary: *a",
    "title: @home",
    "title: `tick`",
    "title: x\n  summary: y",
    "certificate:\n  title: A\n title: B",
    "title: a\n---\nsummary: b",
    "é: ü\ntitle: Ünïcödé ✓",
    "minutes: 0x1F\npass_mark: 1_000\nx: .inf\ny: ~\nz: null\nb: yes",
    "date: 2024-01-01",
    'title: "\\x00"',
    "? complex\n: key",
    "title: b # comment",
    "title: {b: c}",
    "title: |\n  line one\n  line two\nsummary: >\n  folded\n  text",
    "title: [a, [b, [c, [d, [e, [f, [g, [h, [i]]]]]]]]]",
    "- a list\n- at the top",
    "just text",
    "",
    "title: x\r\nsummary: y",
    "title: \"\\ud800\"",
    "title: x\u0085summary: y",
    "title: \u2028x",
    "title: \x07bell",
    "title: x\nsummary:\n  - one\n  -  two\n  - three: 3",
    "title: 'a'b",
    "title: x\n...\n",
    "%YAML 1.1\n---\ntitle: x",
    "title: x\n  - y",
    "title: >-\n\n  x",
]


def outcome(source: str, *, fast: bool) -> object:
    """The Node read, or the (line, message) of the refusal."""
    try:
        return fm.load_yaml(source, first_line=2, fast=fast)
    except fm.FrontMatterError as error:
        return (error.line, error.message)


def front_matters() -> list[Path]:
    """Every Markdown file of the shipped content and the test fixtures."""
    return sorted([*(REPO / "content").rglob("*.md"), *(REPO / "tests").rglob("*.md")])


@pytest.mark.skipif(fm._FAST_PARSER is None, reason="PyYAML was built without libyaml: only one parser")
@pytest.mark.parametrize("source", TRICKY)
def test_both_parsers_agree_on_tricky_sources(source: str) -> None:
    """Values, lines and refusals are the same whichever parser read the text."""
    assert outcome(source, fast=True) == outcome(source, fast=False)


@pytest.mark.skipif(fm._FAST_PARSER is None, reason="PyYAML was built without libyaml: only one parser")
def test_both_parsers_agree_on_every_content_file() -> None:
    """Every shipped lesson, course and fixture file reads the same with both parsers."""
    checked = 0
    for path in front_matters():
        try:
            source, _, _ = fm.split(path.read_text(encoding="utf-8").replace("\r\n", "\n"))
        except (fm.FrontMatterError, UnicodeDecodeError):
            continue
        assert outcome(source, fast=True) == outcome(source, fast=False), path
        checked += 1
    assert checked > 50


def test_tab_after_a_colon_gets_the_python_parsers_advice() -> None:
    """libyaml accepts "key:<tab>value"; the loader still refuses it with the documented message."""
    line, message = outcome("title: x\nsummary:\tno", fast=True)
    assert (line, message) == (3, "tabs are not allowed in the settings: use spaces")


def test_libyaml_is_used_when_present() -> None:
    """The fast parser is the C one whenever PyYAML has it (the requirements' wheels do)."""
    assert (fm._FAST_PARSER is not None) == bool(yaml.__with_libyaml__)
