"""The strict front-matter reader and the SECURITY.md content-file traps."""

from __future__ import annotations

import time

import pytest

from coaching.content import frontmatter as fm
from coaching.content import load_catalog

from .helpers import course_md, lesson_md, make_course, messages, write


def load_one(content, text, name="01-a.md"):
    """Load a course with one good lesson and one file under test; return the catalog."""
    make_course(content, lessons={"02-good.md": lesson_md("Good"), name: text})
    return load_catalog(content)


def good_lessons(catalog):
    """Return the slugs of the served lessons of course c."""
    return [lesson.slug for lesson in catalog.course("c").lessons]


def test_bom_is_stripped(content):
    """A UTF-8 BOM before the opening --- is ignored."""
    catalog = load_one(content, "\ufeff" + lesson_md("With BOM"))
    assert messages(catalog) == []
    assert catalog.course("c").lesson("a").texts["en"].title == "With BOM"


def test_crlf_line_endings(content):
    """Windows line endings read like Unix ones."""
    catalog = load_one(content, lesson_md("CRLF").replace("\n", "\r\n"))
    assert messages(catalog) == []


@pytest.mark.parametrize("text, expected", [
    ("title: x\n---\nbody\n",
     "lessons/c/01-a.md:1: the file must start with a line of exactly '---' opening the front matter"),
    ("---\ntitle: x\nsummary: y\nminutes: 3\n\nBody without a closing line\n",
     "lessons/c/01-a.md:1: the front matter opened here is never closed by a line of '---'"),
    ("---\n- a\n- b\n---\nbody\n",
     "lessons/c/01-a.md:2: the front matter must be a mapping of 'key: value' lines"),
    ("---\njust a string\n---\nbody\n",
     "lessons/c/01-a.md:2: the front matter must be a mapping of 'key: value' lines"),
    ("---\ntitle: a\nsummary: b\nminutes: 3\ntitle: c\n---\nbody\n",
     "lessons/c/01-a.md:5: duplicate key 'title' (first on line 2)"),
    ("---\ntitle: x\nsummary: y\nminutes: 3\ndate: 2024-02-30\n---\n",
     "lessons/c/01-a.md:5: dates are not supported (2024-02-30); put the value in quotes if it is text"),
    ("---\ntitle: x\nsummary: y\nminutes: 3\nwhen: 2024-01-05 10:00:00\n---\n",
     "lessons/c/01-a.md:5: dates are not supported (2024-01-05 10:00:00); "
     "put the value in quotes if it is text"),
    ("---\ntitle: !!python/object/apply:os.system ['echo pwned']\nsummary: y\nminutes: 3\n---\n",
     "lessons/c/01-a.md:2: YAML tags (!!python/object/apply:os.system) are not allowed"),
    ("---\ntitle: x\nsummary: !!binary aGVsbG8=\nminutes: 3\n---\n",
     "lessons/c/01-a.md:3: YAML tags (!!binary) are not allowed"),
    ("---\ntitle: x\nsummary: y\nminutes: !!int 3\n---\n",
     "lessons/c/01-a.md:4: YAML tags (!!int) are not allowed"),
    ("---\ntitle: &t x\nsummary: *t\nminutes: 3\n---\n",
     "lessons/c/01-a.md:2: YAML anchors (&name) are not allowed"),
    ("---\ntitle: [x\nsummary: y\n---\n",
     "lessons/c/01-a.md:3: a value that starts with '[' or '{' is read as a list or mapping: put the whole "
     "value in quotes, e.g. title: \"[draft] lesson\""),
    ("---\ntitle: x\nsummary: y\n---\nbody\n",
     "lessons/c/01-a.md:1: missing required key 'minutes'"),
    ("---\ntitle: x\nsummary: y\nminutes: five\n---\n",
     "lessons/c/01-a.md:4: 'minutes' must be a whole number, got 'five'"),
    ("---\ntitle: x\nsummary: y\nminutes: 0\n---\n",
     "lessons/c/01-a.md:4: 'minutes' must be 1-10000, got 0"),
    ("---\ntitle: x\nsummary: y\nminutes: 3\npass_mark: 101\n---\n",
     "lessons/c/01-a.md:5: 'pass_mark' must be 0-100, got 101"),
    ("---\ntitle: x\nsummary: y\nminutes: 3\nshuffle: yes\n---\n",
     "lessons/c/01-a.md:5: 'shuffle' must be true or false, got 'yes'"),
    ("---\ntitle: x\nsummary: y\nminutes: 3\nexam: on\n---\n",
     "lessons/c/01-a.md:5: 'exam' must be true or false, got 'on'"),
    ("---\ntitle:\nsummary: y\nminutes: 3\n---\n",
     "lessons/c/01-a.md:2: 'title' must not be empty"),
    ("---\ntitle: [a, b]\nsummary: y\nminutes: 3\n---\n",
     "lessons/c/01-a.md:2: 'title' must be a single value, not a list or mapping"),
    ("---\ntitle: x\nsummary: y\nminutes: 1" + "0" * 5000 + "\n---\n",
     "lessons/c/01-a.md:4: 'minutes' must be a whole number, got '1000000000000000000000000000000000000000'"),
])
def test_bad_front_matter_is_one_clear_error(content, text, expected):
    """Each trap gives its own path:line: message and the other lesson still loads."""
    catalog = load_one(content, text)
    assert messages(catalog) == [expected]
    assert good_lessons(catalog) == ["good"]


