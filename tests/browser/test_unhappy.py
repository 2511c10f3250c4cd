"""Unhappy turns: a wrong password, an empty quiz, the back button after a quiz, a session that expired."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import require_module

expect = require_module("playwright.sync_api").expect

pytestmark = pytest.mark.browser
QUIZ = "/courses/demo/headlines"
SUBMIT = "form[action*='/quiz'] button[type=submit]"


def submit_and_wait(page: Any, button: str) -> Any:
    """Click a submit button and return the response to the form's POST."""
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.locator(button).click()
    page.wait_for_load_state()
    return response.value


@pytest.fixture
def affiliate_page(page: Any, live_server: Any) -> tuple[Any, dict[str, Any]]:
    """A fresh affiliate, signed in, on the quiz lesson."""
    user = live_server.create_user(name="Una Happy")
    sign_in(page, user["email"])
    page.goto(QUIZ)
    return page, user


def test_wrong_password_shows_a_message(page: Any, live_server: Any) -> None:
    """A wrong password: the form comes back with a message and the email kept; no 500, not signed in."""
    user = live_server.create_user(name="Wanda Wrong")
    page.goto("/auth/login")
    page.fill("input[name=email]", user["email"])
    page.fill("input[name=password]", "not the password at all")
    response = submit_and_wait(page, "main form button[type=submit]")
    assert response.status == 400
    expect(page.locator(".form-errors[role=alert]")).to_be_visible()
    expect(page.locator(".form-errors")).to_contain_text("Email or password is not correct.")
    expect(page.locator("input[name=email]")).to_have_value(user["email"])
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.locator("header a[href='/auth/login']")).to_be_visible()


def test_empty_quiz_is_refused_and_answers_are_kept(affiliate_page: tuple[Any, dict], live_server: Any) -> None:
    """An empty or half-filled quiz: a clear message per open question, given answers kept, no attempt stored."""
    page, user = affiliate_page
    response = submit_and_wait(page, SUBMIT)
    assert response.status == 400
    expect(page.locator(".flash-error")).to_contain_text("Please answer every question")
    expect(page.locator("fieldset.quiz-question .field-error")).to_have_count(3)

    page.get_by_label("Save three hours a week on reporting", exact=True).check()
    page.locator("form[action*='/quiz'] input[type=text]").fill("click-through rate")
    response = submit_and_wait(page, SUBMIT)
    assert response.status == 400
    expect(page.locator("fieldset.quiz-question .field-error")).to_have_count(1)
    expect(page.locator("fieldset.quiz-question[aria-describedby] .field-error")).to_have_count(1)
    expect(page.get_by_label("Save three hours a week on reporting", exact=True)).to_be_checked()
    expect(page.locator("form[action*='/quiz'] input[type=text]")).to_have_value("click-through rate")
    assert live_server.attempts(user["email"]) == 0


def test_back_button_then_submit_again_records_one_attempt(affiliate_page: tuple[Any, dict], live_server: Any) -> None:
    """Submit, go back, submit the same form again: still one attempt (the attempts-left count agrees)."""
    page, user = affiliate_page
    expect(page.locator("#quiz")).to_contain_text("3 attempts left.")
    page.get_by_label("Click here now", exact=True).check()
    page.get_by_label("Search ads", exact=True).check()
    page.locator("form[action*='/quiz'] input[type=text]").fill("no idea")
    page.locator(SUBMIT).click()
    page.wait_for_url(re.compile(r"/attempts/\d+(#.*)?$"))
    first = page.url
    page.go_back()
    page.wait_for_url(f"**{QUIZ}")
    page.get_by_label("Click here now", exact=True).check()  # Chrome restores the choices, not the
    page.get_by_label("Search ads", exact=True).check()  # autocomplete="off" text field
    page.locator("form[action*='/quiz'] input[type=text]").fill("no idea")
    page.locator(SUBMIT).click()
    page.wait_for_url(re.compile(r"/attempts/\d+(#.*)?$"))
    assert live_server.attempts(user["email"]) == 1
    assert page.url == first
    expect(page.locator(".score-box")).to_contain_text("2 attempts left.")


def test_expired_session_login_form(page: Any) -> None:
    """The login page left open while the session cookie went away: a clear "reload" page, never a 500."""
    page.goto("/auth/login", wait_until="networkidle")  # no late response may bring the cookie back
    page.context.clear_cookies()
    page.fill("input[name=email]", "someone@example.com")
    page.fill("input[name=password]", "whatever password")
    response = submit_and_wait(page, "main form button[type=submit]")
    assert response.status == 400
    expect(page.locator("main")).to_contain_text("reload the page")
    expect(page.locator("main a[href='/']")).to_be_visible()


def test_expired_session_quiz_form(affiliate_page: tuple[Any, dict], live_server: Any) -> None:
    """A quiz submitted after the session expired: a reload message or the login page, no attempt, no 500."""
    page, user = affiliate_page
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.get_by_label("Click here now", exact=True).check()
    page.get_by_label("Search ads", exact=True).check()
    page.locator("form[action*='/quiz'] input[type=text]").fill("no idea")
    response = submit_and_wait(page, SUBMIT)
    assert response.status < 500
    assert "/auth/login" in page.url or "reload the page" in page.locator("main").inner_text()
    assert live_server.attempts(user["email"]) == 0
