"""Approved work on the certificate: evidence frozen at issue time with the holder's consent, shown on the
verification page and in the credential, and following the holder's consent from the dashboard."""
from __future__ import annotations

import re
from typing import Any

from coaching.extensions import db
from coaching.models import User
from coaching.services import certificates, coaching, quizzes
from tests.coaching.conftest import HEADLINE, LANDING, form_post, review_form, send_work
from tests.conftest import Auth


def finish_course(app: Any, client: Any, reviewer: Any, *, headline_consent: bool) -> str:
    """The signed-in affiliate submits both assignments (consent only as asked for the headline), the reviewer
    approves both, the affiliate passes the landing quiz: the course is complete; returns the certificate id."""
    extra = {"show_on_certificate": "y"} if headline_consent else {}
    assert send_work(client, HEADLINE, **extra).status_code == 303
    assert send_work(client, LANDING, answer="My landing page keeps the promise.",
                     link="https://shop.example/trail").status_code == 303
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.email == "aff@example.com"))
        ids = [coaching.submission_of(user_id, "pitch", slug).id for slug in ("headline", "landing")]
    for submission_id in ids:
        assert review_form(reviewer, submission_id, overall="Clear and honest.").status_code == 303
    with app.app_context():
        user = db.session.get(User, user_id)
        from coaching.services import catalog

        course = catalog.catalog().course("pitch")
        lesson = course.lesson("landing")
        text = lesson.texts["en"]
        question = text.quiz.questions[0]
        quizzes.submit_quiz(user, course, lesson, text, {question.id: list(question.correct_ids)}, "quiz-1", "en")
        db.session.commit()
        cert = certificates.current_certificate(user_id, "pitch")
        assert cert is not None
        return cert.id


def test_approved_work_with_consent_is_evidence_on_the_certificate(app, make_user, reviewer):
    """With consent the headline's approved text has a public page and is `evidence` in the credential; the
    landing page (no consent) is named as approved in the criteria, with no page."""
    make_user()
    client = app.test_client()
    assert Auth(client).login().status_code == 302
    cert_id = finish_course(app, client, reviewer, headline_consent=True)
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{cert_id}").get_data(as_text=True)
    assert f"/verify/{cert_id}/evidence/1" in page and f"/verify/{cert_id}/evidence/2" not in page
    evidence = anonymous.get(f"/verify/{cert_id}/evidence/1")
    assert evidence.status_code == 200 and "Trail 2 sets up in 3 minutes" in evidence.get_data(as_text=True)
    assert anonymous.get(f"/verify/{cert_id}/evidence/2").status_code == 404
    credential = anonymous.get(f"/verify/{cert_id}.json").json
    [item] = credential["evidence"]
    assert item["id"].endswith(f"/verify/{cert_id}/evidence/1") and item["name"] == "Headline"
    assert "Clear and honest." in item["description"]
    assert "Landing page" in credential["credentialSubject"]["achievement"]["criteria"]["narrative"]


def test_consent_changed_on_the_dashboard_follows_onto_the_certificate(app, make_user, reviewer):
    """Giving consent later adds the page, withdrawing it removes the page again (404)."""
    make_user()
    client = app.test_client()
    assert Auth(client).login().status_code == 302
    cert_id = finish_course(app, client, reviewer, headline_consent=False)
    anonymous = app.test_client()
    assert anonymous.get(f"/verify/{cert_id}/evidence/1").status_code == 404
    dashboard = client.get("/dashboard").get_data(as_text=True)
    actions = re.findall(r'action="(/dashboard/assignments/\d+/consent)"', dashboard)
    assert actions, "the dashboard offers the consent choice for approved work"
    headline_action = actions[0]
    assert form_post(client, "/dashboard", headline_action, {"show_on_certificate": "y"}).status_code == 303
    assert anonymous.get(f"/verify/{cert_id}/evidence/1").status_code == 200
    assert form_post(client, "/dashboard", headline_action, {"show_on_certificate": "n"}).status_code == 303
    assert anonymous.get(f"/verify/{cert_id}/evidence/1").status_code == 404
    assert anonymous.get(f"/verify/{cert_id}.json").json.get("evidence", []) == []
