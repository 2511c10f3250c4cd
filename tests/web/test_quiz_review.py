"""What a result page shows (`show_answers`), the per-person option order, limits set later, and grants
once the key was seen: the quiz engine's rules as a person meets them in the browser."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from coaching.extensions import db
from coaching.models import QuizAttempt
from coaching.services import catalog, quizzes
from tests.conftest import csrf_token
from tests.web.helpers import answers, read_quiz, signed_in_client, submit

LESSON = Path("demo") / "02-headlines.md"
EXPLANATION = "A concrete, measurable benefit"


def set_front_matter(content: Path, **settings: Any) -> None:
    """Replace or add front matter keys of the demo quiz lesson."""
    path = content / LESSON
    text = path.read_text(encoding="utf-8")
    head, _, body = text[4:].partition("\n---\n")
    lines = [line for line in head.splitlines() if line.split(":")[0] not in settings]
    lines += [f"{key}: {value}" for key, value in settings.items() if value is not None]
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")


def result_page(client: Any, *, right: bool, tweak: str = "") -> str:
    """Submit the demo quiz (all right or all wrong) and return the result page."""
    data = answers(read_quiz(client), right=right)
    if tweak:  # a different typed answer, so the attempt is not taken for a back-button replay
        data[next(q for q in data if isinstance(data[q], str) and not data[q].startswith("o-"))] = tweak
    response = submit(client, data)
    assert response.status_code == 303, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def shows_key(html: str) -> bool:
    """True when the page shows right options and explanations."""
    return ">right answer<" in html and EXPLANATION in html


@pytest.fixture
def quiz_app(app_factory: Any, content_copy: Path) -> Any:
    """Build an app whose demo quiz has the given front matter settings."""
    def build(**settings: Any) -> tuple[Any, Any]:
        set_front_matter(content_copy, **settings)
        app = app_factory(CONTENT_DIR=content_copy)
        return app, signed_in_client(app)

    return build


def test_after_pass_hides_the_key_while_attempts_are_left_and_shows_it_when_none_are(quiz_app):
    """after_pass (default): failed attempts with attempts left show which questions were wrong only; the
    last failed attempt shows the whole key and the explanations."""
    _app, client = quiz_app(max_attempts=2, show_answers="after_pass")
    first = result_page(client, right=False)
    assert "Not correct" in first and not shows_key(first) and "Try again" in first
    last = result_page(client, right=False, tweak="still wrong")
    assert shows_key(last) and "Try again" not in last


def test_after_pass_shows_the_key_once_passed(quiz_app):
    """after_pass: a pass shows right options and explanations."""
    _app, client = quiz_app(max_attempts=3)
    assert shows_key(result_page(client, right=True))


def test_immediate_shows_everything_at_once(quiz_app):
    """immediate (practice): the first failed attempt already shows the key and the explanations."""
    _app, client = quiz_app(show_answers="immediate", max_attempts=3)
    page = result_page(client, right=False)
    assert shows_key(page) and "Try again" in page


@pytest.mark.parametrize("right", [False, True])
def test_never_shows_the_score_only(quiz_app, right):
    """never (exams): with attempts left or none, passed or failed: the score, no marks, no key."""
    _app, client = quiz_app(show_answers="never", max_attempts=1)
    page = result_page(client, right=right)
    assert ("100%" if right else "0%") in page
    assert "Not correct" not in page and "✓ Correct" not in page and not shows_key(page)
    assert "shows the score only" in page


def test_the_option_order_is_stable_per_person_and_differs_between_people(quiz_app, make_user):
    """Options are shuffled per person: a reload shows the same order; over a few people orders differ."""
    app, client = quiz_app(max_attempts=3)
    form = read_quiz(client)
    again = read_quiz(client)
    assert form.questions == again.questions
    orders = {tuple(map(tuple, form.questions.values()))}
    for n in range(6):
        other = signed_in_client_for(app, make_user, f"p{n}@example.com")
        orders.add(tuple(map(tuple, read_quiz(other).questions.values())))
    assert len(orders) > 1


def signed_in_client_for(app: Any, make_user: Any, email: str) -> Any:
    """A client signed in as a new affiliate."""
    from tests.conftest import Auth

    make_user(email=email)
    client = app.test_client()
    assert Auth(client).login(email).status_code == 302
    return client


def test_shuffle_false_keeps_the_authors_order(quiz_app):
    """shuffle: false shows every person the options as written."""
    app, client = quiz_app(shuffle="false")
    form = read_quiz(client)
    with app.app_context():
        quiz = catalog.catalog().course("demo").lesson("headlines").texts["en"].quiz
        assert [list(q.options and [o.id for o in q.options]) for q in quiz.questions if q.options] == \
            [values for values in form.questions.values() if values]


def test_the_order_is_recorded_and_the_result_lists_options_in_it(quiz_app):
    """The attempt stores the order shown; the result page lists the options in that order."""
    app, client = quiz_app(max_attempts=3, show_answers="immediate")
    form = read_quiz(client)
    page = result_page(client, right=True)
    with app.app_context():
        attempt = db.session.scalar(db.select(QuizAttempt))
        assert {q: tuple(o) for q, o in attempt.option_orders.items()} == \
            {q: tuple(values) for q, values in form.questions.items() if values}
    for question, shown in form.questions.items():
        labels = [form.labels[f"{question}-{value}"].strip() for value in shown]
        positions = [page.find(label) for label in labels]
        assert positions == sorted(positions) and -1 not in positions


def test_an_answer_built_from_the_key_scores_full_marks_with_shuffling_on(quiz_app):
    """Whatever order a person sees, picking the right options (by id) passes with 100 %."""
    app, client = quiz_app(max_attempts=3)
    with app.app_context():
        quiz = catalog.catalog().course("demo").lesson("headlines").texts["en"].quiz
        data = {q.id: (list(q.correct_ids) if q.kind != "text" else q.accepted[0]) for q in quiz.questions}
    response = submit(client, data)
    assert "100%" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_option_that_was_not_shown_is_a_400_and_nothing_is_stored(quiz_app):
    """An option id of another question (never shown for this one) is refused with 400."""
    app, client = quiz_app()
    form = read_quiz(client)
    data = answers(form)
    single, multiple = (next(q for q, k in form.kinds.items() if k == kind) for kind in ("single", "multiple"))
    data[single] = form.questions[multiple][0]
    assert submit(client, data, form).status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(QuizAttempt)) == 0


def test_a_limit_set_later_counts_only_attempts_made_after_it(quiz_app, content_copy):
    """Two attempts without a limit, then the author sets max_attempts: 2: both attempts are still left."""
    app, client = quiz_app(max_attempts=None)
    result_page(client, right=False)
    result_page(client, right=False, tweak="wrong twice")
    set_front_matter(content_copy, max_attempts=2)
    with app.app_context():
        app.extensions["coaching.content"].reload()
    assert "2 attempts left." in client.get("/courses/demo/headlines").get_data(as_text=True)
    result_page(client, right=False, tweak="wrong three times")
    assert "1 attempt left." in client.get("/courses/demo/headlines").get_data(as_text=True)


def test_a_limit_lowered_later_counts_only_attempts_made_after_it(quiz_app, content_copy):
    """Lowering max_attempts from 5 to 2 starts the count again; raising it never does."""
    app, client = quiz_app(max_attempts=5)
    result_page(client, right=False)
    result_page(client, right=False, tweak="wrong twice")
    set_front_matter(content_copy, max_attempts=2)
    with app.app_context():
        app.extensions["coaching.content"].reload()
    assert "2 attempts left." in client.get("/courses/demo/headlines").get_data(as_text=True)
    result_page(client, right=False, tweak="wrong three times")
    set_front_matter(content_copy, max_attempts=3)
    with app.app_context():
        app.extensions["coaching.content"].reload()
    assert "2 attempts left." in client.get("/courses/demo/headlines").get_data(as_text=True)


def grant(manager_client: Any, user_id: int) -> Any:
    """A manager grants one more attempt at the demo quiz."""
    page = manager_client.get(f"/manage/affiliates/{user_id}").get_data(as_text=True)
    return manager_client.post(f"/manage/affiliates/{user_id}/grant-attempt",
                               data={"csrf_token": csrf_token(page), "course": "demo", "lesson": "headlines"},
                               follow_redirects=True)


def test_a_grant_is_refused_once_the_key_was_shown(quiz_app, make_user):
    """after_pass with no attempts left shows the key: a grant then is refused with the reason."""
    app, client = quiz_app(max_attempts=1)
    result_page(client, right=False)
    manager = signed_in_manager(app, make_user)
    page = grant(manager, 1).get_data(as_text=True)
    assert "already seen the answer key" in page
    with app.app_context():
        assert quizzes.quiz_standing(1, "demo", "headlines", 1).left == 0


def test_a_grant_works_while_the_key_stays_private(quiz_app, make_user):
    """show_answers: never keeps the key private, so a manager can grant another attempt."""
    app, client = quiz_app(max_attempts=1, show_answers="never")
    result_page(client, right=False)
    manager = signed_in_manager(app, make_user)
    assert "One more attempt granted" in grant(manager, 1).get_data(as_text=True)
    assert "1 attempt left." in client.get("/courses/demo/headlines").get_data(as_text=True)


def signed_in_manager(app: Any, make_user: Any) -> Any:
    """A client signed in as a manager."""
    from tests.conftest import Auth

    make_user(email="boss@example.com", name="Maria Manager", role="manager")
    client = app.test_client()
    assert Auth(client).login("boss@example.com").status_code == 302
    return client


def test_a_typo_fix_in_the_prose_keeps_the_quiz_version(quiz_app, content_copy):
    """Editing lesson text (not the quiz) keeps the version: the open form still submits, the old attempt's
    review stays available."""
    app, client = quiz_app(max_attempts=3)
    form = read_quiz(client)
    path = content_copy / LESSON
    path.write_text(path.read_text(encoding="utf-8").replace("outperforms", "out-performs"), encoding="utf-8")
    with app.app_context():
        app.extensions["coaching.content"].reload()
    response = submit(client, answers(form), form)
    assert re.search(r"/attempts/\d+$", response.headers["Location"])
    assert shows_key(client.get(response.headers["Location"]).get_data(as_text=True))


def test_a_typed_number_is_read_in_the_language_of_the_text_shown(quiz_app, content_copy, make_user):
    """The demo quiz has no German text: a reader with German settings sees the English text, so "1,500"
    is read the English way (1500) and is right, while "1,5" stays 1.5 and is wrong."""
    path = content_copy / LESSON
    path.write_text(path.read_text(encoding="utf-8").replace(
        "3. What does CTR stand for?\n   - [=] click-through rate\n   - [=] click through rate",
        "3. How many clicks are 1,500 clicks?\n   - [=] 1500"), encoding="utf-8")
    app, client = quiz_app(max_attempts=5)
    from coaching.models import User

    with app.app_context():
        db.session.execute(db.update(User).values(language="de"))
        db.session.commit()
    form = read_quiz(client)
    data = answers(form)
    text_question = next(q for q, kind in form.kinds.items() if kind == "text")
    data[text_question] = "1,500"
    response = submit(client, data, form)
    assert "100%" in client.get(response.headers["Location"]).get_data(as_text=True)
    data[text_question] = "1,5"  # a decimal comma: 1.5 in either reading, not 1500
    response = submit(client, data, read_quiz(client))
    assert "100%" not in client.get(response.headers["Location"]).get_data(as_text=True)
