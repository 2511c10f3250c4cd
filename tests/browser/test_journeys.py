"""Whole journeys as people make them: an affiliate from registration to a verified certificate (in English
and in German), and a manager from the progress matrix to revoking that certificate."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, sign_in
from tests.conftest import require_module

expect = require_module("playwright.sync_api").expect

pytestmark = pytest.mark.browser
VERIFY_URL = re.compile(r"https?://\S+/verify/[0-9A-Z]{4}(?:-[0-9A-Z]{2,4})+")
WRONG = ["Click here now", "Organic search"]
RIGHT = ["Save three hours a week on reporting", "Search ads", "Sponsored newsletter placements"]


def pdf_text(path: Path) -> str:
    """The text of a PDF: pdftotext when installed, else pypdf."""
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                              text=True).stdout
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def answer_quiz(page: Any, choices: list[str], text: str) -> None:
    """Tick the options with these labels, type the free-text answer and submit the quiz."""
    for label in choices:
        page.get_by_label(label, exact=True).check()
    page.locator("form[action*='/quiz'] input[type=text]").fill(text)
    page.locator("form[action*='/quiz'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/attempts/\d+(#.*)?$"))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_affiliate_from_registration_to_verified_certificate(browser: Any, browser_context_args: dict[str, Any],
                                                             live_server: Any, tmp_path: Path, lang: str) -> None:
    """Register, confirm through the mailed link, read, complete, fail the quiz, read the explanations, pass,
    download the PDF, verify it."""
    context = browser.new_context(**{**browser_context_args, "locale": "de-DE" if lang == "de" else "en-US"},
                                  accept_downloads=True)
    page = context.new_page()
    name = ("Jürgen Müller-Łukasz " if lang == "de" else "Ada Lovelace ") + uuid.uuid4().hex[:6]
    email = f"journey-{uuid.uuid4().hex[:10]}@example.com"

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator(".course-card h2")).to_contain_text("Demokurs" if lang == "de" else "Demo course")
    if lang == "de":
        expect(page.locator("h1")).to_have_text("Kurse")
        expect(page.locator("header nav")).to_contain_text("Anmelden")

    page.locator("header a[href='/auth/register']").click()
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Sehen Sie in Ihr Postfach" if lang == "de" else "Check your inbox")
    expect(page.locator("main")).to_contain_text(email)

    page.goto(live_server.mail_link(email, "/auth/confirm/"))  # the link of the confirmation mail
    expect(page.locator("main")).to_contain_text(email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text(name)

    page.locator(".course-card a[href='/courses/demo']").first.click()
    expect(page.locator("h1")).to_have_text("Demokurs" if lang == "de" else "Demo course")
    page.locator(".page-head a.button-primary").click()
    expect(page.locator("article.lesson h1")).to_have_text("Willkommen" if lang == "de" else "Welcome")
    expect(page.locator("article.lesson")).to_have_attribute("lang", lang)
    page.locator("form[action$='/complete'] button").click()

    page.wait_for_url("**/courses/demo/headlines")
    if lang == "de":  # the quiz lesson has no German text: English, with a notice
        expect(page.locator("article.lesson > .notice")).to_be_visible()
    answer_quiz(page, WRONG, "no idea")
    expect(page.locator(".score-value")).to_have_text("0%")
    expect(page.locator(".score-box .badge-failed")).to_be_visible()
    # show_answers: after_pass (the default): which questions were wrong, but no key while attempts are left
    expect(page.locator(".result-wrong")).to_have_count(3)
    expect(page.locator(".explanation")).to_have_count(0)

    page.locator(".score-box a[href$='#quiz']").click()
    answer_quiz(page, RIGHT, "  Click-Through   Rate ")
    expect(page.locator(".score-value")).to_have_text("100%")
    expect(page.locator(".score-box .badge-passed")).to_be_visible()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".explanation")).to_have_count(3)  # passed: the key and the explanations
    expect(page.get_by_text("Organic search is earned, not bought.")).to_be_visible()

    page.locator(".score-box a[href='/dashboard']").click()
    with page.expect_download() as download:
        page.locator("#certificates ~ .course-grid a[href$='.pdf']").click()
    pdf = tmp_path / "certificate.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    found = VERIFY_URL.search(text)
    assert found, f"no verification URL in the PDF text:\n{text}"
    assert found.group(0).startswith(browser_context_args["base_url"]), found.group(0)

    page.goto(found.group(0))
    expect(page.locator(".status-banner")).to_have_class(re.compile(r"\bstatus-valid\b"))
    expect(page.locator(".cert-name")).to_have_text(name)
    course_title = page.locator(".cert-course").inner_text().strip()
    context.close()
    assert course_title == ("Demokurs" if lang == "de" else "Demo course")


def test_footer_language_switch(page: Any) -> None:
    """The footer switcher turns an English browser's pages German (lang, content; UI text once translated)."""
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.select_option("#footer-language", "de")
    page.locator("form.language-switch button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(".course-card h2")).to_have_text("Demokurs")
    expect(page.locator("h1")).to_have_text("Kurse")


def test_manager_reviews_progress_and_revokes(page: Any, live_server: Any) -> None:
    """A manager finds the affiliate in the matrix, reads the question analysis, exports CSV, revokes."""
    name = f"Mira Matrix {uuid.uuid4().hex[:6]}"
    affiliate = live_server.create_user(name=name)
    certificate = live_server.complete_demo(affiliate["id"])["certificate"]
    manager = live_server.create_user(name="Manfred Manager", role="manager")
    sign_in(page, manager["email"])

    page.locator("header a[href='/manage/']").click()
    page.locator("main a[href='/manage/courses/demo']").first.click()
    row = page.locator("table tr", has=page.get_by_role("link", name=name, exact=True))
    expect(row).to_have_count(1)
    expect(row.locator(".badge-passed")).to_have_count(1)

    page.locator("a[href='/manage/courses/demo/headlines/questions']").first.click()
    expect(page.locator("main")).to_contain_text("Which headline promises a concrete benefit?")

    page.goto("/manage/")
    with page.expect_download() as download:
        page.locator("a[href^='/manage/export/progress.csv']").first.click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert any(affiliate["email"] in cells for cells in rows), rows[:5]

    page.goto("/manage/courses/demo")
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**/manage/affiliates/{affiliate['id']}")
    page.fill(f"#reason-{certificate}", "Shared the account")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"form[action$='/certificates/{certificate}/revoke'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    page.goto(f"/verify/{certificate}")
    expect(page.locator(".status-banner")).to_have_class(re.compile(r"\bstatus-revoked\b"))
    expect(page.locator(".status-banner")).to_contain_text("Shared the account")
