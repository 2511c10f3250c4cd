"""Question analysis of a quiz: share right, most chosen wrong answers, discrimination, per quiz version."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, func, not_, or_, select, true

from ...content import Lesson, LessonText, Question, normalize_text
from ...extensions import db
from ...models import QuizAttempt
from ..quizzes import graded_with

UPPER_LOWER_SHARE = 0.27
MAX_DISTINCT_TEXT_ANSWERS = 2000  # bounds memory when counting free-text wrong answers

@dataclass
class QuestionStats:
    """Item statistics of one question over the attempts on one quiz version."""

    number: int
    question: Question
    answered: int = 0
    right: int = 0
    upper_right: int = 0
    lower_right: int = 0
    group_size: int = 0
    wrong_options: Counter = field(default_factory=Counter)
    wrong_texts: Counter = field(default_factory=Counter)

    @property
    def percent_right(self) -> int | None:
        """Share of attempts that answered right, in percent."""
        return round(100 * self.right / self.answered) if self.answered else None

    @property
    def discrimination(self) -> float | None:
        """Upper-lower index D = (right in top 27%) - (right in bottom 27%), as shares; -1 to 1."""
        if not self.group_size:
            return None
        return round((self.upper_right - self.lower_right) / self.group_size, 2)

    @property
    def discrimination_label(self) -> str:
        """Ebel's reading of D: good, fair, review, or none."""
        d = self.discrimination
        if d is None:
            return "none"
        return "good" if d >= 0.3 else "fair" if d >= 0.2 else "review"

    def _top_wrong(self) -> tuple[str, int] | None:
        """The most frequent wrong answer (option id or folded text) and its count."""
        counter = self.wrong_options if self.question.kind != "text" else self.wrong_texts
        if not counter:
            return None
        # Ties go to the option listed first / the alphabetically first text, so results are stable.
        order = {o.id: i for i, o in enumerate(self.question.options)}
        return min(counter.items(), key=lambda item: (-item[1], order.get(item[0], 0), item[0]))

    @property
    def top_wrong_html(self) -> str | None:
        """The sanitised HTML of the most chosen wrong option (choice questions)."""
        top = self._top_wrong() if self.question.kind != "text" else None
        option = next((o for o in self.question.options if top and o.id == top[0]), None)
        return option.html if option else None

    @property
    def top_wrong_text(self) -> str | None:
        """The most frequent wrong free-text answer (plain text; escape when shown)."""
        top = self._top_wrong() if self.question.kind == "text" else None
        return top[0] if top else None

    @property
    def top_wrong_count(self) -> int:
        """How often the most frequent wrong answer was given."""
        top = self._top_wrong()
        return top[1] if top else 0


@dataclass(frozen=True)
class VersionAnalysis:
    """The analysis of one language version of a quiz (attempts graded with its current text)."""

    lang: str
    version: str  # the quiz version (what the quiz means), not the file's hash
    attempts: int
    group_size: int
    questions: list[QuestionStats]


def upper_lower_size(attempts: int) -> int:
    """The size of the upper and of the lower group: 27% of the attempts, rounded, at least 1 (if 2+)."""
    if attempts < 2:
        return 0
    return max(1, round(UPPER_LOWER_SHARE * attempts))


def question_analysis(course_slug: str, lesson: Lesson) -> tuple[list[VersionAnalysis], int]:
    """Per current language version with attempts: item statistics; plus the attempts on older versions."""
    versions = []
    for lang in lesson.languages:
        text = lesson.texts[lang]
        if text.quiz is None:
            continue
        version = _analyse_version(course_slug, lesson.slug, text)
        if version.attempts:
            versions.append(version)
    current = [graded_with(lesson.texts[lang]) for lang in lesson.languages if lesson.texts[lang].quiz]
    older = db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.course_slug == course_slug, QuizAttempt.lesson_slug == lesson.slug,
        not_(or_(*current)) if current else true())) or 0
    return versions, older


def _version_filter(course_slug: str, lesson_slug: str, text: LessonText) -> list[Any]:
    """WHERE conditions for the attempts graded with one lesson text."""
    return [QuizAttempt.course_slug == course_slug, QuizAttempt.lesson_slug == lesson_slug,
            QuizAttempt.language == text.lang, graded_with(text)]


