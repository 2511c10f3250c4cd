"""The `## Assignment` section: task and criteria, settings, translations, and what `flask content check` reports."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from coaching.content import load_catalog
from coaching.content.assignment import criterion_id, split_assignment

from .helpers import lesson_md, make_course, messages

TASK = "Write a headline (at most 70 characters) for the **Trail 2** tent."
ASSIGNMENT = f"""Intro text.

## Assignment

{TASK}

- a list that belongs to the task
- second item

### Criteria
- The headline names a concrete benefit
- The call to action says what happens
  after the click
- The text is labelled as advertising
"""
QUIZ = """## Quiz

1. Pick the right one
   - [ ] wrong
   - [x] right
"""


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element of an HTML fragment with its attributes (read with a parser, not by substrings)."""
    found: list = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def _load(tmp_path: Path, lessons: dict[str, str]):
    """Load one course with these lesson files."""
    make_course(tmp_path, "c", lessons)
    return load_catalog(tmp_path)


def _text(cat, lang: str = "en"):
    """The lesson text of the first lesson."""
    return cat.course("c").lessons[0].texts[lang]


def test_task_criteria_and_settings(tmp_path):
    """The task is rendered Markdown without the criteria; each bullet is a criterion (wrapped lines joined)."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT, extra="submission: text+link\nmax_length: 800\n")})
    assert messages(cat) == [] and messages(cat, "warning") == []
    text = _text(cat)
    a = text.assignment
    assert "<strong>Trail 2</strong>" in a.task_html and "<li>a list that belongs to the task</li>" in a.task_html
    assert "Criteria" not in a.task_html and "Assignment" not in text.html and "Intro text." in text.html
    assert [c.text for c in a.criteria] == ["The headline names a concrete benefit",
                                            "The call to action says what happens after the click",
                                            "The text is labelled as advertising"]
    assert a.criteria[0].id == criterion_id("the  headline names a CONCRETE benefit")
    assert a.submission == "text+link" and a.with_link and a.max_length == 800
    assert a.task.startswith("Write a headline") and a.task.endswith("second item")


def test_defaults_and_no_assignment(tmp_path):
    """Without settings: text, 5,000 characters; a lesson without the section has no assignment."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT), "02-b.md": lesson_md(body="Just reading.")})
    first, second = cat.course("c").lessons
    assert first.texts["en"].assignment.submission == "text" and first.texts["en"].assignment.max_length == 5000
    assert second.texts["en"].assignment is None


def test_assignment_before_or_after_the_quiz(tmp_path):
    """The section may stand before or after `## Quiz`; both are read, and quiz lines keep their numbers."""
    before = ASSIGNMENT + "\n" + QUIZ
    after = "Intro text.\n\n" + QUIZ + "\n" + ASSIGNMENT.split("\n", 2)[2]
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=before), "02-b.md": lesson_md(body=after)})
    assert messages(cat) == []
    for lesson in cat.course("c").lessons:
        text = lesson.texts["en"]
        assert text.assignment is not None and len(text.assignment.criteria) == 3
        assert text.quiz is not None and len(text.quiz.questions) == 1


def test_split_keeps_line_numbers():
    """The section's lines are blanked, not removed, so later lines keep their numbers."""
    body = "a\n## Assignment\ntask\n### Criteria\n- one\n## Quiz\nq"
    section = split_assignment(body, 10)
    assert section.heading_line == 11 and section.lines == ("task", "### Criteria", "- one")
    assert section.prose.split("\n") == ["a", "", "", "", "", "## Quiz", "q"]


def test_heading_inside_code_is_not_a_section(tmp_path):
    """`## Assignment` inside a fenced code block is text."""
    body = "```\n## Assignment\n```\n"
    assert _text(_load(tmp_path, {"01-a.md": lesson_md(body=body)})).assignment is None


def test_missing_task(tmp_path):
    """No task between the heading and the criteria: an error at the heading's line."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body="## Assignment\n\n### Criteria\n- one\n")})
    assert any("the assignment has no task" in m and ":6:" in m for m in messages(cat))
    assert cat.course("c").lessons == ()


def test_no_criteria(tmp_path):
    """No criteria heading, or a heading without bullets: errors."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body="## Assignment\n\nDo it.\n"),
                           "02-b.md": lesson_md(body="## Assignment\n\nDo it.\n\n### Criteria\n\n")})
    found = messages(cat)
    assert any("01-a.md" in m and "no '### Criteria' heading" in m for m in found)
    assert any("02-b.md" in m and "no criteria" in m for m in found)


def test_long_duplicate_and_stray_criteria(tmp_path):
    """A criterion over 300 characters, a duplicate, and text that is not a bullet: each an error at its line."""
    body = ("## Assignment\n\nDo it.\n\n### Criteria\n- " + "x" * 301 + "\n- Same\n- same\nA stray line\n")
    found = messages(_load(tmp_path, {"01-a.md": lesson_md(body=body)}))
    assert any(":11:" in m and "at most 300 characters (this one has 301)" in m for m in found)
    assert any(":13:" in m and "duplicate criterion" in m for m in found)
    assert any(":14:" in m and "unexpected text under '### Criteria'" in m for m in found)


