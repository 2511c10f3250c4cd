"""grade(): forgiving text, numbers read in the language shown, shuffled orders, and never an exception."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coaching.content import Question, Quiz, grade, grade_normalize, load_catalog, option_order, order_seed
from coaching.content.grading import text_answer_ok
from coaching.content.markdown import RenderContext, Renderer
from coaching.content.numbers import read_key
from coaching.content.quiz import QuizSettings, parse_quiz

from .helpers import course_md, lesson_md, make_course

CONTEXT = RenderContext(Renderer(), "/courses/c/assets/")


def parse(text: str, lang: str = "en", **settings):
    """Parse quiz lines (no `## Quiz` heading) into a quiz without errors."""
    parsed = parse_quiz(text.strip("\n").split("\n"), 10, context=CONTEXT, settings=QuizSettings(**settings),
                        lang=lang)
    assert [i for i in parsed.issues if i[2] == "error"] == []
    return parsed.quiz


def text_question(*keys: str, lang: str = "en") -> Question:
    """A one-question text quiz's question with these accepted answers."""
    return parse("1. Q\n" + "\n".join(f"   - [=] {k}" for k in keys), lang).questions[0]


@pytest.mark.parametrize("value, expected", [
    ("  Click-Through   RATE ", "click through rate"),
    ("\u201eAdvertising.\u201c", "advertising"),
    ('"Advertising".', "advertising"),
    ("Advertising:", "advertising"),
    ("\u00abWerbung\u00bb!", "werbung"),
    ("\u2039e\u2013mail\u203a", "e mail"),
    ("E\u2014Mail?", "e mail"),
    ("\u2212 5", "5"),
    ("Stra\u00dfe", "strasse"),
    ("\uff21\uff22\uff23", "abc"),      # NFKC: full-width letters
    ("\ufb01ne", "fine"),
    ("\u2018quoted\u2019 word", "quoted\u2019 word"),   # only the ends lose their quotes
    ("?!.", ""),
    ("", ""),
])
def test_grading_normaliser(value, expected):
    """NFKC, case folding, dashes as spaces, no surrounding quotes or trailing punctuation."""
    assert grade_normalize(value) == expected


@pytest.mark.parametrize("typed, ok", [
    ("Advertising", True), ("Advertising:", True), ("advertising.", True), ('"Advertising"', True),
    ("\u201eAdvertising\u201c", True), ("  ADVERTISING  ", True), ("Advertisings", False),
    ("", False), ("   ", False), ('""', False), ("...", False), ("x" * 2001, False),
])
def test_text_answers_are_forgiving(typed, ok):
    """"Advertising:" is accepted where "Advertising" is; empty or only punctuation never is."""
    quiz = parse("1. Q\n   - [=] Advertising")
    assert grade(quiz, {quiz.questions[0].id: [typed]}).score == int(ok)


def test_hyphens_dashes_and_spaces_count_alike():
    """click-through rate, click through rate and click–through rate are one answer."""
    question = text_question("click-through rate")
    for typed in ("click through rate", "Click\u2013through rate", "click \u2014 through rate", "CLICK-THROUGH-RATE"):
        assert text_answer_ok(question, typed, "en"), typed
    assert not text_answer_ok(question, "clickthrough rate", "en")


QUOTES = [('"', '"'), ("'", "'"), ("\u201e", "\u201c"), ("\u201c", "\u201d"), ("\u201a", "\u2018"),
          ("\u00ab", "\u00bb"), ("\u2039", "\u203a"), ("\u00bb", "\u00ab")]
DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"]
word = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8)


@st.composite
def forgiven(draw):
    """An accepted text answer and the same answer with the forgiving changes applied."""
    words = draw(st.lists(word, min_size=1, max_size=4))
    joins = [draw(st.sampled_from([" ", "-"])) for _ in words[1:]]
    key = words[0] + "".join(j + w for j, w in zip(joins, words[1:], strict=True))
    assume(grade_normalize(key) and read_key(key, "en") == (None, None))
    case = draw(st.sampled_from([str.upper, str.lower, str.swapcase, str.title, str]))
    typed = words[0]
    for w in words[1:]:
        typed += draw(st.sampled_from([" ", "  ", "\t", " \u00a0", *DASHES, " - "])) + w
    typed = case(typed)
    if draw(st.booleans()):
        left, right = draw(st.sampled_from(QUOTES))
        typed = left + typed + right
    typed += draw(st.text(alphabet=".,;:!?", max_size=3))
    typed = draw(st.sampled_from(["", " ", "\n "])) + typed + draw(st.sampled_from(["", " ", "\t"]))
    return key, typed


