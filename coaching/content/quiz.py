"""The `## Quiz` section of a lesson: a line-based parser and server-side grading."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from .catalog import Option, Question, Quiz
from .markdown import render_document, render_inline

Issue = tuple[int, str, str]  # (line, message, severity)

_HEADING = re.compile(r"^ {0,3}##[ \t]+quiz[ \t]*#*[ \t]*$", re.IGNORECASE)
_H2 = re.compile(r"^ {0,3}##(?:[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUESTION = re.compile(r"^ {0,3}(\d{1,4})[.)](?:[ \t]+(.*))?$")
_OPTION = re.compile(r"^[ \t]*[-*+][ \t]+\[([ xX=])\](?:[ \t]+(.*))?$")
_BULLET = re.compile(r"^[ \t]*[-*+][ \t]")
_EXPLAIN = re.compile(r"^[ \t]*>[ ]?(.*)$")


def normalize_text(value: str) -> str:
    """Normalize an answer: Unicode NFC, case folding, trimmed, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


@dataclass(frozen=True, slots=True)
class Section:
    """A lesson body split around its quiz: prose (Markdown) and the quiz lines."""

    prose: str
    quiz_lines: tuple[str, ...] | None
    heading_line: int  # file line of `## Quiz`, 0 when there is none
    issues: tuple[Issue, ...] = ()


def split_quiz(body: str, body_line: int) -> Section:
    """Cut the `## Quiz` section (up to the next level-2 heading) out of a lesson body."""
    lines = body.split("\n")
    start = end = None
    issues: list[Issue] = []
    for i, in_code in _outside_code(lines):
        if in_code:
            continue
        if start is None and _HEADING.match(lines[i]):
            start = i
        elif start is not None and end is None and _H2.match(lines[i]):
            end = i
        elif end is not None and _HEADING.match(lines[i]):
            issues.append((body_line + i, "a second '## Quiz' section; a lesson has one quiz",
                           "error"))
    if start is None:
        return Section(body, None, 0)
    end = len(lines) if end is None else end
    prose = "\n".join(lines[:start] + lines[end:])
    return Section(prose, tuple(lines[start + 1:end]), body_line + start, tuple(issues))


def _outside_code(lines: list[str]):
    """Yield (index, inside a fenced code block) for each line."""
    fence = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            yield i, True
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            yield i, True
        else:
            yield i, False


@dataclass
class _Draft:
    """A question while it is being read."""

    number: str
    line: int
    text: list[str]
    options: list[tuple[str, str, int]] = field(default_factory=list)  # (mark, text, line)
    explanation: list[str] = field(default_factory=list)
    explanation_line: int = 0


@dataclass(frozen=True, slots=True)
class ParsedQuiz:
    """The result of parsing a quiz section: the quiz (best effort), issues and images."""

    quiz: Quiz | None
    issues: tuple[Issue, ...]
    images: tuple[tuple[int, str], ...]  # (line, relative path)


def parse_quiz(lines: Sequence[str], heading_line: int, *, asset_base: str, pass_mark: int,
               max_attempts: int | None = None, shuffle: bool = False) -> ParsedQuiz:
    """Parse the lines after `## Quiz` (the heading is on file line `heading_line`)."""
    drafts, issues = _read_drafts(lines, heading_line + 1)
    if not drafts and not issues:
        issues.append((heading_line, "the '## Quiz' section has no questions", "error"))
    questions, images = [], []
    seen: dict[str, int] = {}
    for draft in drafts:
        question, q_images = _build(draft, asset_base, issues)
        images.extend(q_images)
        if question is None:
            continue
        if question.id in seen:
            issues.append((draft.line, f"duplicate question (same text as line {seen[question.id]})",
                           "error"))
            continue
        seen[question.id] = draft.line
        questions.append(question)
    quiz = Quiz(tuple(questions), pass_mark, max_attempts, shuffle) if questions else None
    return ParsedQuiz(quiz, tuple(issues), tuple(images))


