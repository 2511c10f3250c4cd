"""The `## Assignment` section of a lesson: a task and the criteria a reviewer checks it against.

Pure: no Flask, no database, and no import of the rest of the content package (the loader passes the
Markdown renderers in), so `catalog` can import `Assignment` without a cycle.

    ## Assignment

    Write a headline (at most 70 characters) and a call to action for the product described above.

    ### Criteria
    - The headline names a concrete benefit for the reader
    - The call to action says what happens after the click

The section runs to the next level-2 heading, so it may stand before or after `## Quiz`. Its lines are
blanked out of the body (not removed) so that every other line keeps its number for later messages.
Criteria ids are derived from the default-language text; a translation takes them by position, like quiz
question ids, so a review does not depend on the language the work was written in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .sections import cut_section, lines_in_code

SUBMISSION_KINDS = ("text", "text+link")
DEFAULT_MAX_LENGTH = 5000
MAX_CRITERION_LENGTH = 300
SETTINGS = ("submission", "max_length")

Issue = tuple[int, str, str]  # (line, message, severity)
Render = Callable[[str], Any]  # Markdown -> an object with .html and .images (content.markdown.Rendered)

_HEADING = re.compile(r"^ {0,3}##[ \t]+assignment[ \t]*#*[ \t]*$", re.IGNORECASE)
_CRITERIA = re.compile(r"^ {0,3}###[ \t]+(?:criteria|kriterien)[ \t]*:?[ \t]*#*[ \t]*$", re.IGNORECASE)
_BULLET = re.compile(r"^ {0,3}[-*+][ \t]+(.*)$")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion: a stable id, its Markdown text (one line) and that text rendered inline."""

    id: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """The assignment of one lesson text, with the submission settings of the default-language file."""

    task: str  # the Markdown source, as written (kept with every submission as its snapshot)
    task_html: str
    criteria: tuple[Criterion, ...]
    submission: str = "text"
    max_length: int = DEFAULT_MAX_LENGTH
    line: int = 0

    @property
    def with_link(self) -> bool:
        """True when the submission has a link field as well (`submission: text+link`)."""
        return self.submission == "text+link"

    def criterion(self, criterion_id: str) -> Criterion | None:
        """The criterion with this id, or None."""
        return next((c for c in self.criteria if c.id == criterion_id), None)


@dataclass(frozen=True, slots=True)
class AssignmentSection:
    """A lesson body with its assignment lines blanked out, and those lines."""

    prose: str
    lines: tuple[str, ...] | None
    heading_line: int  # file line of `## Assignment`, 0 when there is none
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadAssignment:
    """What the loader needs: the body without the section, the assignment (or None), problems, images."""

    prose: str
    assignment: Assignment | None
    issues: tuple[Issue, ...] = ()
    images: tuple[str, ...] = field(default=())


def split_assignment(body: str, body_line: int) -> AssignmentSection:
    """Cut the `## Assignment` section (up to the next level-2 heading) out of a lesson body; its lines are left
    blank, so the quiz found afterwards keeps the file's line numbers."""
    cut = cut_section(body, body_line, _HEADING, "a second '## Assignment' section; a lesson has one assignment",
                      blank=True)
    return AssignmentSection(cut.prose, cut.lines, cut.heading_line, cut.issues)


