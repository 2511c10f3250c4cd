"""load_catalog(): the example course, layout rules and every bad-input case."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coaching.content import Catalog, grade, load_catalog

from .helpers import FIXTURES, PNG, QUIZ, course_md, lesson_md, make_course, messages, write


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The example course from the fixtures."""
    return load_catalog(FIXTURES.resolve())


def test_example_course_loads_cleanly(catalog):
    """The example course has no errors or warnings."""
    assert [str(e) for e in catalog.errors] == []
    course = catalog.course("example-course")
    assert [lesson.slug for lesson in course.lessons] == ["how-tracking-works", "check-your-knowledge"]
    assert [lesson.order for lesson in course.lessons] == [1, 2]
    assert (course.order, course.language, course.published, course.pass_mark) == (1, "en", True, 80)
    assert course.total_minutes == 7
    assert course.path == (FIXTURES / "example-course").resolve()


def test_example_course_texts_and_certificate(catalog):
    """Course texts and certificate titles exist per language."""
    course = catalog.course("example-course")
    assert course.text("de").title == "Tracking-Links in fünf Minuten"
    assert course.text("fr").title == "Tracking links in five minutes"
    assert course.certificate_title("en") == "Certificate of completion: Tracking links"
    assert course.certificate_title("de") == "Teilnahmezertifikat: Tracking-Links"
    assert course.certificate.titles["de"] == "Teilnahmezertifikat: Tracking-Links"
    assert course.certificate.validity_months == 24
    assert course.certificate.logo == (FIXTURES / "example-course/images/logo.png").resolve()
    assert "<p>This example course" in course.text("en").description_html


def test_lesson_language_fallback_and_toc(catalog):
    """A missing language falls back to the default one; toc and words are filled."""
    lesson = catalog.course("example-course").lesson("how-tracking-works")
    assert lesson.languages == ("en", "de")
    de, fell_back = lesson.text("de")
    assert (de.title, fell_back) == ("So funktioniert ein Tracking-Link", False)
    fr, fell_back = lesson.text("fr")
    assert (fr.lang, fell_back) == ("en", True)
    assert [(t.level, t.anchor) for t in fr.toc] == [(2, "the-three-steps"), (2, "numbers-to-watch")]
    assert 100 < fr.words < 250
    assert fr.path == "examples/example-course/01-how-tracking-works.md"
    assert 'src="/courses/example-course/assets/images/click-path.svg"' in fr.html
    assert fr.quiz is None and len(fr.content_hash) == 64


def test_navigation(catalog):
    """next/previous lesson and lookups."""
    course = catalog.course("example-course")
    assert course.next_lesson("how-tracking-works").slug == "check-your-knowledge"
    assert course.next_lesson("check-your-knowledge") is None
    assert course.previous_lesson("check-your-knowledge").slug == "how-tracking-works"
    assert course.previous_lesson("how-tracking-works") is None
    assert course.lesson("nope") is None and course.next_lesson("nope") is None
    assert catalog.course("nope") is None


def test_quiz_settings_and_translated_ids(catalog):
    """Quiz settings come from the default file; the German quiz shares its ids."""
    lesson = catalog.course("example-course").lesson("check-your-knowledge")
    assert lesson.exam
    en, de = lesson.texts["en"].quiz, lesson.texts["de"].quiz
    assert (en.pass_mark, en.max_attempts, en.shuffle, en.show_answers) == (60, 3, True, "after_pass")
    assert (de.pass_mark, de.max_attempts, de.shuffle, de.show_answers) == (60, 3, True, "after_pass")
    assert (en.lang, de.lang) == ("en", "de")
    assert [q.kind for q in en.questions] == ["single", "multiple", "text", "text"]
    assert [q.id for q in de.questions] == [q.id for q in en.questions]
    assert [o.id for o in de.questions[0].options] == [o.id for o in en.questions[0].options]
    answers = {q.id: list(q.correct_ids) for q in en.questions[:2]}
    answers[en.questions[2].id] = ["Verdienst pro Klick"]
    answers[en.questions[3].id] = ["0,15 €"]
    assert grade(de, answers).score == 4
    assert grade(en, answers).score == 3  # the German text answer is accepted in German only


def test_fingerprints(catalog, example):
    """Course fingerprints change with published lesson content, not with course.md."""
    course = catalog.course("example-course")
    copy = load_catalog(example).course("example-course")
    assert copy.fingerprint == course.fingerprint
    (example / "example-course/course.md").write_text(course_md(), encoding="utf-8")
    assert load_catalog(example).course("example-course").fingerprint == course.fingerprint
    lesson = example / "example-course/01-how-tracking-works.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    changed = load_catalog(example)
    assert changed.course("example-course").fingerprint != course.fingerprint
    assert changed.fingerprint != catalog.fingerprint


