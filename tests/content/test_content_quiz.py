"""The quiz parser (errors with line numbers) and server-side grading."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching.content import Option, Question, Quiz, grade, load_catalog, normalize_text
from coaching.content.markdown import RenderContext, Renderer
from coaching.content.quiz import QuizSettings, parse_quiz, split_quiz

from .helpers import lesson_md, make_course, messages

BASE = "/courses/c/assets/"
CONTEXT = RenderContext(Renderer(), BASE)


def parse(text: str, heading_line: int = 10, pass_mark: int = 80, lang: str = "en", **settings):
    """Parse quiz lines whose `## Quiz` heading sits on `heading_line`."""
    return parse_quiz(text.split("\n"), heading_line, context=CONTEXT,
                      settings=QuizSettings(pass_mark, **settings), lang=lang)


def issues(text: str, heading_line: int = 10):
    """Return (line, message) of every issue."""
    return [(line, message) for line, message, _ in parse(text, heading_line).issues]


GOOD = """
1. Which headline promises a concrete benefit?
   - [ ] Click here now
   - [x] Save three hours a week on **reporting**
   - [ ] Our tool is great

   > A concrete, measurable benefit gives the reader a reason to click.
   > It is also [testable](https://example.com).

2. Which of these are paid channels? Choose all that apply.
   - [x] Search ads
   - [x] Sponsored newsletter placements
   - [ ] Organic search

3. What does CTR stand for?
   - [=] click-through rate
   - [=] click through rate
"""


def test_good_quiz_parses():
    """Kinds, ids, options, accepted answers, explanations and lines are read."""
    parsed = parse(GOOD)
    assert parsed.issues == ()
    q1, q2, q3 = parsed.quiz.questions
    assert [q.kind for q in (q1, q2, q3)] == ["single", "multiple", "text"]
    assert [q.line for q in (q1, q2, q3)] == [12, 20, 25]
    assert q1.id.startswith("q-") and len(q1.id) == 12
    assert all(o.id.startswith("o-") and len(o.id) == 10 for o in q1.options)
    assert q1.options[1].html == "Save three hours a week on <strong>reporting</strong>"
    assert [o.correct for o in q1.options] == [False, True, False]
    assert q1.explanation_html.startswith("<p>A concrete, measurable benefit")
    assert 'rel="noopener noreferrer"' in q1.explanation_html
    assert q3.accepted == ("click-through rate", "click through rate") and q3.options == ()
    assert parsed.quiz.pass_mark == 80


def test_ids_are_stable_when_questions_move():
    """Ids come from the text: reordering questions or renumbering keeps them."""
    first = parse(GOOD).quiz
    blocks = GOOD.strip().split("\n\n")
    moved = "\n\n".join([blocks[3].replace("3.", "1."), blocks[0], blocks[1], blocks[2]])
    second = parse(moved).quiz
    assert {q.id for q in first.questions} == {q.id for q in second.questions}
    assert first.questions[0].options == second.question(first.questions[0].id).options


@pytest.mark.parametrize("text, expected", [
    ("\n1. A question\n", [(12, "the question has no options ('- [ ]', '- [x]' or '- [=]')")]),
    ("\n1. Q\n   - [ ] a\n   - [ ] b\n", [(12, "no correct option: mark at least one with '[x]'")]),
    ("\n1. Q\n   - [x] a\n   - [=] b\n",
     [(14, "'[=]' answers cannot be mixed with '[ ]'/'[x]' options in one question")]),
    ("\n1. Q\n   - [x] a\n   - [ ]\n", [(14, "empty option")]),
    ("\n1. Q\n   - [x] a\n   - [ ] A \n", [(14, "duplicate option (same text as line 13)")]),
    ("\n1. Same\n   - [x] a\n   - [ ] b\n2. same\n   - [x] a\n   - [ ] b\n",
     [(15, "duplicate question (same text as line 12)")]),
    ("\n\n", [(10, "the '## Quiz' section has no questions")]),
    ("Intro text\n1. Q\n   - [x] a\n   - [ ] b\n",
     [(11, "expected a numbered question such as '1. Which ...?'")]),
    ("\n1. Q\n   - [x] a\n   - [ ] c\n   - [y] b\n", [(15, "an option must start with '- [ ]', '- [x]' or '- [=]'")]),
    ("\n1. Q\n   - [x] a\n   - [ ] b\n   stray text\n",
     [(15, "unexpected text in a question: options start with '- [ ]', '- [x]' or '- [=]', "
           "the explanation with '>'")]),
    ("\n1. Q\n   - [x] only\n", [(12, "a choice question needs at least two options")]),
    ("\n1.\n   - [x] a\n   - [ ] b\n", [(12, "the question has no text")]),
])
def test_parser_errors_have_lines(text, expected):
    """Every quiz error is reported at its file line."""
    assert issues(text) == expected


def test_one_bad_question_keeps_the_others_in_the_preview():
    """A broken question is dropped from the (best-effort) quiz; the others remain."""
    parsed = parse("\n1. Bad\n2. Good\n   - [x] a\n   - [ ] b\n")
    assert [q.html for q in parsed.quiz.questions] == ["Good"]
    assert len(parsed.issues) == 1


def test_multiline_question_text():
    """A question may wrap over several lines before its options."""
    quiz = parse("1. A long question\n   that wraps\n   - [x] a\n   - [ ] b\n").quiz
    assert quiz.questions[0].html == "A long question that wraps"


def test_split_quiz_ignores_code_and_stops_at_next_h2():
    """`## Quiz` inside a code fence is text; the section ends at the next level-2 heading."""
    body = "Intro\n```\n## Quiz\n```\n## Quiz\n1. Q\n   - [x] a\n   - [ ] b\n## After\nMore"
    section = split_quiz(body, body_line=6)
    assert section.heading_line == 10
    assert section.quiz_lines == ("1. Q", "   - [x] a", "   - [ ] b")
    assert section.prose == "Intro\n```\n## Quiz\n```\n## After\nMore"


def test_second_quiz_heading_is_an_error():
    """Only one quiz per lesson."""
    section = split_quiz("## Quiz\n1. Q\n## Other\n## Quiz\n", body_line=5)
    assert section.issues == ((8, "a second '## Quiz' section; a lesson has one quiz", "error"),)


def test_quiz_errors_through_the_loader(content):
    """Quiz errors carry the file path and line; other lessons still load."""
    body = "Text\n\n## Quiz\n\n1. Q\n   - [ ] a\n   - [ ] b\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body), "02-b.md": lesson_md("B")})
    catalog = load_catalog(content)
    assert messages(catalog) == ["lessons/c/01-a.md:10: no correct option: mark at least one with '[x]'"]
    assert [lesson.slug for lesson in catalog.course("c").lessons] == ["b"]


def test_pass_mark_out_of_range_through_the_loader(content):
    """pass_mark outside 0-100 is reported on its line."""
    make_course(content, lessons={"01-a.md": lesson_md(extra="pass_mark: 250\n",
                                                       body="## Quiz\n1. Q\n   - [x] a\n   - [ ] b")})
    assert messages(load_catalog(content)) == ["lessons/c/01-a.md:5: 'pass_mark' must be 0-100, got 250"]


def test_quiz_is_not_in_the_lesson_html(content):
    """The answer key never lands in the body HTML."""
    body = "Read this.\n\n## Quiz\n\n1. Q\n   - [ ] wrong one\n   - [x] secret right one\n"
    make_course(content, lessons={"01-a.md": lesson_md(body=body)})
    text = load_catalog(content).course("c").lesson("a").texts["en"]
    assert "secret" not in text.html and "Quiz" not in text.html
    assert text.quiz.questions[0].options[1].correct


# -- grading -------------------------------------------------------------------------------

QUIZ = parse(GOOD).quiz
Q1, Q2, Q3 = QUIZ.questions
RIGHT1 = Q1.options[1].id
WRONG1 = Q1.options[0].id
M1, M2, M3 = (o.id for o in Q2.options)


def perfect() -> dict:
    """Return the answer key as a submission."""
    return {Q1.id: [RIGHT1], Q2.id: [M1, M2], Q3.id: ["click-through rate"]}


def test_perfect_answers_pass():
    """The key scores 3/3, 100 %."""
    result = grade(QUIZ, perfect())
    assert (result.score, result.total, result.percent, result.passed) == (3, 3, 100, True)
    assert result.results[1].expected == (M1, M2)
    assert result.results[2].expected == ("click-through rate", "click through rate")


@pytest.mark.parametrize("answer", [
    [RIGHT1, RIGHT1],            # duplicate values
    [RIGHT1, WRONG1],            # two values for single choice
    ["1.0"], [" " + RIGHT1], [RIGHT1.upper()], ["q1[]"], [],
    [M1],                        # another question's option id
    [RIGHT1 + "\x00"],
    [1], [None], [[RIGHT1]],
])
def test_tampered_single_choice_gets_no_credit(answer):
    """Anything but exactly the one correct id earns nothing."""
    result = grade(QUIZ, {**perfect(), Q1.id: answer})
    assert result.score == 2 and not result.results[0].correct


@pytest.mark.parametrize("answer", [
    [M1], [M1, M2, M3], [M1, M2, "o-unknown"], [M1, M1, M2], [M2, M2], [RIGHT1, M1, M2],
])
def test_multiple_choice_is_all_or_nothing(answer):
    """The given set must equal the correct set exactly, no duplicates, no unknown ids."""
    assert not grade(QUIZ, {**perfect(), Q2.id: answer}).results[1].correct


def test_multiple_choice_order_does_not_matter():
    """Order of the ids is irrelevant."""
    assert grade(QUIZ, {**perfect(), Q2.id: [M2, M1]}).score == 3


@pytest.mark.parametrize("answer, ok", [
    (["  Click-Through   RATE "], True), (["click through rate"], True),
    (["CLICK\tTHROUGH\nRATE"], True), (["click-through rate", "x"], False), ([""], False),
    (["clickthrough rate"], False), ([], False), (["x" * 5000], False),
])
def test_text_answers_are_normalized(answer, ok):
    """Case, surrounding and repeated whitespace are ignored; one value only."""
    assert grade(QUIZ, {**perfect(), Q3.id: answer}).results[2].correct is ok


def test_string_value_counts_as_one_value():
    """A bare string (not a list) is treated as one value, not a sequence of characters."""
    assert grade(QUIZ, {**perfect(), Q1.id: RIGHT1}).score == 3


def test_missing_and_unknown_questions():
    """A missing question earns nothing; answers to unknown questions are ignored."""
    result = grade(QUIZ, {Q1.id: [RIGHT1], "q-0000000000": ["x"], "": [""]})
    assert (result.score, result.total, result.percent) == (1, 3, 33)


@pytest.mark.parametrize("answers", [{}, None, [], "text", 42, {None: None}, {1: [2]}])
def test_grade_never_raises(answers):
    """Grading odd shapes returns zero instead of raising."""
    assert grade(QUIZ, answers).score == 0


@pytest.mark.parametrize("score, total, pass_mark, percent, passed", [
    (2, 3, 67, 67, False),   # 66.67 % rounds to 67 but 200 < 201: integer rule decides
    (2, 3, 66, 67, True),
    (1, 8, 80, 13, False),   # 12.5 rounds half up to 13
    (4, 5, 80, 80, True),
    (0, 1, 0, 0, True),
])
def test_percent_and_pass_rule(score, total, pass_mark, percent, passed):
    """percent rounds half up; passed is score*100 >= pass_mark*total in integers."""
    questions = tuple(Question(f"q-{i}", "single", "", (Option("o-a", "a", True), Option("o-b", "b", False)),
                               (), "", i) for i in range(total))
    quiz = Quiz(questions, pass_mark, None, False)
    answers = {q.id: ["o-a" if i < score else "o-b"] for i, q in enumerate(questions)}
    result = grade(quiz, answers)
    assert (result.score, result.percent, result.passed) == (score, percent, passed)


def test_normalize_text():
    """NFC, case folding, trimming and collapsing whitespace."""
    assert normalize_text("  Stra\u00dfe  GRO\u00df ") == "strasse gross"
    assert normalize_text("A\u0308rger") == normalize_text("\u00c4RGER")


option_text = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=12)


@st.composite
def quizzes(draw):
    """Draw a valid quiz source of 1-6 questions of every kind."""
    lines = []
    for n in range(1, draw(st.integers(1, 6)) + 1):
        lines.append(f"{n}. Question number {n} {draw(option_text)}")
        kind = draw(st.sampled_from(["single", "multiple", "text"]))
        texts = draw(st.lists(option_text, min_size=2, max_size=5,
                              unique_by=normalize_text))
        if kind == "text":  # words, not numbers: numeric keys of one question must agree, drawn ones would not
            lines += [f"   - [=] w{t}" for t in texts]
        else:
            correct = {0} if kind == "single" else {0, 1}
            marks = ["x" if i in correct else " " for i in range(len(texts))]
            order = draw(st.permutations(range(len(texts))))
            lines += [f"   - [{marks[i]}] {texts[i]}" for i in order]
        lines.append("")
    return "\n".join(lines), draw(st.integers(0, 100))


def key_for(quiz: Quiz) -> dict:
    """Answer every question with its own key."""
    return {q.id: list(q.correct_ids) if q.kind != "text" else [f"  {q.accepted[-1]} "]
            for q in quiz.questions}


@given(quizzes())
@settings(max_examples=60, deadline=None)
def test_own_key_always_scores_full_marks(case):
    """A quiz answered with its own key scores 100 % and passes, whatever the pass mark."""
    source, pass_mark = case
    parsed = parse(source, pass_mark=pass_mark)
    assert parsed.issues == ()
    result = grade(parsed.quiz, key_for(parsed.quiz))
    assert result.percent == 100 and result.passed and result.score == result.total