def test_yaml_11_booleans_stay_strings(content):
    """`no`, `NO` and `on` are text where text is expected."""
    catalog = load_one(content, "---\ntitle: no\nsummary: NO\nminutes: 3\n---\nBody\n")
    text = catalog.course("c").lesson("a").texts["en"]
    assert (text.title, text.summary) == ("no", "NO")


def test_draft_no_is_an_unknown_key_warning(content):
    """`draft: no` is an unknown key: a warning, and the lesson is still served."""
    catalog = load_one(content, lesson_md(extra="draft: no\n"))
    assert messages(catalog) == []
    assert messages(catalog, "warning") == ["lessons/c/01-a.md:5: warning: 'draft': unknown key, ignored"]
    assert good_lessons(catalog) == ["a", "good"]


def test_language_no_is_an_error(content):
    """`language: NO` (Norwegian to YAML 1.1, False to PyYAML) is an invalid language."""
    make_course(content, course=course_md(extra="language: NO\n"), lessons={"01-a.md": lesson_md()})
    make_course(content, "d", order=2, lessons={"01-a.md": lesson_md()})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/course.md:5: 'language' must be one of en, de, got 'NO'"]
    assert [c.slug for c in catalog.courses] == ["d"]


def test_quoted_date_is_text(content):
    """A quoted date is just a string."""
    catalog = load_one(content, lesson_md(title='"2024-02-30"'))
    assert catalog.course("c").lesson("a").texts["en"].title == "2024-02-30"


def test_alias_bomb_fails_fast(content):
    """A billion-laughs document is refused at its first anchor, without expanding anything."""
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "---\n" + "\n".join(levels) + "\ntitle: x\nsummary: y\nminutes: 3\n---\n"
    start = time.perf_counter()
    with pytest.raises(fm.FrontMatterError):
        fm.parse(text)
    assert time.perf_counter() - start < 5  # expanding it would take hours and gigabytes
    catalog = load_one(content, text)
    assert messages(catalog) == ["lessons/c/01-a.md:2: YAML anchors (&name) are not allowed"]


def test_alias_without_anchor_is_refused():
    """An alias is refused even when its anchor would be undefined."""
    with pytest.raises(fm.FrontMatterError) as info:
        fm.load_yaml("a: *nothing\n", first_line=2)
    assert info.value.line == 2


def test_complex_keys_are_refused():
    """A mapping or list used as a key is an error, not a crash."""
    with pytest.raises(fm.FrontMatterError, match="a key must be a plain word"):
        fm.load_yaml("? [a, b]\n: c\n")


def test_nested_certificate_values_are_checked(content):
    """Keys inside `certificate` are typed and unknown ones are warnings."""
    extra = "certificate:\n  validity_months: -1\n  colour: red\n"
    make_course(content, course=course_md(extra=extra))
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/course.md:6: 'certificate.validity_months' "
                                 "must be a whole number, got '-1'"]
    assert messages(catalog, "warning") == [
        "lessons/c/course.md:7: warning: 'certificate.colour': unknown key, ignored"]


def test_translation_keys_outside_its_schema_are_warned(content):
    """A translation may not change quiz settings: a warning, the key is ignored."""
    make_course(content, lessons={"01-a.md": lesson_md(),
                                  "01-a.de.md": lesson_md("Deutsch", extra="pass_mark: 10\n")})
    catalog = load_catalog(content)
    assert messages(catalog) == []
    assert messages(catalog, "warning") == [
        "lessons/c/01-a.de.md:5: warning: 'pass_mark': ignored in a translation"]


