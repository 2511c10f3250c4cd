"""The upload form on /verify in a real browser: choose a certificate PDF, get the verdict with its checks; a file
that is not a certificate gets a clear message; the answer page passes axe and fits a phone."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, axe_violations, describe, no_horizontal_scroll

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def certificate_file(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate PDF of a freshly certified affiliate, as they would download it."""
    from coaching.extensions import db
    from coaching.models import Certificate
    from coaching.services.credentials import certificate_pdf

    user = live_server.create_user(name="Petra Upload")
    cert_id = live_server.complete_demo(user["id"], fail_first=False)["certificate"]
    with live_server.app.app_context():
        data = certificate_pdf(db.session.get(Certificate, cert_id))
    path = tmp_path_factory.mktemp("upload") / "zertifikat.pdf"
    path.write_bytes(data)
    return path


def check(page: Any, path: Path) -> Any:
    """Open /verify, choose the file, press the button; the response to the POST."""
    page.goto("/verify")
    page.get_by_label("Certificate PDF or .jwt file").set_input_files(str(path))
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    return response.value


def test_uploading_a_certificate_pdf_says_valid_with_the_checks(page: Any, certificate_file: Path) -> None:
    """The real PDF: a green 'Valid' banner, the holder's name, every check listed as passed, no axe problems."""
    response = check(page, certificate_file)
    assert response.status == 200
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", "valid")
    expect(page.locator(".status-banner")).to_contain_text("Valid: this certificate was issued here")
    expect(page.locator(".verify-result .facts")).to_contain_text("Petra Upload")
    expect(page.locator(".check-list .check")).to_have_count(10)
    expect(page.locator(".check-list .check-failed")).to_have_count(0)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.get_by_role("link", name="Open this certificate's verification page").click()
    expect(page.locator(".status-banner")).to_contain_text("Valid")


def test_a_file_that_is_not_a_certificate_gets_a_message(page: Any, tmp_path: Path) -> None:
    """A text file named .pdf: 'Not valid' and why, the form ready for another file; fits a phone."""
    fake = tmp_path / "certificate.pdf"
    fake.write_text("This is not a certificate.")
    page.set_viewport_size(PHONE)
    response = check(page, fake)
    assert response.status == 200
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", "invalid")
    expect(page.locator(".verify-result [role=alert]")).to_have_text(
        "The file is neither a PDF nor a signed credential (.jwt).")
    expect(page.get_by_label("Certificate PDF or .jwt file")).to_be_visible()
    width, client_width = no_horizontal_scroll(page)
    assert width <= client_width


def test_submitting_without_a_file_explains_what_to_do(page: Any) -> None:
    """No file chosen: 400 and the field's message, no verdict."""
    page.goto("/verify")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Check the file").click()
    assert response.value.status == 400
    expect(page.locator(".field-error")).to_contain_text("Choose the certificate file to check.")
    expect(page.locator("[data-outcome]")).to_have_count(0)
