"""The browser editor as a manager uses it: open a lesson, type, watch the preview and a check message appear,
fix the error, save, see the lesson change for an affiliate, insert a picture, restore the old version. Its own
live server, so the other browser tests keep the demo content as it is."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, axe_violations, describe, serve, sign_in
from tests.conftest import require_module

expect = require_module("playwright.sync_api").expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[LiveServer]:
    """A live server with browser editing on and its own content."""
    with serve(tmp_path_factory.mktemp("authoring"), signing_key_file, CONTENT_EDITING="on") as server:
        yield server


def png() -> bytes:
    """A small real PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_write_check_publish_and_restore(browser: Any, browser_context_args: dict[str, Any],
                                         editor_server: LiveServer, tmp_path: Path) -> None:
    """The whole editing journey in Chromium, and the affiliate's view of each step."""
    manager = editor_server.create_user(name="Maria Manager", role="manager")
    affiliate = editor_server.create_user(name="Alex Affiliate")
    base = {**browser_context_args, "base_url": editor_server.url}
    reader = browser.new_context(**base).new_page()
    sign_in(reader, affiliate["email"])
    page = browser.new_context(**base).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, manager["email"])

    page.goto("/manage/content")
    page.get_by_role("link", name=re.compile(r"^Edit\s+Welcome \(en\)$")).click()
    page.wait_for_url("**/manage/content/demo/welcome/edit?lang=en")
    text = page.locator("#editor-text")
    expect(page.locator(".editor-gutter .line-no").first).to_have_text("1")
    assert not axe_violations(page), describe(axe_violations(page))

    # Type a new title: the preview follows.
    text.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.type(" to the academy")
    expect(page.locator("#editor-preview .preview-title")).to_have_text("Welcome to the academy")

    # Break the reading time: the message appears beside its line, the gutter marks line 4.
    value = text.input_value()
    text.fill(value.replace("minutes: 3", "minutes: soon"))
    expect(page.locator("#editor-problems")).to_contain_text("Line 4")
    expect(page.locator("#editor-problems")).to_contain_text("'minutes' must be a whole number")
    expect(page.locator("#editor-status")).to_contain_text("1 error")
    expect(page.locator(".editor-gutter .line-no.line-error")).to_have_text("4")
    page.locator("#editor-problems a.problem-line").first.click()
    selected = page.evaluate("() => { const t = document.getElementById('editor-text');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert selected == "minutes: soon"

    # Fix it: no problems left.
    text.fill(text.input_value().replace("minutes: soon", "minutes: 4"))
    expect(page.locator("#editor-status")).to_have_text("No problems: this text can be published.")

    # Insert a picture with its description.
    picture = tmp_path / "Bar chart.png"
    picture.write_bytes(png())
    page.locator("details.editor-insert summary").click()
    page.locator("#image-form input[type=file]").set_input_files(str(picture))
    page.locator("#image-form input[name=alt]").fill("A blue bar")
    page.locator("#image-form button[type=submit]").click()
    expect(page.locator("#image-status")).to_contain_text("inserted")
    assert "![A blue bar](images/bar-chart.png)" in text.input_value()
    expect(page.locator("#editor-preview img[alt='A blue bar']")).to_have_count(1)

    # Save and publish: the affiliate reads the new version.
    page.get_by_role("button", name="Save and publish").click()
    expect(page.locator(".flash-success")).to_contain_text("Published")
    reader.goto("/courses/demo/welcome")
    expect(reader.locator("h1")).to_have_text("Welcome to the academy")
    expect(reader.locator("main img[alt='A blue bar']")).to_have_count(1)

    # Restore the version the folder had before: readers get it back.
    page.get_by_role("link", name="History").click()
    page.locator("form[action*='/restore'] button").last.click()
    expect(page.locator(".flash-success")).to_contain_text("restored")
    reader.goto("/courses/demo/welcome")
    expect(reader.locator("h1")).to_have_text("Welcome")

    page.context.close()
    reader.context.close()


def test_editor_works_without_javascript(browser: Any, browser_context_args: dict[str, Any],
                                         editor_server: LiveServer) -> None:
    """With JavaScript off the page is a plain form: the text is saved and the messages come with the page."""
    manager = editor_server.create_user(name="Nora NoScript", role="manager")
    context = browser.new_context(**{**browser_context_args, "base_url": editor_server.url}, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, manager["email"])
    page.goto("/manage/content/demo/headlines/edit")
    value = page.locator("#editor-text").input_value()
    page.locator("#editor-text").fill(value.replace("- [x] Save three", "- [ ] Save three"))
    page.get_by_role("button", name="Save and publish").click()
    expect(page.locator(".flash-warning")).to_contain_text("Saved as a draft")
    expect(page.locator("#editor-problems")).to_contain_text("no correct option")
    context.close()
