"""The `## Quiz` section of a lesson: a line-based parser (grading lives in `grading.py`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .catalog import SHOW_ANSWERS, Option, Question, Quiz
from .markdown import RenderContext
from .normalize import grade_normalize, id_normalize
from .numbers import NumberKey, agree, read_key
from .sections import cut_section

Issue = tuple[int, str, str]  # (line, message, severity)
normalize_text = id_normalize  # the old name, still used by callers for ids and answer grouping

_HEADING = re.compile(r"^ {0,3}##[ \t]+quiz[ \t]*#*[ \t]*$", re.IGNORECASE)
_QUESTION = re.compile(r"^ {0,3}(\d{1,4})[.)](?:[ \t]+(.*))?$")
_OPTION = re.compile(r"^[ \t]*[-*+][ \t]+\[([ xX=])\](?:[ \t]+(.*))?$")
_BULLET = re.compile(r"^[ \t]*[-*+][ \t]")
_EXPLAIN = re.compile(r"^[ \t]*>[ ]?(.*)$")


@dataclass(frozen=True, slots=True)
class Section:
    """A lesson body split around its quiz: prose (Markdown) and the quiz lines."""

    prose: str
    quiz_lines: tuple[str, ...] | None
    heading_line: int  # file line of `## Quiz`, 0 when there is none
    issues: tuple[Issue, ...] = ()


def split_quiz(body: str, body_line: int) -> Section:
    """Cut the `## Quiz` section (up to the next level-2 heading) out of a lesson body."""
    cut = cut_section(body, body_line, _HEADING, "a second '## Quiz' section; a lesson has one quiz")
    return Section(cut.prose, cut.lines, cut.heading_line, cut.issues)


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
class QuizSettings:
    """The settings of a quiz, from the default-language file's front matter."""

    pass_mark: int = 80
    max_attempts: int | None = None
    shuffle: bool = True
    show_answers: str = "after_pass"

    def __post_init__(self) -> None:
        """Refuse a setting the front matter reader would have refused."""
        if self.show_answers not in SHOW_ANSWERS:
            raise ValueError(f"show_answers must be one of {SHOW_ANSWERS}")


@dataclass(frozen=True, slots=True)
class ParsedQuiz:
    """The result of parsing a quiz section: the quiz (best effort), issues and images."""

    quiz: Quiz | None
    issues: tuple[Issue, ...]
    images: tuple[tuple[int, str], ...]  # (line, relative path)
    external_images: tuple[tuple[int, str], ...] = ()  # (line, address)


def parse_quiz(lines: Sequence[str], heading_line: int, *, context: RenderContext,
               settings: QuizSettings = QuizSettings(), lang: str = "en") -> ParsedQuiz:
    """Parse the lines after `## Quiz` (the heading is on file line `heading_line`).

    `lang` is the file's language: numeric answers (`- [=] 0,15 €`) are read in it.
    """
    drafts, issues = _read_drafts(lines, heading_line + 1)
    if not drafts and not issues:
        issues.append((heading_line, "the '## Quiz' section has no questions", "error"))
    questions, images, external = [], [], []
    seen: dict[str, int] = {}
    for draft in drafts:
        question, q_images, q_external = _build(draft, context, lang, issues)
        images.extend(q_images)
        external.extend(q_external)
        if question is None:
            continue
        if question.id in seen:
            issues.append((draft.line, f"duplicate question (same text as line {seen[question.id]})",
                           "error"))
            continue
        seen[question.id] = draft.line
        questions.append(question)
    quiz = (Quiz(tuple(questions), settings.pass_mark, settings.max_attempts, settings.shuffle,
                 settings.show_answers, lang) if questions else None)
    return ParsedQuiz(quiz, tuple(issues), tuple(images), tuple(external))


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
    """Return a stable id from normalized text (the id normaliser is frozen: ids must not move)."""
    return prefix + hashlib.sha256(id_normalize(text).encode()).hexdigest()[:size]


def _build(draft: _Draft, context: RenderContext, lang: str,
           issues: list[Issue]) -> tuple[Question | None, list, list]:
    """Check a draft and turn it into a Question (None when it has errors)."""
    text = " ".join(t for t in draft.text if t)
    before = len(issues)
    if not text:
        issues.append((draft.line, "the question has no text", "error"))
    kind = _check_options(draft, issues)
    numbers = _numbers(draft, lang, issues) if kind == "text" else ()
    if any(severity == "error" for _, _, severity in issues[before:]):
        return None, [], []
    rendered = context.inline(text)
    images = [(draft.line, p) for p in rendered.images]
    external = [(draft.line, u) for u in rendered.external_images]
    options, accepted = (), ()
    if kind == "text":
        accepted = tuple(t for _, t, _ in draft.options)
    else:
        options = _options(draft, context, images, external)
    explanation_html = ""
    if any(s.strip() for s in draft.explanation):
        explained = context.document("\n".join(draft.explanation).strip())
        explanation_html = explained.html
        images.extend((draft.explanation_line, p) for p in explained.images)
        external.extend((draft.explanation_line, u) for u in explained.external_images)
    question = Question(_digest("q-", text, 10), kind, rendered.html, options, accepted,
                        explanation_html, draft.line, numbers)
    return question, images, external


