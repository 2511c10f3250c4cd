"""Keyboard only: the login and quiz forms work with Tab, Space and Enter, and focus is always visible."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD
from tests.conftest import require_module

expect = require_module("playwright.sync_api").expect

pytestmark = pytest.mark.browser
FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '', text: (e.innerText || '').trim(),
          outline: s.outlineStyle, width: parseFloat(s.outlineWidth), checked: !!e.checked,
          inView: r.bottom > 0 && r.top < innerHeight && r.width > 0};
}"""


def tab_to(page: Any, matches: Any, limit: int = 40) -> dict[str, Any]:
    """Press Tab until the focused element matches; every stop on the way must show a focus outline."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"] != "none" and focused["width"] > 0, f"focus not visible on {focused}"
        assert focused["inView"], f"focused element is off screen: {focused}"
        if matches(focused):
            return focused
    raise AssertionError(f"never reached the wanted element by Tab; last focus: {focused}")


def test_skip_link_comes_first(page: Any) -> None:
    """The first Tab shows the skip link; Enter moves focus to the main content."""
    page.goto("/")
    first = tab_to(page, lambda f: True, limit=1)
    assert first["tag"] == "a" and first["text"], first
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_login_with_keyboard_only(page: Any, live_server: Any) -> None:
    """Start in the autofocused email field, Tab on, type, Space ticks "keep me signed in", Enter on the button signs in."""
    user = live_server.create_user(name="Kim Keys")
    page.goto("/auth/login")
    focused = page.evaluate(FOCUSED)  # the email field has autofocus
    assert focused["name"] == "email" and focused["outline"] != "none", focused
    page.keyboard.type(user["email"])
    tab_to(page, lambda f: f["name"] == "password", limit=1)
    page.keyboard.type(PASSWORD)
    tab_to(page, lambda f: f["name"] == "remember", limit=1)
    page.keyboard.press("Space")
    expect(page.locator("input[name=remember]")).to_be_checked()
    tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit", limit=1)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")


def test_quiz_with_keyboard_only(page: Any, live_server: Any) -> None:
    """Tab through the quiz: Space picks a radio and ticks checkboxes, typing fills the text, Enter submits."""
    user = live_server.create_user(name="Quinn Keys")
    page.goto("/auth/login")
    page.fill("input[name=email]", user["email"])
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")
    page.goto("/courses/demo/headlines")
    radio = tab_to(page, lambda f: f["type"] == "radio")
    page.keyboard.press("Space")
    assert page.evaluate(FOCUSED)["checked"], radio
    for _ in range(2):  # Search ads, Sponsored newsletter placements (the right pair, in author order)
        tab_to(page, lambda f: f["type"] == "checkbox", limit=1)
        page.keyboard.press("Space")
        assert page.evaluate(FOCUSED)["checked"]
    tab_to(page, lambda f: f["type"] == "text", limit=3)
    page.keyboard.type("click-through rate")
    tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit", limit=1)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/attempts/\d+(#.*)?$"))
    expect(page.locator(".score-box")).to_contain_text("of 3")
    assert live_server.attempts(user["email"]) == 1
