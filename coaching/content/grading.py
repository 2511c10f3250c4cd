"""Server-side grading of a quiz submission, and the per-person order of the options.

Both are pure and total: `grade` never raises, whatever shape the answers come in.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .catalog import Question, Quiz
from .normalize import grade_normalize
from .numbers import parse_number

MAX_ANSWER_LENGTH = 2000


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


def grade(quiz: Quiz, answers: Mapping[str, Sequence[str]], lang: str | None = None) -> Grade:
    """Grade answers (question id -> submitted values) against the quiz; never raises.

    `lang` is the language of the lesson text the person was shown (default: the quiz's own): a
    typed number is read in it, so "1,500" is 1500 in English and 1.5 in German.
    """
    lang = lang if lang in ("en", "de") else quiz.lang
    results = tuple(_grade_question(q, _values(answers, q.id), lang) for q in quiz.questions)
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


def _grade_question(question: Question, values: tuple[object, ...], lang: str) -> QuestionResult:
    """Grade one question; anything unexpected earns no credit."""
    given = tuple(v for v in values if isinstance(v, str))
    well_formed = len(given) == len(values)
    if question.kind == "text":
        expected = question.accepted
        ok = well_formed and len(given) == 1 and len(given[0]) <= MAX_ANSWER_LENGTH \
            and text_answer_ok(question, given[0], lang)
    else:
        expected = question.correct_ids
        valid = {o.id for o in question.options}
        ok = well_formed and len(set(given)) == len(given) and set(given) <= valid \
            and set(given) == set(expected)
        if question.kind == "single":
            ok = ok and len(given) == 1
    return QuestionResult(question.id, bool(ok), given, expected)


def text_answer_ok(question: Question, answer: str, lang: str) -> bool:
    """Return True when a typed answer equals a text key (forgivingly) or a numeric key (as a number)."""
    typed = grade_normalize(answer)
    if not typed:
        return False
    if typed in question.graded_texts:
        return True
    if question.numbers:
        number = parse_number(answer, lang)
        return number is not None and any(key.accepts(number) for key in question.numbers)
    return False


def order_seed(person: object, quiz_version: str, question_id: str) -> str:
    """Return the seed of one person's option order for one question of one quiz version."""
    return f"{person}:{quiz_version}:{question_id}"


def option_order(quiz: Quiz, question: Question, seed: str) -> tuple[str, ...]:
    """Return the option ids of `question` in the order this seed shows them.

    With `shuffle: false` the author's order; otherwise a shuffle that depends only on the seed (use
    `order_seed(person, quiz.version, question.id)`), so a reload shows the same order. Text
    questions have no options: ().
    """
    ids = [option.id for option in question.options]
    if quiz.shuffle and len(ids) > 1:
        number = int.from_bytes(hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()[:8], "big")
        random.Random(number).shuffle(ids)
    return tuple(ids)