def _options(draft: _Draft, context: RenderContext, images: list, external: list) -> tuple[Option, ...]:
    """Render the choice options of a checked draft, collecting their images."""
    options = []
    for mark, text, line in draft.options:
        rendered = context.inline(text)
        images.extend((line, p) for p in rendered.images)
        external.extend((line, u) for u in rendered.external_images)
        options.append(Option(_digest("o-", text, 8), rendered.html, mark == "x"))
    return tuple(options)


def _numbers(draft: _Draft, lang: str, issues: list[Issue]) -> tuple[NumberKey, ...]:
    """Read the numeric answers of a text question; report broken ones and ones that disagree."""
    keys: list[tuple[NumberKey, int]] = []
    for _, text, line in draft.options:
        if not text:
            continue
        key, problem = read_key(text, lang)
        if problem:
            issues.append((line, f"numeric answer '{text[:60]}': {problem}", "error"))
        elif key is not None:
            keys.append((key, line))
        elif not grade_normalize(text):
            issues.append((line, "this answer is empty once quotes and punctuation are ignored", "error"))
    if not keys:
        return ()
    other = "en" if lang == "de" else "de"
    # The reference is the first key that reads the same in both languages ("1600", not "1.600").
    reference, ref_line = next(((k, ln) for k, ln in keys if _same_in(k, other)), keys[0])
    kept = []
    for key, line in keys:
        if key is reference or agree(reference, key):
            kept.append(key)
            continue
        alternative, _ = read_key(key.text, other)
        if alternative is not None and agree(reference, alternative):
            issues.append((line, f"'{key.text[:40]}' is {_plain(key)} in a file in {_LANGUAGE[lang]}, not "
                                 f"{_plain(alternative)}: it is accepted only exactly as written", "warning"))
            continue  # stays an accepted answer, compared as text
        issues.append((line, f"the numeric answer '{key.text[:40]}' does not agree with '{reference.text[:40]}' "
                             f"on line {ref_line}: numbers of one question must mean the same (equal, rounded, "
                             "or within the tolerance, in the same unit)", "error"))
    return tuple(kept)


_LANGUAGE = {"en": "English", "de": "German"}


def _same_in(key: NumberKey, lang: str) -> bool:
    """Return True when a key means the same read in `lang` too."""
    alternative, _ = read_key(key.text, lang)
    return alternative is not None and alternative.canonical == key.canonical


def _plain(key: NumberKey) -> str:
    """Return a key's value without unit, as plain digits."""
    return format(key.value.normalize(), "f")


def _check_options(draft: _Draft, issues: list[Issue]) -> str:
    """Report option errors of a draft; return its kind."""
    if not draft.options:
        issues.append((draft.line, "the question has no options ('- [ ]', '- [x]' or '- [=]')",
                       "error"))
        return "single"
    seen: dict[str, int] = {}
    looks: dict[str, int] = {}
    for mark, text, line in draft.options:
        if not text:
            issues.append((line, "empty option", "error"))
            continue
        key, look = id_normalize(text), grade_normalize(text)
        if key in seen:
            issues.append((line, f"duplicate option (same text as line {seen[key]})", "error"))
        elif look in looks and mark != "=":
            issues.append((line, f"this option reads the same as the one on line {looks[look]} "
                                 "(only case, quotes, dashes or punctuation differ)", "warning"))
        seen.setdefault(key, line)
        looks.setdefault(look, line)
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

    Ids then do not depend on the language a learner happened to read the quiz in; the translated
    quiz keeps its own text answers and numbers (read in its language), which must agree with the
    default-language numbers. Returns (quiz, 0, "") or (None, line, message) when the two quizzes
    do not match.
    """
    if len(translated.questions) != len(default.questions):
        line = translated.questions[0].line if translated.questions else 0
        return None, line, (f"the translated quiz has {len(translated.questions)} questions, "
                            f"the default-language quiz {len(default.questions)}")
    questions = []
    for mine, theirs in zip(translated.questions, default.questions, strict=True):
        shape = (mine.kind, [o.correct for o in mine.options])
        if shape != (theirs.kind, [o.correct for o in theirs.options]):
            return None, mine.line, ("this question does not match the default-language quiz "
                                     "(same kind, options and correct answers in the same order)")
        problem = _numbers_differ(mine.numbers, theirs.numbers)
        if problem:
            return None, mine.line, problem
        options = tuple(replace(o, id=t.id) for o, t in zip(mine.options, theirs.options, strict=True))
        questions.append(replace(mine, id=theirs.id, options=options))
    return replace(default, questions=tuple(questions), lang=translated.lang), 0, ""


def _numbers_differ(mine: tuple[NumberKey, ...], theirs: tuple[NumberKey, ...]) -> str | None:
    """Return a message when a translated question's numbers do not mean the default-language ones."""
    if not mine and not theirs:
        return None
    if not theirs:
        return "this question accepts a number, the default-language question does not"
    if not mine:
        return f"the default-language question accepts the number '{theirs[0].text[:40]}': accept it here too"
    for key in mine:
        if not any(agree(t, key) for t in theirs):
            return (f"the numeric answer '{key.text[:40]}' does not agree with the default-language "
                    f"answer '{theirs[0].text[:40]}'")
    return None
