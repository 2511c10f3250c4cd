"""The affiliate's side over HTTP: the lesson page's assignment, drafts, submitting, bad input, the dashboard,
consent, and the submission page."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from coaching.extensions import db
from coaching.models import LessonProgress, Submission
from tests.coaching.conftest import ANSWER, HEADLINE, LANDING, form_post, send_work
from tests.conftest import Auth, csrf_token


class Elements(HTMLParser):
    """Every element with its attributes, and the text inside a given element id."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    """The page's elements, read with a parser."""
    parser = Elements()
    parser.feed(html)
    return parser.found


def named(html: str, name: str) -> list[dict[str, str]]:
    """The attributes of every element with this name attribute."""
    return [attrs for _tag, attrs in elements(html) if attrs.get("name") == name]


def page(client: Any, path: str = HEADLINE) -> str:
    """A page's HTML."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def stored(app: Any) -> list[Submission]:
    """Every submission row, detached."""
    with app.app_context():
        rows = db.session.scalars(select(Submission)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_lesson_page_shows_task_criteria_and_form(client, logged_in):
    """Task, criteria beside the textarea `answer`, consent off by default, save and submit; no "mark complete"."""
    html = page(client)
    assert "Trail 2" in html and "The call to action says what happens after the click" in html
    [answer] = named(html, "answer")
    assert answer.get("maxlength") == "5000" and not named(html, "link")
    [consent] = named(html, "show_on_certificate")
    assert consent["type"] == "checkbox" and "checked" not in consent
    assert [a["value"] for a in named(html, "action")] == ["submit", "save"]
    assert "/complete" not in html and 'id="assignment"' in html


def test_link_field_for_text_and_link(client, logged_in):
    """`submission: text+link` adds the `link` field; `max_length` limits the textarea."""
    html = page(client, LANDING)
    [link] = named(html, "link")
    assert link["type"] == "url" and named(html, "answer")[0]["maxlength"] == "300"


def test_draft_then_submit_then_locked(app, client, logged_in):
    """A draft is kept and shown; submitting locks the form and lists version 1 as waiting."""
    response = send_work(client, action="save", answer="half a headline")
    assert response.status_code == 303 and response.headers["Location"].endswith("/courses/pitch/headline#assignment")
    html = page(client)
    assert "Your draft is saved." in html and "half a headline</textarea>" in html
    assert send_work(client, answer=ANSWER, show_on_certificate="y").status_code == 303
    html = page(client)
    assert not named(html, "answer") and "Waiting for review" in html and "Version 1" in html
    [row] = stored(app)
    assert row.state == "waiting" and row.show_on_certificate is True


@pytest.mark.parametrize(("data", "message"), [
    ({"answer": ""}, "Write your answer before you submit it."),
    ({"answer": " \r\n "}, "Write your answer before you submit it."),
    ({"answer": "x" * 5001}, "longer than the 5000 characters"),
    ({"answer": "null \x00 byte"}, "cannot be stored"),
])
def test_bad_answers_are_refused_and_kept(app, client, logged_in, data, message):
    """400 with a clear message, the text shown again (control characters removed), nothing stored."""
    response = send_work(client, **data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    if data["answer"].strip():
        assert data["answer"].replace("\x00", "")[:50] in html and "\x00" not in html
    assert stored(app) == []


@pytest.mark.parametrize(("link", "message"), [
    ("javascript:alert(1)", "must be a complete web address"), ("www.example.com", "must be a complete web address"),
    ("", "asks for a link as well")])
def test_bad_links_are_refused(app, client, logged_in, link, message):
    """A link that is not http(s), or none where one is asked for: 400, nothing stored."""
    response = send_work(client, LANDING, answer="My landing page.", link=link)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert stored(app) == []


def test_draft_with_a_bad_link_is_refused_too(app, client, logged_in):
    """Drafts are checked the same way (except that they may be empty)."""
    assert send_work(client, LANDING, action="save", answer="", link="ftp://x").status_code == 400
    assert send_work(client, LANDING, action="save", answer="", link="").status_code == 303


def test_invalid_utf8_in_a_multipart_form(app, client, logged_in):
    """Bytes that are not UTF-8 (multipart) become U+FFFD in parsing and are refused with 400."""
    html = page(client)
    body = (b"--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + csrf_token(html).encode()
            + b"\r\n--B\r\nContent-Disposition: form-data; name=\"content_hash\"\r\n\r\n"
            + re.search(r'name="content_hash" value="([0-9a-f]+)"', html).group(1).encode()
            + b"\r\n--B\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nsubmit"
            + b"\r\n--B\r\nContent-Disposition: form-data; name=\"answer\"\r\n\r\nbroken \xff\xfe bytes\r\n--B--\r\n")
    response = client.post(f"{HEADLINE}/assignment", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 400 and stored(app) == []


def test_malformed_posts(app, client, logged_in):
    """No CSRF token, an unknown action, a missing content hash: 400; GET: 405; nothing stored."""
    assert client.post(f"{HEADLINE}/assignment", data={"answer": "x", "action": "submit"}).status_code == 400
    assert send_work(client, action="publish").status_code == 400
    assert send_work(client, content_hash="").status_code == 400
    assert client.get(f"{HEADLINE}/assignment").status_code == 405
    token = csrf_token(page(client))
    assert client.post("/courses/pitch/nope/assignment", data={"csrf_token": token}).status_code == 404
    assert stored(app) == []


def test_post_for_a_lesson_without_assignment(app_factory):
    """A lesson without an assignment has no assignment route: 404, nothing stored."""
    app = app_factory()  # the demo course: no assignments
    from tests.web.helpers import signed_in_client

    client = signed_in_client(app)
    response = form_post(client, "/courses/demo/welcome", "/courses/demo/welcome/assignment",
                         {"answer": "x", "action": "submit", "content_hash": "0" * 64})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(Submission)).all() == []


def test_changes_while_waiting_or_approved_are_refused(app, client, logged_in, desk):
    """While waiting and once approved: 409 with a message; the stored version does not change."""
    content_hash = re.search(r'name="content_hash" value="([0-9a-f]+)"', page(client)).group(1)
    assert send_work(client).status_code == 303
    response = send_work(client, answer="changed my mind", content_hash=content_hash)  # an old tab
    assert response.status_code == 409 and "waiting for review and cannot be changed" in response.get_data(
        as_text=True)
    boss = desk.user("Maria Manager", role="manager")
    desk.review(boss, logged_in.id)
    response = send_work(client, answer="more", action="save", content_hash=content_hash)
    assert response.status_code == 409 and "already approved" in response.get_data(as_text=True)
    assert desk.versions() == 1


def test_task_changed_while_open_keeps_the_text_as_draft(app, client, logged_in):
    """A form for an older version of the lesson is not submitted: its text becomes the draft, with a warning."""
    response = send_work(client, answer="written against the old task", content_hash="0" * 64)
    assert response.status_code == 303
    html = page(client)
    assert "The assignment was updated while you had it open" in html
    assert "written against the old task</textarea>" in html
    [row] = stored(app)
    assert row.state == "draft" and row.versions_count == 0


def test_complete_refuses_a_lesson_with_an_assignment(app, client, logged_in):
    """POST /complete on an assignment lesson: redirected with a message, no completion stored."""
    html = page(client)
    response = client.post(f"{HEADLINE}/complete", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303 and response.headers["Location"].endswith("#assignment")
    assert "completed when your assignment is approved" in page(client)
    with app.app_context():
        assert db.session.scalars(select(LessonProgress)).all() == []


def test_submission_text_is_escaped_with_links_marked(app, client, logged_in, desk):
    """Shown back: escaped, line breaks kept, web addresses as nofollow ugc links, nothing runs."""
    answer = "<script>alert(1)</script> line one\nsee https://shop.example/a?b=1&c=2.\n\nnew paragraph"
    assert send_work(client, answer=answer).status_code == 303
    html = page(client)
    section = html.split('class="submitted-text"')[1].split("</div>")[0]
    assert "&lt;script&gt;" in section and "<br>" in section and section.count("<p>") == 2
    links = [a for tag, a in elements(section) if tag == "a"]
    assert links == [{"href": "https://shop.example/a?b=1&c=2", "rel": "nofollow ugc noopener"}]
    assert not any(tag == "script" for tag, _a in elements(html.split('id="assignment"')[1]))


def test_dashboard_lists_work_and_toggles_consent(app, client, logged_in, desk):
    """Waiting, feedback to act on, approved with the consent button; the choice is stored and recorded."""
    boss = desk.user("Maria Manager", role="manager")
    send_work(client)
    html = page(client, "/dashboard")
    assert "Waiting for review" in html.split('id="assignments"')[1]
    desk.review(boss, logged_in.id, "revise")
    html = page(client, "/dashboard")
    assert "Feedback to act on" in html and "Read the feedback" in html
    send_work(client, answer="better")
    desk.review(boss, logged_in.id)
    html = page(client, "/dashboard")
    assert "Approved work" in html and "Not shown on your certificate." in html
    sid = desk.submission_id(logged_in.id)
    response = client.post(f"/dashboard/assignments/{sid}/consent",
                           data={"csrf_token": csrf_token(html), "show_on_certificate": "y"})
    assert response.status_code == 303
    html = page(client, "/dashboard")
    assert "Your work will be shown on your certificate." in html and "Shown on your certificate." in html
    client.post(f"/dashboard/assignments/{sid}/consent", data={"csrf_token": csrf_token(html),
                                                               "show_on_certificate": "n"})
    assert [d["lesson"] for d in desk.audit("evidence_consent_withdrawn")] == ["headline"]
    assert stored(app)[0].show_on_certificate is False


def test_consent_needs_a_clear_value_and_ones_own_work(app, client, logged_in, desk, make_user):
    """Another person's submission: 404; a value other than y/n or no token: 400."""
    other = desk.user("Bea Other")
    desk.submit(other)
    theirs = desk.submission_id(other)
    html = page(client, "/dashboard")
    assert client.post(f"/dashboard/assignments/{theirs}/consent",
                       data={"csrf_token": csrf_token(html), "show_on_certificate": "y"}).status_code == 404
    send_work(client)
    mine = desk.submission_id(logged_in.id)
    assert client.post(f"/dashboard/assignments/{mine}/consent",
                       data={"csrf_token": csrf_token(html), "show_on_certificate": "yes"}).status_code == 400
    assert client.post(f"/dashboard/assignments/{mine}/consent", data={"show_on_certificate": "y"}).status_code == 400