def test_unknown_submission_value(tmp_path):
    """`submission: upload` is an error at its front matter line."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT, extra="submission: upload\n")})
    assert any(":5:" in m and "'submission' must be one of text, text+link, got 'upload'" in m for m in messages(cat))


def test_settings_without_assignment_warn(tmp_path):
    """`submission` or `max_length` without a section: a warning, the lesson still loads."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body="Text.", extra="max_length: 100\n")})
    assert messages(cat) == [] and any("'max_length' has no effect" in m for m in messages(cat, "warning"))
    assert len(cat.course("c").lessons) == 1


def test_bad_max_length(tmp_path):
    """`max_length: 0` is refused like any number out of bounds."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT, extra="max_length: 0\n")})
    assert any("'max_length' must be" in m for m in messages(cat))


def test_a_second_section(tmp_path):
    """Two `## Assignment` sections: an error."""
    body = ASSIGNMENT + "\n## Assignment\n\nAgain.\n\n### Criteria\n- x\n"
    assert any("a second '## Assignment' section" in m for m in messages(_load(tmp_path, {"01-a.md": lesson_md(
        body=body)})))


def test_translation_shares_criteria_ids(tmp_path):
    """A translation's criteria take the default language's ids by position, and its settings."""
    german = ("## Assignment\n\nSchreiben Sie eine Überschrift.\n\n### Kriterien\n- Nutzen\n- Klick\n- Werbung\n")
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT, extra="submission: text+link\n"),
                           "01-a.de.md": lesson_md(body=german)})
    assert messages(cat) == []
    lesson = cat.course("c").lessons[0]
    en, de = lesson.texts["en"].assignment, lesson.texts["de"].assignment
    assert [c.id for c in de.criteria] == [c.id for c in en.criteria]
    assert [c.text for c in de.criteria] == ["Nutzen", "Klick", "Werbung"] and de.submission == "text+link"


def test_translation_with_other_number_of_criteria(tmp_path):
    """A translation whose criteria differ in number: an error; the translation is not served."""
    german = "## Assignment\n\nSchreiben Sie.\n\n### Criteria\n- Nutzen\n"
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT), "01-a.de.md": lesson_md(body=german)})
    assert any("01-a.de.md" in m and "has 1 criteria, the default-language assignment 3" in m for m in messages(cat))
    assert "de" not in cat.course("c").lessons[0].texts


def test_translation_without_section_shows_the_default(tmp_path):
    """A translation without the section: a warning, and the default-language assignment is shown."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=ASSIGNMENT), "01-a.de.md": lesson_md(body="Nur Text.")})
    assert any("default-language assignment is shown" in m for m in messages(cat, "warning"))
    lesson = cat.course("c").lessons[0]
    assert lesson.texts["de"].assignment is lesson.texts["en"].assignment


def test_translation_with_an_assignment_the_default_lacks(tmp_path):
    """An assignment only in the translation is ignored with a warning."""
    cat = _load(tmp_path, {"01-a.md": lesson_md(body="Text."), "01-a.de.md": lesson_md(body=ASSIGNMENT)})
    assert any("this assignment is ignored" in m for m in messages(cat, "warning"))
    assert cat.course("c").lessons[0].texts["de"].assignment is None


def test_markup_in_task_and_criteria_is_sanitized(tmp_path):
    """Raw HTML and attribute tricks in the task and criteria are escaped or dropped, like the lesson body."""
    body = ("## Assignment\n\n<script>alert(1)</script> [x](javascript:alert(1)) text{: onclick=\"x\"}\n\n"
            "### Criteria\n- <img src=x onerror=alert(1)> benefit\n")
    a = _text(_load(tmp_path, {"01-a.md": lesson_md(body=body)})).assignment
    for html in (a.task_html, a.criteria[0].html):
        elements = _elements(html)
        assert not any(tag in ("script", "img") for tag, _attrs in elements)
        assert not any(name.startswith("on") for _tag, attrs in elements for name, _v in attrs)
        assert not any((v or "").startswith("javascript") for _tag, attrs in elements for _n, v in attrs)
    assert "&lt;script&gt;" in a.task_html  # shown as text


def test_cli_reports_assignment_problems(tmp_path, runner):
    """`flask content check` prints the problems as path:line: message and exits 1."""
    make_course(tmp_path, "c", {"01-a.md": lesson_md(body="## Assignment\n\nDo it.\n",
                                                     extra="submission: video\n")})
    result = runner.invoke(args=["content", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "01-a.md:5: 'submission' must be one of text, text+link" in result.output
    assert "no '### Criteria' heading" in result.output


def test_assignment_example_in_the_docs_parses(tmp_path):
    """The example in docs/content-format.md loads without problems: a task and three criteria."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "content-format.md"
    [block] = re.findall(r"```markdown\n(## Assignment\n.*?)```", docs.read_text(encoding="utf-8"), re.S)
    cat = _load(tmp_path, {"01-a.md": lesson_md(body=block)})
    assert messages(cat) == [] and messages(cat, "warning") == []
    assert len(_text(cat).assignment.criteria) == 3