def _analyse_version(course_slug: str, lesson_slug: str, text: LessonText) -> VersionAnalysis:
    """Item statistics from attempts grouped in SQL by (score, answers, results): every attempt counts once,
    whatever the number of attempts, with Python reading each distinct answer sheet once.

    The upper group is the top 27% by score (earlier attempt first on ties), the lower group the bottom 27%
    (later attempt first on ties). Whole score groups come from the grouped rows; only the score group a
    boundary cuts through is read again, ordered by attempt id, to take the attempts that fall inside.
    """
    assert text.quiz is not None
    where = _version_filter(course_slug, lesson_slug, text)
    stats = [QuestionStats(i, q) for i, q in enumerate(text.quiz.questions, start=1)]
    answers_text, results_text = cast(QuizAttempt.answers, Text), cast(QuizAttempt.results, Text)
    sheets = select(QuizAttempt.score, answers_text, results_text, func.count()).where(*where).group_by(
        QuizAttempt.score, answers_text, results_text)
    by_score: dict[int, list[tuple[dict, int]]] = {}
    count = 0
    for score, answers, results, n in _stream(sheets):
        answers, results = _json(answers), _json(results)
        count += n
        by_score.setdefault(score, []).append((results, n))
        for item in stats:
            _tally(item, answers, results, n)
    k = upper_lower_size(count)
    if k:
        _group(stats, where, by_score, k, upper=True)
        _group(stats, where, by_score, k, upper=False)
        for item in stats:
            item.group_size = k
    return VersionAnalysis(text.lang, text.quiz.version, count, k, stats)


def _group(stats: list[QuestionStats], where: list[Any], by_score: dict[int, list[tuple[dict, int]]], k: int, *,
           upper: bool) -> None:
    """Count the right answers of the upper (or lower) group of k attempts into the questions' statistics."""
    taken = 0
    for score in sorted(by_score, reverse=upper):
        in_score = sum(n for _results, n in by_score[score])
        if taken + in_score <= k:  # the whole score group is inside
            for results, n in by_score[score]:
                _right_in_group(stats, results, n, upper=upper)
            taken += in_score
            if taken == k:
                return
            continue
        # The boundary cuts this score group: the earliest (upper) or latest (lower) attempts are inside.
        order = QuizAttempt.id if upper else QuizAttempt.id.desc()
        inside = select(QuizAttempt.results).where(*where, QuizAttempt.score == score).order_by(order).limit(
            k - taken).subquery()
        results_text = cast(inside.c.results, Text)
        for results, n in _stream(select(results_text, func.count()).group_by(results_text)):
            _right_in_group(stats, _json(results), n, upper=upper)
        return


def _right_in_group(stats: list[QuestionStats], results: dict, n: int, *, upper: bool) -> None:
    """Add n attempts with these results to the upper or lower group's right answers."""
    for item in stats:
        if results.get(item.question.id):
            if upper:
                item.upper_right += n
            else:
                item.lower_right += n


def _json(value: str | None) -> dict:
    """A stored JSON object read back as text (empty for NULL or anything but an object)."""
    parsed = json.loads(value) if value else None
    return parsed if isinstance(parsed, dict) else {}


def _stream(query: Any, chunk: int = 1000) -> Iterator[Any]:
    """Rows of a query fetched `chunk` at a time (constant memory)."""
    yield from db.session.execute(query.execution_options(yield_per=chunk))


def _tally(item: QuestionStats, answers: dict, results: dict, n: int = 1) -> None:
    """Count n attempts with the same answer to one question."""
    qid = item.question.id
    if qid not in results:
        return
    item.answered += n
    if results[qid]:
        item.right += n
        return
    values = answers.get(qid) or []
    if item.question.kind == "text":
        for value in values[:1]:
            key = normalize_text(str(value))[:200]
            if key in item.wrong_texts or len(item.wrong_texts) < MAX_DISTINCT_TEXT_ANSWERS:
                item.wrong_texts[key] += n
        return
    correct = set(item.question.correct_ids)
    valid = {o.id for o in item.question.options}
    for value in values:
        if value in valid and value not in correct:
            item.wrong_options[value] += n