@given(forgiven())
@settings(max_examples=400, deadline=None)
def test_forgiving_changes_keep_an_answer_right(case):
    """Any accepted answer with case, quotes, trailing punctuation, dashes or spacing changed is still right."""
    key, typed = case
    question = Question("q-1", "text", "", (), (key,), "", 1)
    assert text_answer_ok(question, typed, "en"), (key, typed)


# -- numbers ------------------------------------------------------------------------------------

def test_numeric_answers_in_a_quiz():
    """A numeric key accepts the number in any spelling and no other unit."""
    question = text_question("0.15 EUR")
    assert question.numbers and question.text_keys == ()
    for typed in ("0,15 EUR", "€0.15", "0.15", "15 ct", "EUR 0,15", "0.150 €", " 0 , 15 "):
        assert text_answer_ok(question, typed, "en"), typed
    for typed in ("0.15 USD", "0.16", "15", "€", "", "0.15 EUR 0.15", "1e999", "NaN"):
        assert not text_answer_ok(question, typed, "en"), typed


def test_ambiguous_input_is_read_in_the_language_shown():
    """"1,500" answers 1500 when the text shown was English, 1.5 when it was German."""
    question = text_question("1500")
    assert text_answer_ok(question, "1,500", "en") and not text_answer_ok(question, "1,500", "de")
    assert text_answer_ok(question, "1.500", "de") and not text_answer_ok(question, "1.500", "en")
    quiz = Quiz((question,), 80, None)
    assert grade(quiz, {question.id: ["1,500"]}).score == 1            # default: the quiz's language
    assert grade(quiz, {question.id: ["1,500"]}, lang="de").score == 0
    assert grade(quiz, {question.id: ["1,500"]}, lang="xx").score == 1  # unknown: the quiz's language


def test_german_reader_of_an_english_fallback_types_english_numbers(content):
    """A lesson without German text shows the English one; its numbers are read in English."""
    body = "Text.\n\n## Quiz\n\n1. How many clicks?\n   - [=] 1500\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    lesson = load_catalog(content).course("c").lesson("a")
    text, fell_back = lesson.text("de")
    assert fell_back and text.lang == "en"
    question = text.quiz.questions[0]
    assert grade(text.quiz, {question.id: ["1,500"]}, lang=text.lang).score == 1
    assert grade(text.quiz, {question.id: ["1.500"]}, lang=text.lang).score == 0


def test_german_keys_are_read_in_german(content):
    """Keys are read in their file's language: `1.500` in a German course is 1500."""
    body = "Text.\n\n## Quiz\n\n1. Wie viele Klicks?\n   - [=] 1.500\n"
    make_course(content, course=course_md(extra="language: de\n"), lessons={"01-a.md": lesson_md(body=body)})
    quiz = load_catalog(content).course("c").lesson("a").texts["de"].quiz
    assert quiz.lang == "de" and quiz.questions[0].numbers[0].value == 1500
    assert grade(quiz, {quiz.questions[0].id: ["1500"]}).score == 1


@pytest.mark.parametrize("typed", ["1e999", "NaN", "inf", "-inf", "9" * 10000, "1.2.3", "12abc5", "€", "",
                                   "\x00", "\ud800", "0.15 \u202e EUR", "\u00a0" * 50, "5" * 99 + "€"])
def test_hostile_numbers_are_wrong_not_errors(typed):
    """Numbers nobody can mean are wrong answers; grading does not raise."""
    quiz = parse("1. Q\n   - [=] 0.15 EUR\n2. R\n   - [=] 1500\n   - [=] fifteen hundred")
    assert grade(quiz, {q.id: [typed] for q in quiz.questions}).score == 0