def test_file_statuses(catalog):
    """Every file is listed with its hash, language and preview."""
    files = {f.path.split("/")[-1]: f for f in catalog.files}
    assert sorted(files) == ["01-how-tracking-works.de.md", "01-how-tracking-works.md",
                             "02-check-your-knowledge.de.md", "02-check-your-knowledge.md",
                             "course.de.md", "course.md"]
    status = files["01-how-tracking-works.de.md"]
    assert (status.course_slug, status.lesson_slug, status.lang, status.ok) == (
        "example-course", "how-tracking-works", "de", True)
    assert status.preview.title == "So funktioniert ein Tracking-Link" and status.mtime > 0
    assert files["course.md"].lesson_slug is None and files["course.md"].preview is None


def test_published_and_order(content):
    """Courses sort by order; unpublished ones are in `courses` but not published_courses()."""
    make_course(content, "b-course", order=1)
    make_course(content, "a-course", order=2)
    make_course(content, "hidden", course=course_md(3, "published: false\n"))
    catalog = load_catalog(content)
    assert [c.slug for c in catalog.courses] == ["b-course", "a-course", "hidden"]
    assert [c.slug for c in catalog.published_courses()] == ["b-course", "a-course"]


def test_course_language_de(content):
    """With `language: de`, files without suffix are German and `.en.md` is English."""
    make_course(content, course=course_md(extra="language: de\n"),
                lessons={"01-a.md": lesson_md("Deutsch"), "01-a.en.md": lesson_md("English")})
    lesson = load_catalog(content).course("c").lesson("a")
    assert lesson.languages == ("de", "en")
    assert lesson.text("fr")[0].title == "Deutsch"


# -- bad input ------------------------------------------------------------------------------

def served(catalog, slug="c"):
    """Return the served lesson slugs of a course."""
    return [lesson.slug for lesson in catalog.course(slug).lessons]


