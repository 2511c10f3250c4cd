"""Warnings about how a quiz is written: patterns that let a reader pass without knowing the answer.

None of these stops a lesson from being published; `flask content check` and the manager's content
page show them with `path:line`.
"""

from __future__ import annotations

import re

from .catalog import Quiz
from .markdown import html_to_text

Issue = tuple[int, str, str]  # (line, message, severity)

# The page adds its own hint to every multiple-answer question; written by the author it shows twice.
CHOOSE_ALL = re.compile(r"(choose|select|pick|tick|mark) all that apply|mehrere antworten|alle zutreffenden",
                        re.IGNORECASE)
MIN_OPTIONS = 3
MIN_SINGLE_FOR_LONGEST = 3  # below this, "the longest is right" in most questions happens by chance


def quiz_warnings(quiz: Quiz, heading_line: int, *, shape: bool) -> list[Issue]:
    """Return the warnings for a parsed quiz.

    `shape` is True for the default-language file: the checks of the quiz's structure (which a
    translation shares) are made there only; the checks of the wording are made in every language.
    """
    issues: list[Issue] = []
    for question in quiz.questions:
        text = html_to_text(question.html)
        if CHOOSE_ALL.search(text):
            issues.append((question.line, f"the question says '{CHOOSE_ALL.search(text).group(0)}': "
                                          "leave it out, the page adds that hint to every question with "
                                          "several right answers", "warning"))
        if not shape or question.kind == "text":
            continue
        count, correct = len(question.options), len(question.correct_ids)
        if count < MIN_OPTIONS:
            issues.append((question.line, f"only {count} options: a guess is right half the time; "
                                          f"give at least {MIN_OPTIONS}", "warning"))
        if question.kind == "multiple" and correct >= count - 1:
            which = "every option is correct" if correct == count else "every option but one is correct"
            issues.append((question.line, f"{which}: ticking everything (or all but the odd one out) passes; "
                                          "add wrong options", "warning"))
    longest = _longest_correct(quiz)
    if longest:
        issues.append((heading_line, longest, "warning"))
    return issues


def _longest_correct(quiz: Quiz) -> str | None:
    """Return a message when the right option is the longest in most single-choice questions."""
    singles = [q for q in quiz.questions if q.kind == "single"]
    if len(singles) < MIN_SINGLE_FOR_LONGEST:
        return None
    longest = 0
    for question in singles:
        lengths = [(len(html_to_text(o.html)), o.correct) for o in question.options]
        right = next(length for length, correct in lengths if correct)
        if all(right > length for length, correct in lengths if not correct):
            longest += 1
    if longest * 2 <= len(singles):
        return None
    return (f"the correct option is the longest in {longest} of {len(singles)} single-choice questions: "
            "readers learn to pick the longest; make some wrong options as long")
