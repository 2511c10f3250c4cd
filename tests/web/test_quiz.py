"""Quizzes on the web: no answer key before grading, server-side grading, attempts, tampering, replays."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import LessonProgress, QuizAttempt, User
from coaching.services import quizzes
from tests.conftest import Auth, csrf_token
from tests.web.helpers import QUIZ_URL, answers, read_quiz, submit


def attempts(app) -> list[QuizAttempt]:
    """All stored attempts."""
    with app.app_context():
        return list(db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.id)))


class AttributeCollector(HTMLParser):
    """Collects every attribute name and value and all comments of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.attributes.extend((k, v or "") for k, v in attrs)

    def handle_comment(self, data):
        self.comments.append(data)


def test_quiz_form_carries_no_answer_key(client, logged_in):
    """Before grading the page holds no correct flag, explanation or accepted answer, and labels every input."""
    body = client.get("/courses/demo/headlines").get_data(as_text=True)
    assert "A concrete, measurable benefit" not in body  # explanation
    assert "click-through rate" not in body.lower()  # accepted free-text answer
    parser = AttributeCollector()
    parser.feed(body)
    for name, value in parser.attributes:
        assert "correct" not in name.lower() and "correct" not in value.lower()
        assert "answer" not in name.lower() or name == "autocomplete"
    assert not any("x]" in c or "correct" in c for c in parser.comments)
    form = read_quiz(client)
    assert set(form.kinds.values()) == {"single", "multiple", "text"}
    for question, values in form.questions.items():
        for value in values:
            assert form.labels.get(f"{question}-{value}"), "every option has a label"


def test_ids_are_stable_not_positions(client, logged_in):
    """Question and option ids are content-derived, not positions."""
    form = read_quiz(client)
    for question, values in form.questions.items():
        assert question.startswith("q-") and len(question) > 5
        assert all(v.startswith("o-") for v in values)


def test_correct_answers_pass_and_complete_lesson(app, client, logged_in):
    """A passing submission is graded 100%, completes the lesson and shows the explanations."""
    response = submit(client, answers(read_quiz(client)))
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "100%" in result and "Passed" in result and "A concrete, measurable benefit" in result
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt))
        assert (attempt.score, attempt.total, attempt.percent, attempt.passed) == (3, 3, 100, True)
        assert attempt.language == "en" and len(attempt.content_hash) >= 16
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1


def test_wrong_answers_fail_and_show_way_forward(app, client, logged_in):
    """A failing submission with attempts left shows which questions were wrong and a retry button, but
    not the key (the default `show_answers: after_pass`)."""
    response = submit(client, answers(read_quiz(client), right=False))
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0%" in result and "Failed" in result and "Try again" in result and "Not correct" in result
    assert "Organic search is earned" not in result and ">right answer<" not in result
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_best_attempt_counts(app, client, logged_in):
    """A later worse attempt never takes a pass away."""
    submit(client, answers(read_quiz(client)))
    response = submit(client, answers(read_quiz(client), right=False))
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "earlier pass still counts" in result
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    assert "Your best result so far: 100%" in client.get("/courses/demo/headlines").get_data(as_text=True)


def test_replayed_submission_records_one_attempt(app, client, logged_in):
    """The same form posted twice (double click, back button) records one attempt and shows the same result."""
    form = read_quiz(client)
    first = submit(client, answers(form), form)
    second = submit(client, answers(form), form)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(attempts(app)) == 1


def test_back_button_resubmission_records_one_attempt(app, client, logged_in):
    """The same answers sent again from a reloaded page (back button: new form id) are the same attempt."""
    first = submit(client, answers(read_quiz(client), right=False))
    second = submit(client, answers(read_quiz(client), right=False))
    assert first.headers["Location"] == second.headers["Location"]
    assert len(attempts(app)) == 1
    changed = answers(read_quiz(client), right=True)
    submit(client, changed)
    assert len(attempts(app)) == 2


def test_empty_quiz_is_refused_and_answers_kept(app, client, logged_in):
    """Missing answers: a clear message, what was given is kept, nothing is stored."""
    form = read_quiz(client)
    single = next(q for q, k in form.kinds.items() if k == "single")
    chosen = form.questions[single][1]
    response = submit(client, {single: chosen}, form)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please answer every question" in body and "Please answer this question." in body
    assert f'value="{chosen}" checked' in body
    assert attempts(app) == []


@pytest.mark.parametrize("tamper", ["unknown_option", "two_singles", "duplicate_multi", "other_quiz_option",
                                    "huge_text", "two_texts"])
def test_tampered_answers_are_400_and_store_nothing(app, client, logged_in, tamper):
    """Unknown options, lists for single choice, duplicates, huge strings: 400, no attempt."""
    form = read_quiz(client)
    data = answers(form)
    single = next(q for q, k in form.kinds.items() if k == "single")
    multi = next(q for q, k in form.kinds.items() if k == "multiple")
    text = next(q for q, k in form.kinds.items() if k == "text")
    if tamper == "unknown_option":
        data[single] = "o-deadbeef"
    elif tamper == "two_singles":
        data[single] = form.questions[single][:2]
    elif tamper == "duplicate_multi":
        data[multi] = data[multi] + data[multi][:1]
    elif tamper == "other_quiz_option":
        data[single] = form.questions[multi][0]
    elif tamper == "huge_text":
        data[text] = "x" * 10_000
    else:
        data[text] = ["click-through rate", "ctr"]
    assert submit(client, data, form).status_code == 400
    assert attempts(app) == []


