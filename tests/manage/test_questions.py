"""Question analysis on a crafted set of attempts: share right, most chosen wrong answer, discrimination index."""
from __future__ import annotations

import re

import pytest

from coaching.extensions import db
from coaching.models import QuizAttempt
from coaching.services import catalog
from coaching.services.reports import questions

from .conftest import Q, answers

# (single, multi, text, wrong single option, wrong text) per attempt, in submission order; scores in comments.
CRAFTED = [
    (True, True, True, None, None),                   # 1: 3
    (True, True, True, None, None),                   # 2: 3
    (True, True, False, None, "CTR"),                 # 3: 2
    (True, False, True, None, None),                  # 4: 2
    (True, False, False, None, "cost per click"),     # 5: 1
    (False, True, True, Q.single_wrong, None),        # 6: 2
    (False, False, True, Q.single_wrong, None),       # 7: 1
    (False, False, False, Q.single_other, "Cost  per CLICK"),  # 8: 0
    (False, True, False, Q.single_wrong, "cost per click"),    # 9: 1
    (True, False, True, None, None),                  # 10: 2
]


@pytest.fixture
def crafted(world):
    """Ten affiliates, one attempt each, as in CRAFTED."""
    for i, (single, multi, text, wrong_single, wrong_text) in enumerate(CRAFTED):
        uid = world.user(f"Taker {i}")
        world.attempt(uid, answers(single, multi, text, wrong_single=wrong_single or Q.single_wrong,
                                   wrong_text=wrong_text or "x"))


def analyse(app):
    """The analysis of the demo quiz."""
    with app.app_context():
        lesson = catalog.catalog().course("demo").lesson("headlines")
        return questions.question_analysis("demo", lesson)


def test_upper_lower_group_size():
    """27% of the attempts, rounded; none below two attempts."""
    assert [questions.upper_lower_size(n) for n in (0, 1, 2, 3, 10, 100)] == [0, 0, 1, 1, 3, 27]


def test_numbers_on_crafted_attempts(app, crafted):
    """Ranked by score (earlier first on ties): top 3 = attempts 1, 2, 3; bottom 3 = attempts 7, 9, 8."""
    versions, older = analyse(app)
    assert older == 0 and len(versions) == 1
    v = versions[0]
    assert (v.lang, v.attempts, v.group_size) == ("en", 10, 3)
    single, multi, text = v.questions
    assert (single.percent_right, multi.percent_right, text.percent_right) == (60, 50, 60)
    assert (single.upper_right, single.lower_right, single.discrimination) == (3, 0, 1.0)
    assert (multi.upper_right, multi.lower_right, multi.discrimination) == (3, 1, 0.67)
    assert (text.upper_right, text.lower_right, text.discrimination) == (2, 1, 0.33)
    assert (single.top_wrong_html, single.top_wrong_count) == ("Click here now", 3)
    assert (multi.top_wrong_html, multi.top_wrong_count) == ("Organic search", 5)
    assert (text.top_wrong_text, text.top_wrong_count) == ("cost per click", 3)
    assert [q.discrimination_label for q in v.questions] == ["good", "good", "good"]


def test_older_versions_are_counted_apart(app, crafted, world):
    """An attempt graded with an earlier text of the quiz is reported but not analysed."""
    uid = world.user("Old Timer")
    with app.app_context():
        db.session.add(QuizAttempt(user_id=uid, submission_id="old-1", course_slug="demo", lesson_slug="headlines",
                                   language="en", content_hash="0" * 64, answers={}, results={Q.single: True},
                                   score=1, total=3, percent=33, passed=False))
        db.session.commit()
    versions, older = analyse(app)
    assert older == 1 and versions[0].attempts == 10


def test_page_shows_the_numbers_and_the_method(manager_client, crafted):
    """The page lists each question with share right, wrong answer, D and count, and explains D."""
    html = manager_client.get("/manage/courses/demo/headlines/questions").get_data(as_text=True)
    cells = re.findall(r'data-cell="(\w+)">([^<]*)', html)
    assert ("right", "60%") in cells and ("d", "1.00") in cells and ("d", "0.67") in cells and ("d", "0.33") in cells
    assert "Organic search" in html and "“cost per click”" in html
    assert "upper-lower" in html and "27%" in html


def test_no_attempts(manager_client):
    """Without attempts the page says so."""
    html = manager_client.get("/manage/courses/demo/headlines/questions").get_data(as_text=True)
    assert "No attempts yet" in html