def _read_drafts(lines: Sequence[str], first_line: int) -> tuple[list[_Draft], list[Issue]]:
    """Group the section's lines into question drafts."""
    drafts: list[_Draft] = []
    issues: list[Issue] = []
    for offset, line in enumerate(lines):
        number = first_line + offset
        if not line.strip():
            if drafts and drafts[-1].explanation:
                drafts[-1].explanation.append("")
            continue
        problem = _read_line(line, number, drafts)
        if problem:
            issues.append((number, problem, "error"))
    return drafts, issues


def _read_line(line: str, number: int, drafts: list[_Draft]) -> str | None:
    """Add one non-blank line to the drafts; return an error message when it fits nowhere."""
    if m := _QUESTION.match(line):
        drafts.append(_Draft(m.group(1), number, [(m.group(2) or "").strip()]))
        return None
    if not drafts:
        return "expected a numbered question such as '1. Which ...?'"
    draft = drafts[-1]
    if m := _OPTION.match(line):
        draft.options.append((m.group(1).lower(), (m.group(2) or "").strip(), number))
        return None
    if m := _EXPLAIN.match(line):
        draft.explanation_line = draft.explanation_line or number
        draft.explanation.append(m.group(1))
        return None
    if _BULLET.match(line):
        return "an option must start with '- [ ]', '- [x]' or '- [=]'"
    if not draft.options and not draft.explanation:
        draft.text.append(line.strip())  # a question text wrapped over several lines
        return None
    return ("unexpected text in a question: options start with '- [ ]', '- [x]' or '- [=]', "
            "the explanation with '>'")


def _digest(prefix: str, text: str, size: int) -> str:
    """Return a stable id from normalized text."""
    return prefix + hashlib.sha256(normalize_text(text).encode()).hexdigest()[:size]


def _build(draft: _Draft, asset_base: str, issues: list[Issue]) -> tuple[Question | None, list]:
    """Check a draft and turn it into a Question (None when it has errors)."""
    text = " ".join(t for t in draft.text if t)
    before = len(issues)
    if not text:
        issues.append((draft.line, "the question has no text", "error"))
    kind = _check_options(draft, issues)
    if len(issues) > before:
        return None, []
    rendered = render_inline(text, asset_base=asset_base)
    images = [(draft.line, p) for p in rendered.images]
    options, accepted = (), ()
    if kind == "text":
        accepted = tuple(t for _, t, _ in draft.options)
    else:
        options, option_images = _options(draft, asset_base)
        images.extend(option_images)
    explanation_html = ""
    if any(s.strip() for s in draft.explanation):
        explained = render_document("\n".join(draft.explanation).strip(), asset_base=asset_base)
        explanation_html = explained.html
        images.extend((draft.explanation_line, p) for p in explained.images)
    question = Question(_digest("q-", text, 10), kind, rendered.html, options, accepted,
                        explanation_html, draft.line)
    return question, images


def _options(draft: _Draft, asset_base: str) -> tuple[tuple[Option, ...], list]:
    """Render the choice options of a checked draft."""
    options, images = [], []
    for mark, text, line in draft.options:
        rendered = render_inline(text, asset_base=asset_base)
        images.extend((line, p) for p in rendered.images)
        options.append(Option(_digest("o-", text, 8), rendered.html, mark == "x"))
    return tuple(options), images


def _check_options(draft: _Draft, issues: list[Issue]) -> str:
    """Report option errors of a draft; return its kind."""
    if not draft.options:
        issues.append((draft.line, "the question has no options ('- [ ]', '- [x]' or '- [=]')",
                       "error"))
        return "single"
    seen: dict[str, int] = {}
    for mark, text, line in draft.options:
        if not text:
            issues.append((line, "empty option", "error"))
            continue
        key = normalize_text(text)
        if key in seen:
            issues.append((line, f"duplicate option (same text as line {seen[key]})", "error"))
        seen.setdefault(key, line)
    kinds = {"text" if mark == "=" else "choice" for mark, _, _ in draft.options}
    if len(kinds) > 1:
        first = draft.options[0][0] == "="
        mixed = next(ln for mark, _, ln in draft.options if (mark == "=") != first)
        issues.append((mixed, "'[=]' answers cannot be mixed with '[ ]'/'[x]' options in one "
                              "question", "error"))
        return "text"
    if kinds == {"text"}:
        return "text"
    correct = sum(1 for mark, _, _ in draft.options if mark == "x")
    if correct == 0:
        issues.append((draft.line, "no correct option: mark at least one with '[x]'", "error"))
    elif len(draft.options) < 2:
        issues.append((draft.line, "a choice question needs at least two options", "error"))
    return "single" if correct == 1 else "multiple"


