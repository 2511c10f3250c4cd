"""Fenced code blocks: which lines the quiz and assignment readers skip (one helper for both)."""
from __future__ import annotations

from coaching.content.fences import lines_in_code


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
