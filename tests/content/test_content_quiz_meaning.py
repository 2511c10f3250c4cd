"""What a quiz means: its version, its settings, and the warnings about how it is written."""

from __future__ import annotations

import pytest

from coaching.content import load_catalog

from .helpers import lesson_md, make_course, messages

BODY = """Some prose with a typo: recieve.

## Quiz

1. Which headline promises a concrete benefit?
   - [ ] Click here now
   - [x] Save three hours a week on reporting
   - [ ] Our tool is great

   > A concrete benefit gives the reader a reason to click.

2. How much is 15 cents in euros?
   - [=] 0.15 EUR

3. What does CTR stand for?
   - [=] click-through rate
"""
SETTINGS = "max_attempts: 3\n"


def version(content, body: str = BODY, extra: str = SETTINGS, name: str = "01-a.md") -> str:
    """Write the lesson and return its quiz version."""
    make_course(content, lessons={name: lesson_md(body=body, extra=extra)})
    catalog = load_catalog(content)
    assert not catalog.has_errors, messages(catalog)
    return catalog.course("c").lesson("a").texts["en"].quiz.version


@pytest.mark.parametrize("body", [
    BODY.replace("recieve", "receive"),                                    # a typo fix in the prose
    BODY.replace("gives the reader a reason", "gives readers a reason"),   # an explanation's wording
    BODY.replace("   - [ ] Our tool", "   - [ ]   Our tool") + "\n\n",     # whitespace
    BODY.replace("Some prose", "## Intro\n\nSome prose"),                  # a heading above the quiz
    BODY.replace("0.15 EUR", "EUR 0.150"),                                 # the same number written otherwise
    BODY.replace("click-through rate", "Click-Through Rate."),            # the same answer as graded
])
def test_version_keeps_when_the_meaning_keeps(content, body):
    """Edits that do not change what the quiz means keep its version (and the statistics)."""
    before = version(content)
    assert version(content, body) == before


@pytest.mark.parametrize("body, extra", [
    (BODY.replace("   - [ ] Click here now", "   - [x] Click here now")
         .replace("   - [x] Save three", "   - [ ] Save three"), SETTINGS),   # another correct option
    (BODY.replace("   - [=] click-through rate", "   - [=] click-through rate\n   - [=] click rate"),
     SETTINGS),                                                              # an accepted answer more
    (BODY.replace("0.15 EUR", "0.15 ± 0.01 EUR"), SETTINGS),                # a tolerance
    (BODY, "max_attempts: 2\n"),
    (BODY, SETTINGS + "pass_mark: 50\n"),
    (BODY, SETTINGS + "shuffle: false\n"),
    (BODY, SETTINGS + "show_answers: never\n"),
    (BODY.replace("Which headline", "Which of these headlines"), SETTINGS),  # another question id
])
def test_version_moves_when_the_meaning_moves(content, body, extra):
    """Changing the key, an accepted answer or a setting gives a new version."""
    before = version(content)
    assert version(content, body, extra) != before


def test_translation_versions(content):
    """A translation with the same numbers and no text answers of its own shares the version; text
    answers of its own give it a version of its own."""
    de = BODY.replace("0.15 EUR", "0,15 €")
    make_course(content, lessons={"01-a.md": lesson_md(body=BODY, extra=SETTINGS), "01-a.de.md": lesson_md(body=de)})
    texts = load_catalog(content).course("c").lesson("a").texts
    assert texts["de"].quiz.version == texts["en"].quiz.version
    de_own = de.replace("click-through rate", "Klickrate")
    make_course(content, lessons={"01-a.de.md": lesson_md(body=de_own)})
    texts = load_catalog(content).course("c").lesson("a").texts
    assert texts["de"].quiz.version != texts["en"].quiz.version
    assert [q.id for q in texts["de"].quiz.questions] == [q.id for q in texts["en"].quiz.questions]


def test_settings_defaults_and_inheritance(content):
    """shuffle is on and show_answers is after_pass by default; translations take the default file's."""
    settings = "shuffle: false\nshow_answers: immediate\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=BODY), "01-a.de.md": lesson_md(body=BODY),
                                  "02-b.md": lesson_md("B", body=BODY, extra=settings)})
    course = load_catalog(content).course("c")
    a, b = course.lesson("a").texts, course.lesson("b").texts["en"].quiz
    assert (a["en"].quiz.shuffle, a["en"].quiz.show_answers) == (True, "after_pass")
    assert (a["de"].quiz.shuffle, a["de"].quiz.show_answers) == (True, "after_pass")
    assert (b.shuffle, b.show_answers) == (False, "immediate")