def test_missing_course_md(content):
    """Lessons without course.md: an error for the folder, other courses still load."""
    write(content, "orphans/01-a.md", lesson_md())
    make_course(content, lessons={"01-a.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/orphans:0: missing course.md: the lessons in this "
                                 "folder have no course"]
    assert [c.slug for c in catalog.courses] == ["c"]


@pytest.mark.parametrize("name", ["Bad Course", "a..b", "x.y", "UPPER", "under_score", "-lead"])
def test_bad_course_folder_names(content, name):
    """A folder name that is not a slug is refused."""
    make_course(content, name)
    make_course(content, "ok")
    catalog = load_catalog(content)
    assert messages(catalog) == [f"lessons/{name}:0: '{name}' is not a valid course folder name "
                                 "(lowercase letters, digits and single hyphens)"]
    assert [c.slug for c in catalog.courses] == ["ok"]


@pytest.mark.parametrize("name, message", [
    ("1-a.md", "not a lesson file name: use NN-slug.md or NN-slug.de.md (NN = two or more digits)"),
    ("notes.md", "not a lesson file name: use NN-slug.md or NN-slug.de.md (NN = two or more digits)"),
    ("01-..md", "'.' is not a valid lesson slug (lowercase letters, digits and single hyphens)"),
    ("01-a..b.md", "'a..b' is not a valid lesson slug (lowercase letters, digits and single hyphens)"),
    ("01-Big.md", "'Big' is not a valid lesson slug (lowercase letters, digits and single hyphens)"),
    ("01-a.fr.md", "unsupported language '.fr' (use one of en, de)"),
])
def test_bad_lesson_file_names(content, name, message):
    """File names that do not follow the layout are errors at line 1."""
    make_course(content, lessons={name: lesson_md(), "02-good.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == [f"lessons/c/{name}:1: {message}"]
    assert served(catalog) == ["good"]


def test_slug_in_front_matter_is_ignored(content):
    """A `slug: ../../etc` key cannot change the slug: it is an unknown key."""
    make_course(content, lessons={"01-a.md": lesson_md(extra="slug: ../../etc/passwd\n")})
    catalog = load_catalog(content)
    assert served(catalog) == ["a"]
    assert messages(catalog, "warning") == ["lessons/c/01-a.md:5: warning: 'slug': unknown key, ignored"]


def test_duplicate_order_and_slug(content):
    """Duplicate order numbers or slugs: the later file is an error, the first is served."""
    make_course(content, lessons={"01-a.md": lesson_md(), "01-b.md": lesson_md(),
                                  "02-a.md": lesson_md(), "03-c.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-b.md:1: duplicate order number 1 (also 01-a.md)",
                                 "lessons/c/02-a.md:1: duplicate lesson slug 'a' (also 01-a.md)"]
    assert served(catalog) == ["a", "c"]


def test_non_utf8_file(content):
    """A Latin-1 file is an error at the line of the first bad byte."""
    data = lesson_md(body="Line one\nGr\xfc\xdfe").encode("latin-1")
    make_course(content, lessons={"01-a.md": data, "02-b.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.md:7: the file is not valid UTF-8 (byte 69); "
                                 "save it as UTF-8"]
    assert served(catalog) == ["b"]


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file(content, data):
    """An empty (or blank) file is an error."""
    make_course(content, lessons={"01-a.md": data, "02-b.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.md:1: the file is empty"]
    assert served(catalog) == ["b"]


def test_file_over_one_megabyte_is_not_read(content, monkeypatch):
    """The size is checked before reading."""
    make_course(content, lessons={"01-a.md": lesson_md(body="x" * (1024 * 1024)),
                                  "02-b.md": lesson_md()})
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: opened.append(str(p)) or real_open(p, *a, **k))
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.md:1: the file is larger than 1 MB (1048635 bytes)"]
    assert not any(p.endswith("01-a.md") for p in opened)
    assert served(catalog) == ["b"]


def test_missing_image(content):
    """A missing image is an error at the line that uses it."""
    body = "Intro\n\nText ![x](images/missing.png)\n\n## Quiz\n\n1. Q ![y](images/gone.svg)\n" \
           "   - [x] a\n   - [ ] b\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body), "02-b.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.md:8: image not found in the course folder: "
                                 "images/missing.png",
                                 "lessons/c/01-a.md:12: image not found in the course folder: "
                                 "images/gone.svg"]
    assert served(catalog) == ["b"]


def test_image_outside_course_folder_is_missing(content):
    """`../` in an image path is not a course asset."""
    write(content, "other/images/x.png", PNG)
    make_course(content, "other", order=2)
    make_course(content, lessons={"01-a.md": lesson_md(body="![x](../other/images/x.png)")})
    assert messages(load_catalog(content)) == [
        "lessons/c/01-a.md:6: image not found in the course folder: ../other/images/x.png"]


def test_missing_logo(content):
    """A certificate logo that does not exist is an error at its line."""
    make_course(content, course=course_md(extra="certificate:\n  logo: images/nope.png\n"))
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/course.md:6: certificate logo not found in the "
                                 "course folder: images/nope.png"]
    assert catalog.courses == ()


def test_translation_without_default_file(content):
    """A `.de.md` file without its default-language file is an error."""
    make_course(content, lessons={"01-a.de.md": lesson_md(), "02-b.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.de.md:1: translation without a "
                                 "default-language file (01-a.md)"]
    assert served(catalog) == ["b"]


def test_translation_of_broken_lesson_is_not_published(content):
    """When the default file is broken (and was never served), its translation is held back."""
    make_course(content, lessons={"01-a.md": "---\ntitle: x\n", "01-a.de.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == [
        "lessons/c/01-a.de.md:1: not published: 01-a.md has errors",
        "lessons/c/01-a.md:1: the front matter opened here is never closed by a line of '---'"]
    assert served(catalog) == []


def test_translated_quiz_must_match(content):
    """A translated quiz with another shape is an error; the default quiz is unaffected."""
    de_quiz = "## Quiz\n\n1. Frage\n   - [x] richtig\n   - [x] auch\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=QUIZ),
                                  "01-a.de.md": lesson_md(body=de_quiz)})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.de.md:8: this question does not match the "
                                 "default-language quiz (same kind, options and correct answers "
                                 "in the same order)"]
    assert catalog.course("c").lesson("a").languages == ("en",)


def test_translation_without_quiz_shows_default_quiz(content):
    """A translation without a quiz shows the default quiz, with a warning."""
    make_course(content, lessons={"01-a.md": lesson_md(body=QUIZ), "01-a.de.md": lesson_md()})
    catalog = load_catalog(content)
    lesson = catalog.course("c").lesson("a")
    assert lesson.texts["de"].quiz == lesson.texts["en"].quiz
    assert messages(catalog, "warning") == ["lessons/c/01-a.de.md:1: warning: no '## Quiz' "
                                            "section: the default-language quiz is shown"]


def test_exam_needs_a_quiz(content):
    """`exam: true` without a quiz is an error."""
    make_course(content, lessons={"01-a.md": lesson_md(extra="exam: true\n")})
    assert messages(load_catalog(content)) == ["lessons/c/01-a.md:1: an exam lesson needs a "
                                               "'## Quiz' section"]


def test_lesson_pass_mark_defaults_to_course(content):
    """Without its own pass_mark a quiz uses the course's."""
    make_course(content, course=course_md(extra="pass_mark: 70\n"),
                lessons={"01-a.md": lesson_md(body=QUIZ),
                         "02-b.md": lesson_md(body=QUIZ, extra="pass_mark: 50\n")})
    course = load_catalog(content).course("c")
    assert [lesson.texts["en"].quiz.pass_mark for lesson in course.lessons] == [70, 50]


def test_course_translation_only_sets_texts(content):
    """course.de.md may not change course settings."""
    make_course(content)
    write(content, "c/course.de.md", "---\ntitle: Kurs\nsummary: Z\norder: 9\n---\nText\n")
    catalog = load_catalog(content)
    assert catalog.course("c").order == 1 and catalog.course("c").text("de").title == "Kurs"
    assert messages(catalog, "warning") == ["lessons/c/course.de.md:4: warning: 'order': "
                                            "ignored in a translation"]


def test_symlinked_lesson_outside_is_refused(content, tmp_path):
    """A lesson file that is a symlink to a file outside the content folder is not read."""
    secret = write(tmp_path, "secret.md", lesson_md("Secret"))
    make_course(content, lessons={"02-b.md": lesson_md()})
    os.symlink(secret, content / "c/01-a.md")
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.md:1: symlink leads outside the content folder"]
    assert served(catalog) == ["b"]


def test_missing_content_dir(tmp_path):
    """A missing content folder gives one error and an empty catalog."""
    catalog = load_catalog(tmp_path / "nothing")
    assert catalog.courses == () and len(catalog.errors) == 1
    assert str(catalog.errors[0]).startswith("nothing:0: cannot read the content folder")


def test_relative_content_dir_paths_are_shown_as_given(content, monkeypatch):
    """With a relative content folder, paths are shown from it as given."""
    make_course(content, lessons={"01-a.md": "oops"})
    monkeypatch.chdir(content.parent)
    catalog = load_catalog(Path("lessons"))
    assert [str(e).split(":")[0] for e in catalog.errors] == ["lessons/c/01-a.md"]


def test_broken_file_still_has_a_preview(content):
    """A lesson with errors is not served but its FileStatus carries a best-effort preview."""
    make_course(content, lessons={"01-a.md": lesson_md("Draft", body="Hello\n\n## Quiz\n\n1. Q\n")})
    catalog = load_catalog(content)
    status = next(f for f in catalog.files if f.lesson_slug == "a")
    assert not status.ok and status.preview.title == "Draft" and "Hello" in status.preview.html
    assert served(catalog) == []


def test_other_files_are_ignored(content):
    """Hidden files and folders, editor backups and non-Markdown files are not content."""
    make_course(content, ".git")
    make_course(content, lessons={"01-a.md": lesson_md(), ".01-a.md.swp": "x", "notes.txt": "x",
                                  "01-a.md~": "x"})
    write(content, "README.txt", "x")
    catalog = load_catalog(content)
    assert catalog.errors == () and served(catalog) == ["a"]


def test_translation_number_must_match(content):
    """`02-a.de.md` is not a translation of `01-a.md`."""
    make_course(content, lessons={"01-a.md": lesson_md(), "02-a.de.md": lesson_md("DE")})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/02-a.de.md:1: the number does not match the "
                                 "default-language file 01-a.md"]
    assert catalog.course("c").lesson("a").languages == ("en",)


def test_catalog_objects_are_hashable(catalog):
    """Courses and lessons can be used as dict keys or in caches by the web layer."""
    course = catalog.course("example-course")
    assert len({course, *course.lessons, course.certificate, catalog}) == 5


def test_unexpected_exception_is_one_file_error(content, monkeypatch):
    """A crash while rendering one file becomes that file's error; the rest loads."""
    from coaching.content.markdown import Renderer

    class Exploding(Renderer):
        """A renderer that fails on one text."""

        def document(self, text, **options):
            if "BOOM" in text:
                raise RecursionError("too deep")
            return super().document(text, **options)

    make_course(content, lessons={"01-a.md": lesson_md(body="BOOM"), "02-b.md": lesson_md()})
    catalog = load_catalog(content, renderer=Exploding())
    assert messages(catalog) == ["lessons/c/01-a.md:1: this file could not be processed "
                                 "(RecursionError); simplify it"]
    assert served(catalog) == ["b"]


def test_content_package_imports_nothing_from_the_app():
    """coaching.content stays self-contained: no Flask, SQLAlchemy or other app modules."""
    import ast
    package = Path(__file__).resolve().parents[2] / "coaching/content"
    allowed = {"__future__", "collections", "contextlib", "dataclasses", "decimal", "difflib", "functools", "hashlib", "html",
               "json", "os", "pathlib", "random", "re", "threading", "time", "types", "typing", "unicodedata",
               "urllib", "xml", "markdown", "nh3", "pygments", "yaml",
               "io", "struct", "warnings", "PIL", "defusedxml",  # images.py: checking uploads by content
               "sqlite3", "logging", "importlib"}  # render_cache.py: a local file of renderings, not the app's database
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, (path.name, name)
