"""Every main page: axe-core finds no serious or critical WCAG 2.1 AA problem (light and dark), nothing
scrolls sideways on a phone, and phone/desktop screenshots land in test-results/screenshots/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DESKTOP,
    MAIN_PAGES,
    PHONE,
    axe_violations,
    describe,
    low_contrast,
    no_horizontal_scroll,
)
from tests.conftest import require_module

expect = require_module("playwright.sync_api").expect

pytestmark = pytest.mark.browser
IDS = [name for name, _path, _who in MAIN_PAGES]


@pytest.mark.parametrize(("name", "path", "who"), MAIN_PAGES, ids=IDS)
def test_no_serious_axe_violations(open_as: Any, shots_dir: Path, name: str, path: str, who: str | None) -> None:
    """axe-core (wcag2a, wcag2aa, wcag21a, wcag21aa): nothing serious or critical, in light and dark mode."""
    page, response = open_as(who, path)
    assert response.status < 500
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        if violations:
            found[scheme] = describe(violations)
    if not found:
        page.screenshot(path=str(shots_dir / f"dark-{name}.png"), full_page=True)
    assert not found, "\n".join(f"[{scheme}]\n{text}" for scheme, text in found.items())


@pytest.mark.parametrize(("name", "path", "who"), MAIN_PAGES, ids=IDS)
def test_phone_layout_and_screenshots(open_as: Any, shots_dir: Path, name: str, path: str, who: str | None) -> None:
    """At 390x844 nothing scrolls sideways; phone and desktop screenshots are saved for a human to look at."""
    page, response = open_as(who, path, PHONE)
    assert response.status < 500
    page.screenshot(path=str(shots_dir / f"phone-{name}.png"), full_page=True)
    scroll_width, client_width = no_horizontal_scroll(page)
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")
    assert scroll_width <= client_width, f"{name}: scrollWidth {scroll_width} > {client_width}; too wide: {wide}"
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots_dir / f"desktop-{name}.png"), full_page=True)


def test_navigation_on_desktop_and_phone(open_as: Any) -> None:
    """Wide screens show the main navigation; on a phone it sits behind a Menu button that opens by keyboard."""
    page, _response = open_as("affiliate", "/")
    nav = page.locator("header nav")
    expect(nav.locator("a[href='/dashboard']")).to_be_visible()
    expect(nav.locator("button[type=submit]")).to_be_visible()  # sign out
    page.set_viewport_size(PHONE)
    expect(nav).to_be_hidden()
    page.locator("header summary").focus()
    page.keyboard.press("Enter")
    expect(nav.locator("a[href='/dashboard']")).to_be_visible()
    box = nav.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    page.keyboard.press("Enter")  # close it again for the next visitor of this shared page
    expect(nav).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_header_and_footer_controls_are_readable(open_as: Any, scheme: str) -> None:
    """Every link and button in the header and footer has 4.5:1 contrast, also while hovered (axe skips 1:1)."""
    page, _response = open_as(None, "/")
    page.emulate_media(color_scheme=scheme)
    controls = "header a, header button, header summary, footer a, footer button"
    assert not low_contrast(page, controls)
    register = page.locator("header a[href='/auth/register']")
    register.hover()
    assert not low_contrast(page, "header a[href='/auth/register']")
    page.mouse.move(0, 0)