def test_show_answers_must_be_known(content):
    """show_answers takes one of three words."""
    make_course(content, lessons={"01-a.md": lesson_md(body=BODY, extra="show_answers: sometimes\n")})
    assert messages(load_catalog(content)) == [
        "lessons/c/01-a.md:5: 'show_answers' must be one of after_pass, immediate, never, got 'sometimes'"]


def test_show_answers_in_a_translation_is_ignored(content):
    """Quiz settings come from the default-language file only."""
    make_course(content, lessons={"01-a.md": lesson_md(body=BODY),
                                  "01-a.de.md": lesson_md(body=BODY, extra="show_answers: never\n")})
    catalog = load_catalog(content)
    assert messages(catalog, "warning") == ["lessons/c/01-a.de.md:5: warning: 'show_answers': ignored in a "
                                            "translation"]
    assert catalog.course("c").lesson("a").texts["de"].quiz.show_answers == "after_pass"


# -- warnings about how a quiz is written ----------------------------------------------------------

def single(n: int, right_longest: bool) -> str:
    """A single-choice question whose right option is (or is not) the longest."""
    right = "the right answer, which is long" if right_longest else "right"
    return f"{n}. Question {n}\n   - [ ] wrong one\n   - [x] {right}\n   - [ ] another wrong one\n"


def test_longest_correct_option_in_most_questions(content):
    """The right option being the longest in most single-choice questions is a warning with the count."""
    body = "## Quiz\n\n" + "\n".join(single(n, n != 4) for n in range(1, 7))
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    catalog = load_catalog(content)
    assert messages(catalog, "warning") == [
        "lessons/c/01-a.md:6: warning: the correct option is the longest in 5 of 6 single-choice questions: "
        "readers learn to pick the longest; make some wrong options as long"]
    assert catalog.course("c").lesson("a") is not None


@pytest.mark.parametrize("longest, count", [(1, 3), (3, 6), (2, 2)])
def test_longest_correct_option_not_in_most(content, longest, count):
    """Half or fewer, or fewer than three single-choice questions: no warning."""
    body = "## Quiz\n\n" + "\n".join(single(n, n <= longest) for n in range(1, count + 1))
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    assert messages(load_catalog(content), "warning") == []


@pytest.mark.parametrize("options, message", [
    ("   - [x] a\n   - [x] b\n   - [ ] c\n", "line 8: warning: every option but one is correct"),
    ("   - [x] a\n   - [x] b\n   - [x] c\n", "line 8: warning: every option is correct"),
    ("   - [x] a\n   - [ ] b\n", "line 8: warning: only 2 options: a guess is right half the time"),
])
def test_choice_question_warnings(content, options, message):
    """All (or all but one) options right, or only two options: a warning at the question."""
    make_course(content, lessons={"01-a.md": lesson_md(body=f"## Quiz\n\n1. Which?\n{options}")})
    found = messages(load_catalog(content), "warning")
    line, text = message.split(": warning: ")
    assert len(found) == 1 and found[0].startswith(f"lessons/c/01-a.md:{line[5:]}: warning: {text}"), found


def test_two_right_of_four_is_fine(content):
    """A multiple-choice question with right and wrong options in balance gets no warning."""
    body = "## Quiz\n\n1. Which?\n   - [x] a\n   - [ ] b\n   - [x] c\n   - [ ] d\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    assert messages(load_catalog(content), "warning") == []


@pytest.mark.parametrize("text", ["Which are paid? Choose all that apply.", "Which are paid? (select all that apply)",
                                  "Welche sind bezahlt? Mehrere Antworten möglich.",
                                  "Welche sind bezahlt? Wählen Sie alle zutreffenden aus."])
def test_choose_all_in_the_question_text(content, text):
    """The page adds the multiple-answer hint itself: written by the author it is a warning."""
    body = f"## Quiz\n\n1. {text}\n   - [x] a\n   - [ ] b\n   - [x] c\n   - [ ] d\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    found = messages(load_catalog(content), "warning")
    assert len(found) == 1 and "the page adds that hint" in found[0] and ":8: warning: the question says" in found[0]


def test_exam_without_max_attempts(content):
    """An exam without max_attempts is a warning at the exam line."""
    body = "## Quiz\n\n1. Which?\n   - [x] a\n   - [ ] b\n   - [ ] c\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body, extra="exam: true\n")})
    assert messages(load_catalog(content), "warning") == [
        "lessons/c/01-a.md:5: warning: an exam without 'max_attempts' can be taken again and again until it is "
        "passed: set max_attempts"]
    make_course(content, lessons={"01-a.md": lesson_md(body=body, extra="exam: true\nmax_attempts: 2\n")})
    assert messages(load_catalog(content), "warning") == []


