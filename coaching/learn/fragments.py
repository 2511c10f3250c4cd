"""The parts of a lesson page that are the same for everyone, rendered once per content version.

A lesson page shows a person's state (done, attempts left, best result, their option order, their answers),
so the page itself is rendered per request. Its largest parts are not personal: the table of contents, the
lesson header, the navigation, and every question's and option's HTML. They are rendered here from the macros
of templates/learn/_lesson_parts.html and kept in a per-app cache whose key names everything they depend on:
the catalog's fingerprint (any content change), the course, the lesson, the text's language and the interface
language. The page then puts them in each person's order; no write ever has to clear anything.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import get_template_attribute
from markupsafe import Markup

from ..caches import app_cache
from ..content import Course, Lesson, LessonText, Question

PARTS = "learn/_lesson_parts.html"


@dataclass(frozen=True)
class QuestionParts:
    """One question's form HTML: its opening, each option (unchecked), its closing."""

    opening: str
    options: Mapping[str, str]
    closing: str


@dataclass(frozen=True)
class LessonParts:
    """The shared parts of one lesson page in one interface language."""

    toc: Markup
    head_meta: Markup
    nav: Markup
    questions: Mapping[str, QuestionParts]

    def quiz_form(self, questions: Sequence[tuple[Question, Sequence[Any]]]) -> Markup:
        """The quiz's questions in a person's option order (a form shown for the first time: nothing ticked)."""
        html = []
        for question, options in questions:
            parts = self.questions[question.id]
            html.append(parts.opening)
            html.extend(parts.options[option.id] for option in options)
            html.append(parts.closing)
        return Markup("".join(html))


def lesson_parts(fingerprint: str, course: Course, lesson: Lesson, text: LessonText, lang: str) -> LessonParts:
    """The shared parts of a lesson page (from the cache when this content version was rendered before)."""
    key = (fingerprint, course.slug, lesson.slug, text.lang, lang)
    return app_cache("lesson-parts", 2048).get_or_compute(key, lambda: _render(course, lesson, text, lang))


def _render(course: Course, lesson: Lesson, text: LessonText, lang: str) -> LessonParts:
    """Render every shared part once."""
    def macro(name: str) -> Any:
        return get_template_attribute(PARTS, name)

    option, opening, closing, text_answer = (macro("option"), macro("question_open"), macro("question_close"),
                                             macro("text_answer"))
    questions = {}
    for number, question in enumerate(text.quiz.questions if text.quiz else (), start=1):
        if question.kind == "text":
            options, head = {}, str(opening(question, number)) + str(text_answer(question, number))
        else:
            options, head = {o.id: str(option(question, o)) for o in question.options}, str(opening(question, number))
        questions[question.id] = QuestionParts(head, options, str(closing(question)))
    return LessonParts(
        toc=Markup(macro("toc")(text, text.assignment is not None, text.quiz is not None)),
        head_meta=Markup(macro("head_meta")(course, lesson, text)),
        nav=Markup(macro("nav")(course, course.previous_lesson(lesson.slug), course.next_lesson(lesson.slug), lang)),
        questions=questions,
    )