def adopt_ids(translated: Quiz, default: Quiz) -> tuple[Quiz | None, int, str]:
    """Give a translated quiz the ids and settings of the default-language quiz.

    Ids then do not depend on the language a learner happened to read the quiz in.
    Returns (quiz, 0, "") or (None, line, message) when the two quizzes do not match.
    """
    if len(translated.questions) != len(default.questions):
        line = translated.questions[0].line if translated.questions else 0
        return None, line, (f"the translated quiz has {len(translated.questions)} questions, "
                            f"the default-language quiz {len(default.questions)}")
    questions = []
    for mine, theirs in zip(translated.questions, default.questions):
        shape = (mine.kind, [o.correct for o in mine.options])
        if shape != (theirs.kind, [o.correct for o in theirs.options]):
            return None, mine.line, ("this question does not match the default-language quiz "
                                     "(same kind, options and correct answers in the same order)")
        options = tuple(replace(o, id=t.id) for o, t in zip(mine.options, theirs.options))
        questions.append(replace(mine, id=theirs.id, options=options))
    return replace(default, questions=tuple(questions)), 0, ""


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """The grading of one question."""

    question_id: str
    correct: bool
    given: tuple[str, ...]
    expected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grade:
    """The grading of one quiz submission."""

    results: tuple[QuestionResult, ...]
    score: int
    total: int
    percent: int
    passed: bool

    def result(self, question_id: str) -> QuestionResult | None:
        """Return the result for one question, or None."""
        return next((r for r in self.results if r.question_id == question_id), None)


MAX_ANSWER_LENGTH = 2000


def grade(quiz: Quiz, answers: Mapping[str, Sequence[str]]) -> Grade:
    """Grade answers (question id -> submitted values) against the quiz; never raises."""
    results = tuple(_grade_question(q, _values(answers, q.id)) for q in quiz.questions)
    score = sum(1 for r in results if r.correct)
    total = len(results)
    percent = (200 * score + total) // (2 * total) if total else 0  # round half up
    return Grade(results, score, total, percent, score * 100 >= quiz.pass_mark * total)


def _values(answers: object, question_id: str) -> tuple[object, ...]:
    """Return the submitted values for a question as a tuple, whatever shape came in."""
    try:
        raw = answers.get(question_id) if isinstance(answers, Mapping) else None
    except Exception:  # a hostile Mapping: treat as unanswered
        return ()
    if raw is None:
        return ()
    if isinstance(raw, (str, bytes)):
        return (raw,)
    try:
        return tuple(raw)[:100]
    except TypeError:
        return (raw,)


def _grade_question(question: Question, values: tuple[object, ...]) -> QuestionResult:
    """Grade one question; anything unexpected earns no credit."""
    given = tuple(v for v in values if isinstance(v, str))
    well_formed = len(given) == len(values)
    if question.kind == "text":
        expected = question.accepted
        ok = well_formed and len(given) == 1 and len(given[0]) <= MAX_ANSWER_LENGTH \
            and normalize_text(given[0]) in {normalize_text(a) for a in expected}
    else:
        expected = question.correct_ids
        valid = {o.id for o in question.options}
        ok = well_formed and len(set(given)) == len(given) and set(given) <= valid \
            and set(given) == set(expected)
        if question.kind == "single":
            ok = ok and len(given) == 1
    return QuestionResult(question.id, bool(ok), given, expected)
