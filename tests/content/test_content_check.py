"""What `flask content check` and the content page report: one message per problem, the same in both."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching.content import ContentStore, check_path, grade, load_catalog

from .helpers import PNG, course_md, lesson_md, make_course, messages, write

QUIZ = "## Quiz\n\n1. Which?\n   - [ ] a\n   - [x] b\n   - [ ] c\n"


def test_translation_of_a_broken_original_says_so_the_same_way_everywhere(content):
    """Fresh (the CLI) or while an older version is served (the content page): one and the same message."""
    make_course(content, lessons={"01-a.md": lesson_md("A", body=QUIZ), "01-a.de.md": lesson_md("A de", body=QUIZ)})
    store = ContentStore(content, reload_seconds=3600)
    served = store.catalog
    assert served.course("c").lesson("a").languages == ("en", "de")
    write(content, "c/01-a.md", lesson_md("A broken", body=QUIZ.replace("[x]", "[ ]")))
    write(content, "c/01-a.de.md", lesson_md("A de new", body=QUIZ))
    page = store.reload()
    cli = load_catalog(content)
    expected = "lessons/c/01-a.de.md:1: not published: 01-a.md has errors"
    assert expected in messages(page) and expected in messages(cli)
    assert [e for e in messages(page) if "01-a.de.md" in e] == [e for e in messages(cli) if "01-a.de.md" in e]
    assert cli.course("c").lesson("a") is None
    # The site keeps serving the last good pair, not the new translation beside the old original.
    texts = page.course("c").lesson("a").texts
    assert (texts["en"].title, texts["de"].title) == ("A", "A de")


def test_duplicate_course_order_is_a_warning(content):
    """Two courses with the same order: a warning at the second one's order line."""
    make_course(content, "alpha", order=3)
    make_course(content, "beta", order=3)
    make_course(content, "gamma", order=4)
    catalog = load_catalog(content)
    assert messages(catalog, "warning") == ["lessons/beta/course.md:4: warning: order 3 is also the order of "
                                            "course 'alpha': give each course its own"]
    assert [c.slug for c in catalog.courses] == ["alpha", "beta", "gamma"]


def test_external_images_in_lessons_and_quizzes(content):
    """Each external image is a warning at its line; the page never shows it unless the course allows it."""
    body = ("Text\n\n![x](https://evil.example/x.png)\n\n## Quiz\n\n1. Which? ![q](//evil.example/q.png)\n"
            "   - [ ] a\n   - [x] b ![o](https://evil.example/o.png)\n   - [ ] c\n\n"
            "   > See ![e](https://evil.example/e.png)\n")
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    catalog = load_catalog(content)
    found = messages(catalog, "warning")
    assert [w.split(": warning: ")[0] for w in found] == ["lessons/c/01-a.md:8", "lessons/c/01-a.md:12",
                                                          "lessons/c/01-a.md:14", "lessons/c/01-a.md:17"]
    assert all("image from another site removed" in w for w in found)
    text = catalog.course("c").lesson("a").texts["en"]
    everything = text.html + "".join(q.html + q.explanation_html + "".join(o.html for o in q.options)
                                     for q in text.quiz.questions)
    assert "evil.example" not in everything
    make_course(content, course=course_md(extra="allow_external_images: true\n"),
                lessons={"01-a.md": lesson_md(body=body)})
    catalog = load_catalog(content)
    assert all("allowed by allow_external_images" in w for w in messages(catalog, "warning"))
    assert catalog.course("c").external_images
    assert 'src="https://evil.example/x.png"' in catalog.course("c").lesson("a").texts["en"].html


def test_external_image_in_a_course_description(content):
    """course.md's description is checked too."""
    make_course(content, course=course_md() + "\n![logo](https://evil.example/l.png)\n")
    assert messages(load_catalog(content), "warning")[0].startswith("lessons/c/course.md:8: warning: image from "
                                                                    "another site removed")


# -- check_path ---------------------------------------------------------------------------------

@pytest.fixture
def two_courses(content):
    """Two courses, one with an images/ folder and one broken lesson."""
    folder = make_course(content, "one", lessons={"01-a.md": lesson_md(body="![x](images/x.png)"),
                                                  "02-b.md": lesson_md(body=QUIZ.replace("[x]", "[ ]"))})
    write(folder, "images/x.png", PNG)
    make_course(content, "two", order=2, lessons={"01-c.md": lesson_md(extra="colour: red\n")})
    return content


def test_check_the_whole_folder(two_courses):
    """The lessons folder: every course."""
    report = check_path(two_courses)
    assert (report.courses, report.lessons, report.errors, report.warnings) == (2, 2, 1, 1)
    assert report.summary() == "2 courses, 2 lessons: 1 errors, 1 warnings"


def test_check_one_course_folder(two_courses):
    """A course folder: that course only; its images/ folder is not a course."""
    report = check_path(two_courses / "one")
    assert [str(p) for p in report.problems] == [
        "lessons/one/02-b.md:8: no correct option: mark at least one with '[x]'"]
    assert report.summary() == "1 courses, 1 lessons: 1 errors, 0 warnings"


def test_check_one_file(two_courses):
    """A file: its problems in the context of its course."""
    bad = check_path(two_courses / "one" / "02-b.md")
    assert [str(p) for p in bad.problems] == ["lessons/one/02-b.md:8: no correct option: mark at least one with '[x]'"]
    assert bad.summary() == "1 file (not published): 1 errors, 0 warnings"
    good = check_path(two_courses / "one" / "01-a.md")  # its image is found in its course folder
    assert good.problems == () and good.summary() == "1 file (published): 0 errors, 0 warnings"
    assert check_path(two_courses / "two" / "course.md").summary() == "1 file (published): 0 errors, 0 warnings"
    other = check_path(two_courses / "one" / "images" / "x.png")
    assert other.errors == 1 and "not a content file" in str(other.problems[0])


def test_check_a_file_of_a_folder_without_course_md(content):
    """A lesson whose folder has no course.md is told so."""
    write(content, "orphans/01-a.md", lesson_md())
    report = check_path(content / "orphans" / "01-a.md")
    assert [str(p) for p in report.problems] == ["lessons/orphans:0: missing course.md: the lessons in this folder "
                                                 "have no course"]


answer_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                      min_size=1, max_size=60)


@given(st.lists(answer_text, min_size=1, max_size=4), st.lists(answer_text, min_size=1, max_size=3),
       st.sampled_from(["en", "de"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_accepted_answers_load_or_report(content, keys, typed, lang):
    """Whatever the [=] lines hold, loading reports problems with lines and grading answers; nothing raises."""
    body = "## Quiz\n\n1. How much?\n" + "".join(f"   - [=] {k.strip() or 'x'}\n" for k in keys)
    make_course(content, course=course_md(extra=f"language: {lang}\n"), lessons={"01-a.md": lesson_md(body=body)})
    catalog = load_catalog(content)
    assert all(e.line >= 1 for e in catalog.errors)
    lesson = catalog.course("c").lesson("a")
    if lesson is not None:
        quiz = lesson.texts[lang].quiz
        for value in typed:
            assert grade(quiz, {quiz.questions[0].id: [value]}, lang).total == 1
