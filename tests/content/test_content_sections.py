"""Fenced code blocks: which lines the quiz and assignment readers skip (one helper for both)."""
from __future__ import annotations

from coaching.content.sections import lines_in_code


def inside(text: str) -> list[bool]:
    """For each line: inside a fenced block?"""
    return [code for _i, code in lines_in_code(text.split("\n"))]


def test_a_fence_closes_with_the_same_character_at_least_as_long() -> None:
    """``` is not closed by ~~~ nor by a shorter fence; a closing fence takes nothing after it."""
    assert inside("a\n```\n## Quiz\n~~~\n``\n````\nb") == [False, True, True, True, True, True, False]
    assert inside("~~~~\nx\n~~~\n~~~~ \ny") == [True, True, True, True, False]
    assert inside("```python\nx\n``` not a close\n```\ny") == [True, True, True, True, False]


def test_indented_four_spaces_is_no_fence_and_an_open_fence_runs_to_the_end() -> None:
    """Up to three spaces of indent open a fence; an unclosed one covers the rest."""
    assert inside("    ```\n## Quiz") == [False, False]
    assert inside("   ```\n## Quiz\nmore") == [True, True, True]


def test_a_second_quiz_right_after_the_first_is_an_error() -> None:
    """`## Quiz` twice in a row: the second is reported as an error (the file is then not published), not left
    silently in the lesson text, where its options would show the answer key as Markdown."""
    from coaching.content.quiz import split_quiz

    body = "Text\n## Quiz\n1. Q\n   - [x] a\n   - [ ] b\n## Quiz\n2. R\n   - [x] c\n   - [ ] d\n## After\nEnd"
    section = split_quiz(body, body_line=5)
    assert section.issues == ((10, "a second '## Quiz' section; a lesson has one quiz", "error"),)
    assert section.quiz_lines == ("1. Q", "   - [x] a", "   - [ ] b")


def test_a_second_assignment_anywhere_is_an_error_and_the_first_keeps_its_lines_blank() -> None:
    """The assignment's lines become blank lines (line numbers after it stay the file's)."""
    from coaching.content.assignment import split_assignment

    body = "Intro\n## Assignment\nWrite.\n## Assignment\nAgain.\n## Quiz\n1. Q"
    section = split_assignment(body, body_line=3)
    assert section.lines == ("Write.",)
    assert section.prose.split("\n") == ["Intro", "", "", "## Assignment", "Again.", "## Quiz", "1. Q"]
    assert section.issues == ((6, "a second '## Assignment' section; a lesson has one assignment", "error"),)
