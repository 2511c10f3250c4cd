"""Helpers shared by the web tests: read quiz forms, answer them, finish the demo course."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from coaching.extensions import db
from tests.conftest import Auth, csrf_token

QUIZ_URL = "/courses/demo/headlines/quiz"
CORRECT_TEXT = {"single": "Save three hours a week on reporting", "text": "click-through rate"}


class QuizFormParser(HTMLParser):
    """Collects the quiz form's inputs: hidden fields, and per question the option values with labels."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.questions: dict[str, list[str]] = {}
        self.kinds: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self._in_quiz = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("action", "").split("#")[0].endswith("/quiz"):
            self._in_quiz = True
        if not self._in_quiz:
            return
        if tag == "input":
            name, kind = a.get("name", ""), a.get("type", "text")
            if kind == "hidden":
                self.hidden[name] = a.get("value", "")
            elif name.startswith("q-"):
                self.kinds[name] = {"radio": "single", "checkbox": "multiple"}.get(kind, "text")
                self.questions.setdefault(name, [])
                if kind in ("radio", "checkbox"):
                    self.questions[name].append(a["value"])
        if tag == "label" and a.get("for"):
            self._label_for = a["for"]
            self.labels[self._label_for] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None
        if tag == "form":
            self._in_quiz = False

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self.labels[self._label_for] += data


def read_quiz(client: Any, path: str = "/courses/demo/headlines") -> QuizFormParser:
    """Load a lesson page and parse its quiz form."""
    parser = QuizFormParser()
    parser.feed(client.get(path).get_data(as_text=True))
    return parser


def option_by_label(form: QuizFormParser, question: str, text: str) -> str:
    """The option value whose label contains `text`."""
    for value in form.questions[question]:
        if text in form.labels.get(f"{question}-{value}", ""):
            return value
    raise AssertionError(f"no option {text!r} in {question}")


def answers(form: QuizFormParser, *, right: bool = True) -> dict[str, Any]:
    """Answers for the demo quiz: all right, or all wrong."""
    data: dict[str, Any] = {}
    for question, kind in form.kinds.items():
        if kind == "single":
            data[question] = option_by_label(form, question, "Save three hours" if right else "Click here now")
        elif kind == "multiple":
            data[question] = ([option_by_label(form, question, "Search ads"),
                               option_by_label(form, question, "Sponsored newsletter")] if right
                              else [option_by_label(form, question, "Organic search")])
        else:
            data[question] = "Click-Through  Rate " if right else "cost per click"
    return data


def submit(client: Any, data: dict[str, Any], form: QuizFormParser | None = None, path: str = QUIZ_URL) -> Any:
    """Post a quiz with the form's hidden fields (csrf, submission id, content hash)."""
    form = form or read_quiz(client)
    return client.post(path, data={**form.hidden, **data})


def complete_welcome(client: Any) -> Any:
    """Mark the reading lesson of the demo course complete."""
    page = client.get("/courses/demo/welcome").get_data(as_text=True)
    return client.post("/courses/demo/welcome/complete", data={"csrf_token": csrf_token(page)})


def finish_demo_course(client: Any) -> None:
    """Complete every lesson of the demo course (and so earn its certificate)."""
    assert complete_welcome(client).status_code == 303
    form = read_quiz(client)
    response = submit(client, answers(form), form)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def certificate_id(client: Any) -> str:
    """The id of the first certificate on the dashboard."""
    match = re.search(r"/verify/([0-9A-Z-]{10,})\"", client.get("/dashboard").get_data(as_text=True))
    assert match, "no certificate on the dashboard"
    return match.group(1)


def signed_in_client(app: Any) -> Any:
    """A client of `app` signed in as a fresh affiliate."""
    from coaching.services.accounts import create_user

    with app.app_context():
        create_user(email="x@example.com", name="X", password="a good passphrase")
        db.session.commit()
    client = app.test_client()
    assert Auth(client).login("x@example.com", "a good passphrase").status_code == 302
    return client
