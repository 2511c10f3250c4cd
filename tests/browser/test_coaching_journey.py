"""The coaching journey in a real browser, in English and in German: an affiliate submits, a manager asks for a
revision, the affiliate revises, the manager approves, the course certificate is issued in the affiliate's
language, and the approved work is listed with the affiliate's consent."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, LiveServer, axe_violations, describe, serve
from tests.conftest import FIXTURES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def coaching_server(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[LiveServer]:
    """The app with the assignment course, served on a free port (CSRF on, its own SQLite database)."""
    with serve(tmp_path_factory.mktemp("live-coaching"), signing_key_file, FIXTURES / "coaching") as server:
        yield server


WORDS = {
    "en": {"answer": "Your answer", "submit": "Submit for review", "save": "Save draft",
           "waiting": "Waiting for review", "revise": "Needs revision", "approved": "Approved",
           "consent": "Show this work on my certificate", "saved": "Your draft is saved.",
           "shown": "Shown on your certificate.", "cert": "Pitch practice", "link": "Link"},
    "de": {"answer": "Ihre Antwort", "submit": "Zur Bewertung einreichen", "save": "Entwurf speichern",
           "waiting": "Wartet auf Bewertung", "revise": "Überarbeitung nötig", "approved": "Angenommen",
           "consent": "Diese Arbeit nach der Annahme auf meinem Zertifikat zeigen",
           "saved": "Ihr Entwurf ist gespeichert.", "shown": "Wird auf Ihrem Zertifikat gezeigt.",
           "cert": "Pitch-Übung", "link": "Link"},
}


def sign_in(page: Any, url: str, email: str) -> None:
    """Sign in on this module's server through the login form."""
    page.goto(f"{url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard")


def review(page: Any, url: str, name: str, decision: str, *, first_met: bool, comment: str) -> None:
    """From the queue: open the person's submission, mark the criteria, comment, decide, send."""
    page.goto(f"{url}/manage/reviews")
    expect(page.locator("#review-count")).to_be_visible()
    row = page.locator("#review-queue tbody tr", has_text=name)
    row.locator("a.button-primary").click()
    expect(page.locator("main h1")).to_be_visible()
    met = page.locator("input[type=radio][value=met]")
    not_met = page.locator("input[type=radio][value=not_met]")
    for index in range(met.count()):
        (met if first_met or index else not_met).nth(index).check()
    if not first_met:
        page.locator("textarea[name^=comment-]").first.fill("Which concrete benefit does the reader get?")
    page.fill("textarea[name=overall_comment]", comment)
    page.locator(f"input[name=decision][value={decision}]").check()
    page.locator("form.review-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/manage/reviews$"))
    expect(page.locator(".flash-success")).to_contain_text(name)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_submit_review_revise_approve_certificate(coaching_server: LiveServer, browser: Any,
                                                  browser_context_args: dict[str, Any], lang: str) -> None:
    """Submit, revise after feedback, approve, pass the quiz, approve again: the certificate in the affiliate's
    language; the feedback and the consent on the affiliate's pages; the review pages pass axe."""
    words = WORDS[lang]
    url = coaching_server.url
    affiliate = coaching_server.create_user(name=f"Alex {lang.upper()} Affiliate", language=lang)
    manager = coaching_server.create_user(name="Maria Manager", role="manager", language="en")
    learner_context = browser.new_context(**{**browser_context_args, "locale": "de-DE" if lang == "de" else "en-US"})
    manager_context = browser.new_context(**browser_context_args)
    learner, boss = learner_context.new_page(), manager_context.new_page()
    learner.set_default_timeout(15000)
    boss.set_default_timeout(15000)
    sign_in(learner, url, affiliate["email"])
    sign_in(boss, url, manager["email"])

    learner.goto(f"{url}/courses/pitch/headline")
    expect(learner.locator("#criteria-list li")).to_have_count(3)
    answer = learner.get_by_label(words["answer"], exact=True)
    answer.fill("Trail 2: a tent.")
    learner.get_by_role("button", name=words["save"]).click()
    expect(learner.locator(".flash-success")).to_have_text(words["saved"])
    expect(learner.get_by_label(words["answer"], exact=True)).to_have_value("Trail 2: a tent.")
    learner.get_by_label(words["consent"]).check()
    learner.get_by_role("button", name=words["submit"]).click()
    expect(learner.locator(".assignment-state")).to_contain_text(words["waiting"])
    expect(learner.locator("textarea[name=answer]")).to_have_count(0)

    review(boss, url, affiliate["name"], "revise", first_met=False, comment="Close: name the benefit.")
    learner.goto(f"{url}/courses/pitch/headline")
    expect(learner.locator(".assignment-state")).to_contain_text(words["revise"])
    expect(learner.locator("#version-1")).to_contain_text("Which concrete benefit does the reader get?")
    expect(learner.locator("#version-1")).to_contain_text("Close: name the benefit.")
    learner.get_by_label(words["answer"], exact=True).fill(
        "Sleep dry in any storm: the Trail 2 sets up in 3 minutes.\nAd: shop now, delivered in two days.")
    learner.get_by_role("button", name=words["submit"]).click()
    expect(learner.locator(".assignment-state")).to_contain_text(words["waiting"])

    boss.goto(f"{url}/manage/reviews")
    boss.locator("#review-queue tbody tr", has_text=affiliate["name"]).locator("a.button-primary").click()
    expect(boss.locator("#earlier-title")).to_be_visible()
    violations = axe_violations(boss)
    assert not violations, describe(violations)
    review(boss, url, affiliate["name"], "approve", first_met=True, comment="Concrete and honest. Well done.")

    learner.goto(f"{url}/courses/pitch/landing")
    learner.get_by_label("The promise of the ad", exact=True).check()  # the lesson has no German text
    learner.locator("form[action*='/quiz'] button[type=submit]").click()
    expect(learner.locator(".score-box .badge-passed")).to_be_visible()
    learner.goto(f"{url}/courses/pitch/landing")
    learner.get_by_label(words["answer"], exact=True).fill("My landing page keeps the promise of the ad.")
    learner.get_by_label(words["link"], exact=True).fill("https://trail-2.example/landing")
    learner.get_by_role("button", name=words["submit"]).click()
    expect(learner.locator(".assignment-state")).to_contain_text(words["waiting"])
    review(boss, url, affiliate["name"], "approve", first_met=True, comment="Clear page.")

    learner.goto(f"{url}/dashboard")
    expect(learner.locator("#certificates ~ ul .course-card h3")).to_contain_text(words["cert"])
    approved = learner.locator(".approved-item")
    expect(approved).to_have_count(2)
    expect(approved.first).to_contain_text(words["shown"])
    expect(approved.nth(1)).not_to_contain_text(words["shown"])
    violations = axe_violations(learner)
    assert not violations, describe(violations)
    verify = learner.locator("#certificates ~ ul a[href^='/verify/']").first.get_attribute("href")
    learner.goto(f"{url}{verify}")
    expect(learner.locator("main")).to_contain_text(words["cert"])
    learner_context.close()
    manager_context.close()
