"""A quiz submission sends a handful of statements, the same number however many attempts, questions or lessons
there are (no query per question, per lesson or per earlier attempt); certificate work only when the attempt can
complete the course."""
from __future__ import annotations

from typing import Any

from tests.dbwatch import statements_sent
from tests.web.helpers import answers, complete_welcome, read_quiz, submit

FAILED_MOST = 6  # replay check, the attempt, the enrollment's activity, last seen; with a limit (the demo quiz
#                  has max_attempts) the standing, and on PostgreSQL the person's row lock
PASSED_MOST = 10  # and the lesson's progress, the course-complete count, the figures for the next page


def submission_statements(seen: list[str]) -> list[str]:
    """The statements of a request, short, without the publisher's check (every CONTENT_RELOAD_SECONDS, 0 here)."""
    return [" ".join(statement.split())[:90] for statement in seen if "content_revisions" not in statement]


def post_quiz(app: Any, client: Any, *, right: bool, text: str = "") -> list[str]:
    """Read the form (not counted), submit it (counted); the statements of the submission. Another `text`
    makes a wrong submission differ from the latest (the same answers again would be a back-button replay)."""
    form = read_quiz(client)
    data = answers(form, right=right)
    if text:
        data.update({question: text for question, kind in form.kinds.items() if kind == "text"})
    with statements_sent(app) as seen:
        response = submit(client, data, form)
    assert response.status_code == 303, response.status_code
    return submission_statements(seen)


def test_a_failed_submission_sends_a_handful_of_statements(app: Any, client: Any, logged_in: Any) -> None:
    """Wrong answers: graded and stored with a fixed, small number of statements, none for certificates."""
    first = post_quiz(app, client, right=False)
    assert len(first) <= FAILED_MOST, first
    assert not any("certificates" in statement for statement in first), first
    for n in range(2):  # earlier attempts do not add statements (the demo quiz allows three)
        again = post_quiz(app, client, right=False, text=f"wrong answer {n}")
        assert len(again) == len(first), (first, again)


def test_a_passing_submission_that_completes_the_course_adds_only_the_certificate(
        app: Any, client: Any, logged_in: Any) -> None:
    """The last open lesson passed: the certificate statements come on top, still a bounded number."""
    post_quiz(app, client, right=False)
    assert complete_welcome(client).status_code == 303
    passed = post_quiz(app, client, right=True)
    assert any("certificates" in statement for statement in passed)
    assert len(passed) <= PASSED_MOST + 10, passed  # issuing: the certificate, its status index, evidence


def test_a_pass_that_cannot_complete_the_course_does_no_certificate_work(
        app: Any, client: Any, logged_in: Any) -> None:
    """Passing the quiz while the reading lesson is still open: no certificate statement at all."""
    passed = post_quiz(app, client, right=True)
    assert len(passed) <= PASSED_MOST, passed
    assert not any("certificates" in statement for statement in passed), passed
