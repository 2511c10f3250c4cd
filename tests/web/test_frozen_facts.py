"""What a credential states is frozen on the certificate row at issue time: status index, criteria, the exam
result (the exam lesson's best passing attempt) and evidence; every later rendering says the same."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from coaching.extensions import db
from coaching.models import Certificate
from tests.web.credential_helpers import (
    complete_demo,
    evidence_json,
    issue,
    new_user,
    payload,
    row,
    take_quiz,
    update_row,
    withdraw,
)

EXAM_FRONT_MATTER = "---\ntitle: Headlines\nsummary: Headlines that earn the click.\nminutes: 5\nmax_attempts: 5\n" \
                    "exam: true\npass_mark: 60\n---\n"


@pytest.fixture
def exam_app(app_factory, content_copy):
    """The demo course with its quiz lesson marked as the exam (pass mark 60 %, five attempts)."""
    lesson = content_copy / "demo" / "02-headlines.md"
    body = lesson.read_text(encoding="utf-8").split("---\n", 2)[2]
    lesson.write_text(EXAM_FRONT_MATTER + body, encoding="utf-8")
    return app_factory(CONTENT_DIR=content_copy)


def test_exam_result_is_the_best_passing_attempt_at_issue(exam_app):
    """A failed attempt, then a pass with 67 %: the credential states 67 of 60; a later 100 % changes nothing."""
    user_id = new_user(exam_app)
    assert take_quiz(exam_app, user_id, wrong=2) == (33, False)
    cert_id = complete_demo(exam_app, user_id, wrong=1)
    facts = row(exam_app, cert_id)
    assert (facts["exam_name"], facts["exam_pass_mark"], facts["exam_score"]) == ("Headlines", 60, 67)
    client = exam_app.test_client()
    credential = client.get(f"/verify/{cert_id}.json").json
    subject = credential["credentialSubject"]
    assert subject["result"] == [{"type": ["Result"], "resultDescription": "http://localhost/courses/demo#exam",
                                  "value": "67"}]
    described = subject["achievement"]["resultDescription"][0]
    assert described["requiredValue"] == "60" and described["name"] == "Headlines"
    assert "Passed “Headlines” with at least 60%." in subject["achievement"]["criteria"]["narrative"]
    assert take_quiz(exam_app, user_id) == (100, True)
    assert client.get(f"/verify/{cert_id}.json").json == credential
    page = client.get(f"/verify/{cert_id}").get_data(as_text=True)
    assert "67%" in page and "pass mark 60%" in page


def test_a_course_without_exam_states_no_result(app):
    """The demo course has quizzes but no exam lesson: no result, no ResultDescription."""
    user_id = new_user(app)
    cert_id = complete_demo(app, user_id)
    assert row(app, cert_id)["exam_score"] is None
    subject = app.test_client().get(f"/verify/{cert_id}.json").json["credentialSubject"]
    assert "result" not in subject and "resultDescription" not in subject["achievement"]


def test_later_content_edits_do_not_change_an_issued_credential(exam_app, content_copy):
    """Renaming the exam, raising its pass mark and renaming the course after issue: the credential, the page
    and the PDF's attached credential stay as issued."""
    cert_id = complete_demo(exam_app, new_user(exam_app), wrong=1)
    client = exam_app.test_client()
    before = client.get(f"/verify/{cert_id}.json").json
    lesson = content_copy / "demo" / "02-headlines.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("title: Headlines", "title: Final exam")
                      .replace("pass_mark: 60", "pass_mark: 90"), encoding="utf-8")
    course = content_copy / "demo" / "course.md"
    course.write_text(course.read_text(encoding="utf-8").replace("title: Demo course", "title: Renamed course"),
                      encoding="utf-8")
    with exam_app.app_context():
        from coaching.services.catalog import catalog

        assert catalog().course("demo").text("en").title == "Renamed course"  # the edit was picked up
    assert client.get(f"/verify/{cert_id}.json").json == before
    from coaching.credentials.files import read_credential_from_pdf
    from tests.web.credential_helpers import pdf_of

    assert payload(read_credential_from_pdf(pdf_of(exam_app, cert_id)))["credentialSubject"] == \
        before["credentialSubject"]