def test_submission_page_is_mine_only(app, client, logged_in, desk):
    """/submissions/<id>: my versions with feedback; another affiliate's: 404; odd ids: 404."""
    boss = desk.user("Maria Manager", role="manager")
    send_work(client)
    desk.review(boss, logged_in.id, "revise", met=False, comment="Name the benefit, please.")
    mine = desk.submission_id(logged_in.id)
    html = page(client, f"/submissions/{mine}")
    assert "Name the benefit, please." in html and "Reviewed by Maria Manager" in html and "Not met" in html
    other = desk.user("Bea Other")
    desk.submit(other, "Bea's secret text")
    theirs = desk.submission_id(other)
    response = client.get(f"/submissions/{theirs}")
    assert response.status_code == 404 and "secret" not in response.get_data(as_text=True)
    for bad in ("abc", "-1", "99999999999999999999", "٣", "０"):
        assert client.get(f"/submissions/{bad}").status_code == 404


def test_a_manager_sees_their_own_page_only_too(app, desk, reviewer):
    """Managers read other people's work on the review page, not through /submissions/<id>."""
    aff = desk.user()
    desk.submit(aff)
    assert reviewer.get(f"/submissions/{desk.submission_id(aff)}").status_code == 404


def test_anonymous_is_sent_to_login(client, desk):
    """Signed out: the lesson page, the POST and the submission page ask to sign in."""
    aff = desk.user()
    desk.submit(aff)
    assert client.get(HEADLINE).status_code == 302
    assert client.get(f"/submissions/{desk.submission_id(aff)}").status_code == 302


def test_german_lesson_page(app, client, make_user):
    """In German: the German task and criteria, and the form's words."""
    make_user(email="de@example.com", name="Dora Deutsch", language="de")
    assert Auth(client).login("de@example.com").status_code == 302
    html = page(client)
    assert "Zelt <strong>Trail 2</strong>" in html and "Die Überschrift nennt einen konkreten Nutzen" in html
    assert "Zur Bewertung einreichen" in html and "Entwurf speichern" in html and "Ihre Antwort" in html


def test_quiz_and_assignment_lesson_says_what_is_left(app, client, logged_in, desk):
    """Approved but the quiz not passed yet: the page says to pass the quiz; the lesson is not done."""
    boss = desk.user("Maria Manager", role="manager")
    assert send_work(client, LANDING, answer="My page.", link="https://shop.example/p").status_code == 303
    desk.review(boss, logged_in.id, slug="landing")
    html = page(client, LANDING)
    assert "Pass the quiz below to complete the lesson." in html and "You completed this lesson." not in html
    with app.app_context():
        assert db.session.scalars(select(LessonProgress)).all() == []