def test_two_documents_are_refused():
    """A YAML stream holding a second document is an error."""
    with pytest.raises(fm.FrontMatterError, match="more than one YAML document"):
        fm.load_yaml("a: 1\n...\n---\nb: 2\n")


def test_write_helper_makes_files(content):
    """The helper writes bytes and text (sanity check for the other tests)."""
    path = write(content, "x/y.txt", b"\x00")
    assert path.read_bytes() == b"\x00"


def test_deep_nesting_fails_fast():
    """Deeply nested flow collections are refused early."""
    start = time.perf_counter()
    with pytest.raises(fm.FrontMatterError, match="nested more than 8 levels"):
        fm.load_yaml("a: " + "[" * 5000 + "]" * 5000, first_line=2)
    assert time.perf_counter() - start < 5  # unbounded, this takes over 20 s


@pytest.mark.parametrize("lines, expected", [
    ("title: Step 1: the click\n", "2: a value contains ': ': put the whole value in quotes, "
                                    "e.g. title: \"Step 1: the click\""),
    ("title: x\n\tsummary: y\n", "3: tabs are not allowed in the settings: use spaces"),
    ("title:\tx\n", "2: tabs are not allowed in the settings: use spaces"),
    ("title: \"Step 1\nsummary: y\n", "2: a quote is opened but never closed: end the value with the same "
                                     "quote (\" or ')"),
    ("title: 'Step 1\nsummary: y\n", "2: a quote is opened but never closed"),
    ("title: x\n  summary: y\n", "3: this line is indented: settings start at the beginning of the line"),
    ("certificate:\n  title: x\n signer_name: y\n", "4: the indentation does not line up"),
    ("title: x\njust some words\nsummary: y\n", "3: a line is not 'key: value'"),
    ("title: @home\n", "2: a value starts with '@': put the whole value in quotes"),
    ("title: `code`\n", "2: a value starts with '`': put the whole value in quotes"),
    ("title: \"a\" b\n", "2: a value starts with a quote, '[' or '{' and goes on after it"),
    ("title: [draft] lesson\n", "2: a value starts with a quote, '[' or '{' and goes on after it"),
])
def test_yaml_errors_say_what_to_do(content, lines, expected):
    """The parser's words become a message that says what to do, at the right line."""
    catalog = load_one(content, f"---\n{lines}minutes: 3\n---\nBody\n")
    found = messages(catalog)
    assert len(found) == 1 and found[0].startswith(f"lessons/c/01-a.md:{expected}"), found
    assert good_lessons(catalog) == ["good"]


@pytest.mark.parametrize("key, right", [("max_attempt", "max_attempts"), ("pass_marks", "pass_mark"),
                                        ("show_answer", "show_answers"), ("titel", "title"), ("Title", "title"),
                                        ("shuffled", "shuffle"), ("minute", "minutes")])
def test_misspelt_keys_are_errors(content, key, right):
    """A key close to a known one is an error that names it: the setting must not go live as if unset."""
    text = lesson_md().replace("minutes: 5\n", f"minutes: 5\n{key}: 3\n")
    catalog = load_one(content, text)
    assert f"lessons/c/01-a.md:5: unknown key '{key}': did you mean '{right}'?" in messages(catalog)
    assert good_lessons(catalog) == ["good"]


@pytest.mark.parametrize("key", ["slug", "draft", "colour", "author", "tags", "lang", "description", "level"])
def test_truly_unknown_keys_stay_warnings(content, key):
    """Keys not close to any known one are ignored with a warning."""
    catalog = load_one(content, lesson_md(extra=f"{key}: x\n"))
    assert messages(catalog, "warning") == [f"lessons/c/01-a.md:5: warning: '{key}': unknown key, ignored"]
    assert good_lessons(catalog) == ["a", "good"]


def test_misspelt_key_in_a_translation_and_the_certificate(content):
    """Translations are checked against their own keys; nested keys carry their path."""
    make_course(content, course=course_md(extra="certificate:\n  signer_nam: Dana\n"),
                lessons={"01-a.md": lesson_md(), "01-a.de.md": lesson_md().replace("title:", "titel: T\ntitle:")})
    found = messages(load_catalog(content))
    assert "lessons/c/course.md:6: unknown key 'certificate.signer_nam': did you mean 'certificate.signer_name'?" \
        in found
    assert "lessons/c/01-a.de.md:2: unknown key 'titel': did you mean 'title'?" in found