def test_criteria_are_frozen_in_the_certificates_language(app):
    """The criteria sentence is stored in the certificate's language and stated from the row."""
    english, german = issue(app), issue(app, "Greta", language="de")
    assert row(app, english)["criteria_narrative"] == \
        "Completed every lesson and passed every quiz of the course “Demo course”."
    assert row(app, german)["criteria_narrative"].startswith("Alle Lektionen des Kurses")
    update_row(app, english, criteria_narrative="Wrote and tested three campaigns.")
    narrative = app.test_client().get(f"/verify/{english}.json").json["credentialSubject"]["achievement"]["criteria"]
    assert narrative["narrative"] == "Wrote and tested three campaigns."


# --- evidence -------------------------------------------------------------------------------------------------


class TextOf(HTMLParser):
    """The text inside elements with a given class, and every link's attributes."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class, self.depth, self.parts, self.links = css_class, 0, [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self.depth or self.css_class in (attributes.get("class") or "").split():
            self.depth += 1
        if tag == "a":
            self.links.append(attributes)

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def parsed(html: str, css_class: str = "submission-text") -> TextOf:
    """Parse a page."""
    parser = TextOf(css_class)
    parser.feed(html)
    return parser


def test_consented_evidence_is_in_the_credential_and_on_its_page(app):
    """Evidence JSON put on a row (as the coaching feature will): shown with consent, named without."""
    cert_id = issue(app)
    hostile = "Line one <script>alert(1)</script>\n\n  indented & second line"
    update_row(app, cert_id, evidence=[evidence_json(text=hostile, link="https://shop.example/landing?a=1&b=2"),
                                       evidence_json(name="Channel plan", consent=False)])
    client = app.test_client()
    credential = client.get(f"/verify/{cert_id}.json").json
    assert credential["evidence"] == [{
        "id": f"http://localhost/verify/{cert_id}/evidence/1", "type": ["Evidence"],
        "name": "Headline and call to action",
        "narrative": "Write a **headline** (at most 70 characters) and a call to action.",
        "description": "Approved after review on 2026-11-20. "
                       "Reviewer’s comment: Concrete benefit; labelled as advertising."}]
    narrative = credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert "“Channel plan”" in narrative and "“Headline and call to action”" in narrative
    page = client.get(f"/verify/{cert_id}/evidence/1")
    assert page.status_code == 200 and page.headers["X-Robots-Tag"].startswith("noindex")
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    texts = parsed(html)
    assert "".join(texts.parts).startswith(hostile)  # escaped, line breaks and spaces kept (pre-wrap)
    link = next(a for a in texts.links if a.get("href", "").startswith("https://shop.example"))
    assert link["rel"] == "nofollow ugc noopener" and link["href"] == "https://shop.example/landing?a=1&b=2"
    assert "<strong>headline</strong>" in html  # the task is Markdown, rendered and sanitized
    assert client.get(f"/verify/{cert_id}/evidence/2").status_code == 404  # no consent
    assert client.get(f"/verify/{cert_id}/evidence/3").status_code == 404  # no such assignment
    listing = client.get(f"/verify/{cert_id}").get_data(as_text=True)
    assert f'href="/verify/{cert_id}/evidence/1"' in listing and f"/verify/{cert_id}/evidence/2" not in listing


def test_withdrawing_consent_removes_the_page_and_the_evidence(app):
    """set_evidence_consent: off removes the page and turns the item into a name in the criteria; on restores it."""
    from coaching.services.evidence import set_evidence_consent

    cert_id = issue(app)
    update_row(app, cert_id, evidence=[evidence_json()])
    client = app.test_client()
    assert client.get(f"/verify/{cert_id}/evidence/1").status_code == 200
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        assert set_evidence_consent(cert, 1, False) is True
        assert set_evidence_consent(cert, 1, False) is False  # nothing left to change
        assert set_evidence_consent(cert, 7, True) is False  # unknown number
        db.session.commit()
    assert client.get(f"/verify/{cert_id}/evidence/1").status_code == 404
    assert "evidence" not in client.get(f"/verify/{cert_id}.json").json
    with app.app_context():
        set_evidence_consent(db.session.get(Certificate, cert_id), 1, True)
        db.session.commit()
    assert client.get(f"/verify/{cert_id}/evidence/1").status_code == 200


def test_evidence_given_at_issue_is_frozen_on_the_row(app):
    """issue_certificate(evidence=...) stores the records; the snapshot builder reads them back."""
    from datetime import UTC, datetime

    from coaching.services.evidence import EvidenceRecord, evidence_for

    record = EvidenceRecord(name="Headline", task="Write a headline.", text="Save 3 hours",
                            reviewer_comment="Good.", approved_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
                            consent=True)
    cert_id = issue(app, evidence=(record,))
    assert row(app, cert_id)["evidence"] == [record.to_json()]
    with app.app_context():
        (entry,) = evidence_for(db.session.get(Certificate, cert_id))
        assert entry.record == record and entry.shown and entry.number == 1
    assert app.test_client().get(f"/verify/{cert_id}.json").json["evidence"][0]["name"] == "Headline"
    assert row(app, issue(app, "No evidence"))["evidence"] == []


@pytest.mark.parametrize("fields", [dict(name=""), dict(task=" "), dict(text=None), dict(link="javascript:x"),
                                    dict(consent="yes"), dict(name="x" * 301)])
def test_evidence_records_refuse_what_cannot_be_stated(fields):
    """Empty names or tasks, non-http links, non-boolean consent: refused before anything is stored."""
    from coaching.services.evidence import EvidenceRecord

    values = {"name": "Headline", "task": "Write a headline.", "text": "Save 3 hours", **fields}
    with pytest.raises(ValueError):
        EvidenceRecord(**values)


def test_malformed_stored_evidence_is_skipped(app):
    """A hand-edited row with broken items neither breaks the page nor shows them."""
    cert_id = issue(app)
    update_row(app, cert_id, evidence=[{"name": 3}, "text", evidence_json(), None])
    client = app.test_client()
    assert len(client.get(f"/verify/{cert_id}.json").json["evidence"]) == 1
    assert client.get(f"/verify/{cert_id}/evidence/3").status_code == 200
    assert client.get(f"/verify/{cert_id}/evidence/1").status_code == 404


def test_withdrawn_certificate_shows_no_evidence(app):
    """After the holder withdraws (account deletion), every evidence page is a 404 and the texts are erased."""
    cert_id = issue(app)
    update_row(app, cert_id, evidence=[evidence_json()])
    withdraw(app, cert_id)
    assert app.test_client().get(f"/verify/{cert_id}/evidence/1").status_code == 404
    (stored,) = row(app, cert_id)["evidence"]
    assert stored["text"] == "" and stored["reviewer_comment"] == "" and stored["consent"] is False
    assert stored["name"] == "Headline and call to action"


def test_account_deletion_without_withdrawal_erases_evidence_texts(app):
    """Deleting the account but keeping the certificate verifiable: the submitted text and comments go, the
    certificate keeps naming the approved assignment."""
    from coaching.models import User
    from coaching.services.privacy import delete_account

    cert_id = issue(app)
    update_row(app, cert_id, evidence=[evidence_json()])
    with app.app_context():
        user = db.session.get(User, db.session.get(Certificate, cert_id).user_id)
        delete_account(user, actor=None, withdraw_certificates=False, via="self")
        db.session.commit()
    anonymous = app.test_client()
    assert anonymous.get(f"/verify/{cert_id}/evidence/1").status_code == 404
    credential = anonymous.get(f"/verify/{cert_id}.json").json
    assert "evidence" not in credential
    assert "Headline and call to action" in credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert "Save 3 hours" not in str(row(app, cert_id)["evidence"])


def test_personal_data_export_lists_exam_and_evidence(app):
    """The holder's data export carries the certificate's exam result and evidence."""
    cert_id = issue(app)
    update_row(app, cert_id, evidence=[evidence_json()], exam_name="Exam", exam_pass_mark=80, exam_score=92.5)
    with app.app_context():
        from coaching.services.privacy import export_data

        user_id = db.session.get(Certificate, cert_id).user_id
        from coaching.models import User

        exported = export_data(db.session.get(User, user_id))
    (certificate,) = exported["certificates"]
    assert certificate["exam"] == {"name": "Exam", "pass_mark": 80, "score": 92.5}
    assert certificate["evidence"][0]["text"].startswith("Save 3 hours")
