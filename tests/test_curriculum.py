"""The shipped curriculum keeps its shape: four courses in order, both languages, real lessons, real quizzes,
an assignment in every course, exams that keep their key, numbers graded as numbers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from coaching.content import load_catalog

CONTENT = Path(__file__).resolve().parent.parent / "content" / "lessons"


@pytest.fixture(scope="module")
def catalog():
    """The real content, loaded once."""
    return load_catalog(CONTENT)


COURSES = ("affiliate-program", "copywriting", "advertising-channels", "affiliate-management")
NUMBER_LIKE = re.compile(r"^[\s€$+-]*\d")


def test_content_check_is_clean(catalog):
    """`flask content check` reports no error and no warning (the quiz-writing hints included)."""
    assert [str(e) for e in catalog.errors] == []


def test_four_courses_in_order_foundations_first(catalog):
    """The four courses exist in the order they build on each other, are published and carry a 24-month
    certificate titled in both languages; German titles say Abschlusszertifikat."""
    assert [c.slug for c in catalog.published_courses()] == list(COURSES)
    for course in catalog.courses:
        assert course.certificate.validity_months == 24
        assert course.certificate_title("de").startswith("Abschlusszertifikat"), course.slug
        assert course.certificate_title("en") != course.certificate_title("de")
        assert set(course.texts) == {"en", "de"}


@pytest.mark.parametrize("slug", COURSES)
def test_course_shape(catalog, slug):
    """5 to 8 lessons ending with the exam; every lesson in both languages; reading lessons of 600-1,500 words with a
    real quiz and explanations; exactly one assignment with a task and 3-5 criteria in both languages."""
    course = catalog.course(slug)
    lessons = course.lessons
    assert 5 <= len(lessons) <= 8
    assert lessons[-1].exam and not any(lesson.exam for lesson in lessons[:-1])
    assignments = []
    for lesson in lessons:
        assert set(lesson.texts) == {"en", "de"}, lesson.slug
        work = {lang: text.assignment for lang, text in lesson.texts.items()}
        if work["en"] is not None:
            assignments.append(lesson.slug)
            assert work["de"] is not None and 3 <= len(work["en"].criteria) <= 5
            assert [c.id for c in work["de"].criteria] == [c.id for c in work["en"].criteria]
            assert all(len(c.text) <= 300 for w in work.values() for c in w.criteria)
            assert len(work["en"].task.split()) >= 60, (lesson.slug, "the task says what to produce, for whom")
        for lang, text in lesson.texts.items():
            quiz = text.quiz
            if quiz is None:
                assert work[lang] is not None, (lesson.slug, lang)  # only an assignment lesson may go without a quiz
                continue
            assert 600 <= text.words <= 1500, (lesson.slug, lang, text.words)
            assert len(quiz.questions) >= 3, (lesson.slug, lang)
            assert all(q.explanation_html.strip() for q in quiz.questions), (lesson.slug, lang)
        if lesson.texts["en"].quiz:
            assert len(lesson.texts["en"].quiz.questions) == len(lesson.texts["de"].quiz.questions)
    assert len(assignments) == 1, assignments
    assert len(lessons[-1].texts["en"].quiz.questions) >= 8


@pytest.mark.parametrize("slug", COURSES)
def test_quiz_settings(catalog, slug):
    """Exams limit attempts and keep the key (never or after_pass); practice quizzes show answers at once."""
    for lesson in catalog.course(slug).lessons:
        quiz = lesson.texts["en"].quiz
        if quiz is None:
            continue
        if lesson.exam:
            assert quiz.max_attempts and quiz.show_answers in ("never", "after_pass"), lesson.slug
        else:
            assert quiz.show_answers == "immediate", lesson.slug


def test_numeric_answers_are_graded_as_numbers(catalog):
    """Every accepted answer written as a number is a numeric key (so "0,15 €" and "€0.15" count)."""
    for course in catalog.courses:
        for lesson in course.lessons:
            for lang, text in lesson.texts.items():
                for question in (text.quiz.questions if text.quiz else ()):
                    if question.kind == "text" and any(NUMBER_LIKE.match(a) for a in question.accepted):
                        assert question.numbers, (course.slug, lesson.slug, lang, question.accepted)


def test_headings_start_at_level_two(catalog):
    """Lesson bodies start at ## under the title and never skip a level."""
    for course in catalog.courses:
        for lesson in course.lessons:
            for lang, text in lesson.texts.items():
                levels = [item.level for item in text.toc]
                assert not levels or levels[0] == 2, (lesson.slug, lang, levels[:3])
                assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), (lesson.slug, lang)


def test_german_uses_field_terms_and_one_register():
    """German lessons use the field's usual terms and address the reader formally throughout."""
    german = "\n".join(p.read_text("utf-8") for p in CONTENT.glob("*/*.de.md"))
    for term in ("Partnerprogramm", "Publisher", "Provision", "Werbemittel", "Conversion Rate"):
        assert term in german, term
    informal = re.findall(r"\b(du|dein|deine|deinen|deinem|deiner|dich)\b", german)
    assert len(informal) <= 3, f"informal address found {len(informal)} times"


def test_images_are_our_own_svgs_with_alt_text():
    """Every image a lesson uses is an SVG in the repository without scripts or remote references, with alt text."""
    for path in CONTENT.glob("*/*.md"):
        for alt, src in re.findall(r"!\[([^\]]*)\]\(([^)\s]+)", path.read_text("utf-8")):
            assert alt.strip(), f"{path}: image without alt text"
            image = path.parent / src
            assert image.suffix == ".svg" and image.is_file(), f"{path}: {src}"
            svg = image.read_text("utf-8")
            assert "<script" not in svg and "href=\"http" not in svg and "xlink:href=\"http" not in svg