def test_extra_fields_cannot_raise_a_score(app, client, logged_in):
    """score=100, passed=1, user_id=2, role=manager and q1[] style names are ignored."""
    form = read_quiz(client)
    data = answers(form, right=False)
    data.update({"score": "100", "passed": "1", "percent": "100", "user_id": "2", "role": "manager"})
    data.update({f"{q}[]": v for q, v in answers(form).items()})
    submit(client, data, form)
    [attempt] = attempts(app)
    assert attempt.score == 0 and not attempt.passed and attempt.user_id == logged_in.id
    with app.app_context():
        assert db.session.get(User, logged_in.id).role == "affiliate"


def test_value_variants_get_no_credit(app, client, logged_in):
    """Values such as ' o-xxx' or 'o-xxx.0' are not the option id: refused, never credited."""
    form = read_quiz(client)
    data = answers(form)
    single = next(q for q, k in form.kinds.items() if k == "single")
    data[single] = " " + data[single]
    assert submit(client, data, form).status_code == 400


def test_changed_content_says_so_and_stores_nothing(app, client, logged_in):
    """A quiz posted for an older content version is not graded; the person is sent to the new version."""
    form = read_quiz(client)
    form.hidden["quiz_version"] = "0" * 16
    response = submit(client, answers(form), form)
    assert response.status_code == 303
    assert "was updated while you had it open" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert attempts(app) == []


def test_quiz_post_for_lesson_without_quiz_is_404(client, logged_in):
    """Posting a quiz to a lesson that has none is 404."""
    form = read_quiz(client)
    assert client.post("/courses/demo/welcome/quiz", data=form.hidden).status_code == 404


def test_unauthenticated_quiz_post_redirects_to_login(client):
    """An anonymous quiz post (with a valid CSRF token) goes to the login page."""
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    response = client.post(QUIZ_URL, data={"csrf_token": token})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_max_attempts_refused_then_manager_grant(app, client, logged_in):
    """Beyond max_attempts (3) a clear message; a manager's grant allows one more."""
    for i in range(3):
        form = read_quiz(client)
        data = answers(form, right=False)
        data[next(q for q, k in form.kinds.items() if k == "text")] = f"wrong answer {i}"
        submit(client, data, form)
    page = client.get("/courses/demo/headlines").get_data(as_text=True)
    assert "You have used all attempts" in page and "Submit answers" not in page
    form = read_quiz(client)
    assert form.hidden == {}
    with app.app_context():
        from coaching.services.quizzes import grant_attempt

        grant_attempt(logged_in.id, "demo", "headlines", db.session.get(User, logged_in.id))
        db.session.commit()
    form = read_quiz(client)
    assert submit(client, answers(form), form).status_code == 303
    assert len(attempts(app)) == 4


def test_attempt_of_someone_else_is_404(app, client, logged_in, make_user):
    """Another person's attempt result page is 404."""
    response = submit(client, answers(read_quiz(client)))
    location = response.headers["Location"]
    make_user(email="other@example.com")
    other = app.test_client()
    Auth(other).login("other@example.com")
    assert other.get(location).status_code == 404


def test_shuffle_is_stable_per_person(app_factory, tmp_path):
    """With shuffle: true each person sees a stable order of the options."""
    import shutil

    from tests.conftest import DEMO_CONTENT

    content = tmp_path / "c"
    shutil.copytree(DEMO_CONTENT, content)
    lesson = content / "demo" / "02-headlines.md"
    lesson.write_text(lesson.read_text().replace("max_attempts: 3", "max_attempts: 3\nshuffle: true"))
    app = app_factory(CONTENT_DIR=content)
    orders = []
    for i in range(6):
        with app.app_context():
            from coaching.services.accounts import create_user

            create_user(email=f"s{i}@example.com", name="S", password="a good passphrase")
            db.session.commit()
        client = app.test_client()
        Auth(client).login(f"s{i}@example.com", "a good passphrase")
        first = read_quiz(client)
        again = read_quiz(client)
        assert first.questions == again.questions
        orders.append(tuple(tuple(v) for v in first.questions.values()))
    assert len(set(orders)) > 1


@pytest.mark.parametrize("results, grants, best, left", [
    ([], 0, None, 3),
    ([(40, False)], 0, (40, False), 2),
    ([(40, False), (70, False), (55, False)], 1, (70, False), 1),
    ([(60, False), (80, True), (100, True), (90, False)], 0, (100, True), 0),
    ([(100, True), (75, True)], 2, (100, True), 3),
    ([(95, False), (75, True)], 0, (75, True), 1),  # a pass with less counts over a higher fail
])
def test_quiz_standing_counts_grants_and_prefers_passes(app, affiliate, manager, results, grants, best, left):
    """Attempts left = max_attempts + grants - used (never below 0, None when unlimited); the best result
    is the highest pass, else the highest fail; another person's attempts do not count."""
    from coaching.models import AttemptGrant

    with app.app_context():
        for n, (percent, passed) in enumerate(results):
            db.session.add(QuizAttempt(user_id=affiliate.id, submission_id=f"s{n}", course_slug="demo",
                                       lesson_slug="headlines", language="en", content_hash="h", answers={},
                                       results={}, score=percent, total=100, percent=percent, passed=passed))
        db.session.add(QuizAttempt(user_id=manager.id, submission_id="other", course_slug="demo",
                                   lesson_slug="headlines", language="en", content_hash="h", answers={},
                                   results={}, score=100, total=100, percent=100, passed=True))
        for _ in range(grants):
            db.session.add(AttemptGrant(user_id=affiliate.id, course_slug="demo", lesson_slug="headlines",
                                        granted_by_id=manager.id))
        db.session.commit()
        standing = quizzes.quiz_standing(affiliate.id, "demo", "headlines", 3)
        assert standing.left == left
        if best is None:
            assert standing.best is None
        else:
            assert (standing.best.percent, standing.best.passed) == best
        assert quizzes.quiz_standing(affiliate.id, "demo", "headlines", None).left is None