# -- shuffled options ---------------------------------------------------------------------------

QUIZ = parse("""
1. Single
   - [ ] a
   - [x] b
   - [ ] c
   - [ ] d
2. Multiple
   - [x] a
   - [x] b
   - [ ] c
   - [ ] d
   - [ ] e
3. Text
   - [=] answer
""")


def test_option_order_is_stable_and_personal():
    """The order depends only on the seed: the same on every call, different for other people."""
    question = QUIZ.questions[0]
    seeds = [order_seed(person, QUIZ.version, question.id) for person in range(40)]
    orders = [option_order(QUIZ, question, seed) for seed in seeds]
    assert orders == [option_order(QUIZ, question, seed) for seed in seeds]
    assert all(sorted(order) == sorted(o.id for o in question.options) for order in orders)
    assert len(set(orders)) > 5
    assert option_order(QUIZ, QUIZ.questions[2], seeds[0]) == ()
    assert order_seed(7, "abc", "q-1") == "7:abc:q-1"


def test_option_order_is_pinned():
    """A seed gives the same order on every machine and release (stored orders stay meaningful)."""
    ids = tuple(o.id for o in QUIZ.questions[0].options)
    order = option_order(QUIZ, QUIZ.questions[0], "1:v:q")
    assert order == tuple(ids[i] for i in (2, 0, 3, 1)), order


def test_shuffle_false_keeps_the_authors_order():
    """With shuffle: false every seed gives the author's order."""
    fixed = parse("1. Q\n   - [ ] a\n   - [x] b\n   - [ ] c\n", shuffle=False)
    question = fixed.questions[0]
    assert {option_order(fixed, question, str(s)) for s in range(20)} == {tuple(o.id for o in question.options)}


option_text = st.text(alphabet=st.characters(whitelist_categories=("L",)), min_size=1, max_size=10)


@st.composite
def quizzes(draw):
    """A random valid quiz source with shuffling on: choice questions of 3-6 options and text questions."""
    lines = []
    for n in range(1, draw(st.integers(1, 6)) + 1):
        lines.append(f"{n}. Question {n} {draw(option_text)}")
        texts = draw(st.lists(option_text, min_size=3, max_size=6, unique_by=grade_normalize))
        kind = draw(st.sampled_from(["single", "multiple", "text", "number"]))
        if kind == "text":
            lines += [f"   - [=] {t}" for t in texts]
        elif kind == "number":
            lines.append(f"   - [=] {draw(st.decimals(-1000, 1000, places=2))} EUR")
        else:
            correct = set(draw(st.lists(st.integers(0, len(texts) - 1), min_size=1 if kind == "single" else 2,
                                        max_size=1 if kind == "single" else len(texts), unique=True)))
            lines += [f"   - [{'x' if i in correct else ' '}] {t}" for i, t in enumerate(texts)]
        lines.append("")
    return "\n".join(lines), draw(st.integers(0, 100)), draw(st.integers(0, 10**6))


@given(quizzes())
@settings(max_examples=80, deadline=None)
def test_an_answer_built_from_the_key_always_scores_full_marks(case):
    """Answers built from the correct options in the person's shuffled order score 100 % and pass."""
    source, pass_mark, person = case
    quiz = parse(source, pass_mark=pass_mark)
    assert quiz.shuffle
    answers = {}
    for question in quiz.questions:
        order = option_order(quiz, question, order_seed(person, quiz.version, question.id))
        if question.kind == "text":
            answers[question.id] = [f" {question.accepted[-1].replace('.', ',')} " if question.numbers
                                    else f'"{question.accepted[0].upper()}."']
        else:
            answers[question.id] = [oid for oid in order if oid in question.correct_ids]
    for lang in ("en", "de"):
        result = grade(quiz, answers, lang=lang)
        assert (result.score, result.percent, result.passed) == (result.total, 100, True)


@pytest.mark.parametrize("answers", [{}, None, [], "text", 42, {None: None}, {1: [2]}, {"q": object()}])
def test_grade_is_total(answers):
    """Odd shapes grade to zero instead of raising."""
    assert grade(QUIZ, answers).score == 0