def test_options_that_read_the_same(content):
    """Options equal under the grading normaliser are a warning; equal under the id normaliser an error."""
    body = "## Quiz\n\n1. Which?\n   - [x] Yes\n   - [ ] „yes.“\n   - [ ] no\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    catalog = load_catalog(content)
    assert messages(catalog, "warning") == ["lessons/c/01-a.md:10: warning: this option reads the same as the one "
                                            "on line 9 (only case, quotes, dashes or punctuation differ)"]
    assert catalog.course("c").lesson("a") is not None
    make_course(content, lessons={"01-a.md": lesson_md(body=body.replace("„yes.“", "YES"))})
    assert messages(load_catalog(content)) == ["lessons/c/01-a.md:10: duplicate option (same text as line 9)"]


# -- numeric answers in files ------------------------------------------------------------------------

@pytest.mark.parametrize("keys, expected", [
    ("   - [=] 0.15 ± abc EUR\n", "lessons/c/01-a.md:9: numeric answer '0.15 ± abc EUR': cannot read the tolerance"),
    ("   - [=] 0.15 EURO$\n", "lessons/c/01-a.md:9: numeric answer '0.15 EURO$': unknown unit 'EURO$'"),
    ("   - [=] 0.15 EUR\n   - [=] 15 EUR\n", "lessons/c/01-a.md:10: the numeric answer '15 EUR' does not agree"),
    ("   - [=] 0.15 EUR\n   - [=] 0.15 %\n", "lessons/c/01-a.md:10: the numeric answer '0.15 %' does not agree"),
    ("   - [=] ?!\n", "lessons/c/01-a.md:9: this answer is empty once quotes and punctuation are ignored"),
])
def test_numeric_key_errors(content, keys, expected):
    """Unreadable tolerances and units, and keys that disagree, are errors at their line."""
    make_course(content, lessons={"01-a.md": lesson_md(body=f"## Quiz\n\n1. How much?\n{keys}"),
                                  "02-b.md": lesson_md("B")})
    catalog = load_catalog(content)
    found = messages(catalog)
    assert len(found) == 1 and found[0].startswith(expected), found
    assert [lesson.slug for lesson in catalog.course("c").lessons] == ["b"]


def test_rounded_and_cent_keys_agree(content):
    """0.216 and 0.22, 0.25 EUR and 25 ct: keys that mean the same number are fine."""
    body = "## Quiz\n\n1. EPC?\n   - [=] 0.216\n   - [=] 0.22 EUR\n   - [=] 21.6 ct\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    assert load_catalog(content).errors == ()


def test_ambiguous_key_read_the_other_way_is_kept_as_text(content):
    """`1.600` next to `1600` in an English file is 1.6: a warning, and accepted only as typed."""
    body = "## Quiz\n\n1. How many clicks?\n   - [=] 1600\n   - [=] 1.600\n   - [=] 1,600\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    catalog = load_catalog(content)
    assert messages(catalog, "warning") == ["lessons/c/01-a.md:10: warning: '1.600' is 1.6 in a file in English, "
                                            "not 1600: it is accepted only exactly as written"]
    question = catalog.course("c").lesson("a").texts["en"].quiz.questions[0]
    assert [k.text for k in question.numbers] == ["1600", "1,600"] and question.text_keys == ("1.600",)


def test_translated_numbers_must_agree(content):
    """A translation's numeric answers are read in its language and must mean the default-language ones."""
    en = "## Quiz\n\n1. How much?\n   - [=] 0.15 EUR\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=en),
                                  "01-a.de.md": lesson_md(body=en.replace("0.15 EUR", "1,5 €"))})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.de.md:8: the numeric answer '1,5 €' does not agree with the "
                                 "default-language answer '0.15 EUR'"]
    make_course(content, lessons={"01-a.de.md": lesson_md(body=en.replace("0.15 EUR", "0,15 €"))})
    catalog = load_catalog(content)
    assert catalog.errors == () and catalog.course("c").lesson("a").languages == ("en", "de")
    make_course(content, lessons={"01-a.de.md": lesson_md(body=en.replace("0.15 EUR", "fünfzehn Cent"))})
    assert messages(load_catalog(content)) == ["lessons/c/01-a.de.md:8: the default-language question accepts the "
                                               "number '0.15 EUR': accept it here too"]