def normalize(text: str) -> str:
    """NFC, case folded, whitespace collapsed: the form a criterion id is computed from."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def criterion_id(text: str) -> str:
    """A stable id for a criterion text (`c-` and ten hex digits)."""
    return "c-" + hashlib.sha256(normalize(text).encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _read_lines(lines: Sequence[str], heading_line: int) -> tuple[list[str], list[tuple[str, int]] | None,
                                                                  int, list[Issue]]:
    """Split the section into task lines and criteria [(text, line)] (None without a criteria heading)."""
    task: list[str] = []
    criteria: list[tuple[str, int]] | None = None
    criteria_line = 0
    issues: list[Issue] = []
    code = dict(lines_in_code(lines))
    for offset, line in enumerate(lines):
        number = heading_line + 1 + offset
        if criteria is None:
            if not code[offset] and _CRITERIA.match(line):
                criteria, criteria_line = [], number
            else:
                task.append(line)
            continue
        if not line.strip():
            continue
        if _CRITERIA.match(line):
            issues.append((number, "a second '### Criteria' heading; list every criterion under the first",
                           "error"))
        elif m := _BULLET.match(line):
            criteria.append((m.group(1).strip(), number))
        elif line[:1] in (" ", "\t") and criteria:
            text, first = criteria[-1]
            criteria[-1] = (f"{text} {line.strip()}", first)  # a criterion wrapped over several lines
        else:
            issues.append((number, "unexpected text under '### Criteria': each criterion is one bullet "
                                   "('- ...'); put explanations in the task above", "error"))
    return task, criteria, criteria_line, issues


def parse_assignment(lines: Sequence[str], heading_line: int, *, render_document: Render, render_inline: Render,
                     submission: str = "text", max_length: int = DEFAULT_MAX_LENGTH
                     ) -> tuple[Assignment | None, list[Issue], list[str]]:
    """Parse the lines after `## Assignment`; return (assignment or None on errors, issues, image paths)."""
    task_lines, raw, criteria_line, issues = _read_lines(lines, heading_line)
    task = "\n".join(task_lines).strip("\n")
    images: list[str] = []
    if not task.strip():
        issues.append((heading_line, "the assignment has no task: describe it under '## Assignment', before "
                                     "'### Criteria'", "error"))
    if raw is None:
        issues.append((heading_line, "the assignment has no '### Criteria' heading: list what the reviewer "
                                     "checks as bullets under it", "error"))
    elif not raw:
        issues.append((criteria_line, "no criteria: list them as bullets ('- ...') under '### Criteria'", "error"))
    criteria: list[Criterion] = []
    seen: dict[str, int] = {}
    for text, line in raw or []:
        if not text:
            issues.append((line, "an empty criterion", "error"))
            continue
        if len(text) > MAX_CRITERION_LENGTH:
            issues.append((line, f"a criterion has at most {MAX_CRITERION_LENGTH} characters (this one has "
                                 f"{len(text)}); split it or say it shorter", "error"))
            continue
        ident = criterion_id(text)
        if ident in seen:
            issues.append((line, f"duplicate criterion (same text as line {seen[ident]})", "error"))
            continue
        seen[ident] = line
        rendered = render_inline(text)
        images.extend(rendered.images)
        criteria.append(Criterion(ident, text, rendered.html))
    if any(severity == "error" for _line, _message, severity in issues):
        return None, issues, images
    rendered_task = render_document(task)
    images.extend(rendered_task.images)
    return (Assignment(task, rendered_task.html, tuple(criteria), submission, max_length, heading_line),
            issues, images)


def adopt_criteria(translated: Assignment, default: Assignment) -> tuple[Assignment | None, str]:
    """Give a translated assignment the criteria ids and settings of the default-language one (by position).

    Returns (assignment, "") or (None, message) when the two do not have the same number of criteria.
    """
    if len(translated.criteria) != len(default.criteria):
        return None, (f"the translated assignment has {len(translated.criteria)} criteria, the default-language "
                      f"assignment {len(default.criteria)}; they must match one to one")
    criteria = tuple(replace(mine, id=theirs.id) for mine, theirs in zip(translated.criteria, default.criteria))
    return replace(translated, criteria=criteria, submission=default.submission,
                   max_length=default.max_length), ""


def read_assignment(body: str, body_line: int, values: Mapping[str, Any], *, default: Assignment | None,
                    translation: bool, render_document: Render, render_inline: Render,
                    key_lines: Mapping[str, int] | None = None) -> ReadAssignment:
    """Find, parse and check the assignment of one lesson file (the loader's one entry point).

    `values` is the file's coerced front matter (`submission`, `max_length` in a default-language file);
    `default` is the default-language assignment when this file is a translation.
    """
    section = split_assignment(body, body_line)
    issues: list[Issue] = list(section.issues)
    key_lines = key_lines or {}
    submission = values.get("submission", "text")
    max_length = values.get("max_length", DEFAULT_MAX_LENGTH)
    if not translation and submission not in SUBMISSION_KINDS:
        issues.append((key_lines.get("submission", 1), f"'submission' must be one of {', '.join(SUBMISSION_KINDS)}, "
                                                       f"got '{str(submission)[:40]}'", "error"))
        submission = "text"
    if section.lines is None:
        if not translation:
            for key in SETTINGS:
                if key in values:
                    issues.append((key_lines.get(key, 1), f"'{key}' has no effect: the lesson has no "
                                                          "'## Assignment' section", "warning"))
        elif default is not None:
            issues.append((1, "no '## Assignment' section: the default-language assignment is shown", "warning"))
            return ReadAssignment(section.prose, default, tuple(issues))
        return ReadAssignment(section.prose, None, tuple(issues))
    assignment, found, images = parse_assignment(section.lines, section.heading_line, render_document=render_document,
                                                 render_inline=render_inline, submission=submission,
                                                 max_length=max_length)
    issues.extend(found)
    if translation and assignment is not None:
        if default is None:
            issues.append((section.heading_line, "the default-language file has no assignment; this assignment "
                                                 "is ignored", "warning"))
            return ReadAssignment(section.prose, None, tuple(issues), tuple(images))
        adopted, message = adopt_criteria(assignment, default)
        if adopted is None:
            issues.append((section.heading_line, message, "error"))
        assignment = adopted
    return ReadAssignment(section.prose, assignment, tuple(issues), tuple(images))
