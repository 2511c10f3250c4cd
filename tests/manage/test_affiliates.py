"""The affiliate list and detail page, and every manager action on a person."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import AttemptGrant, AuditLog, Certificate, LessonProgress, User
from coaching.services import management, quizzes

from .conftest import answers

BASE = "/manage/affiliates"


def count(app, model, *where):
    """Rows of a model matching conditions."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audit_rows(app, action):
    """Audit rows of one action, as (actor, target type, target id, detail)."""
    with app.app_context():
        return [(a.actor_id, a.target_type, a.target_id, a.detail) for a in
                db.session.scalars(select(AuditLog).where(AuditLog.action == action))]


def test_list_search_and_counts(manager_client, world):
    """The list searches name and email and shows course counts."""
    finished = world.user("Jörg Müller", email="joerg@example.com")
    world.finish(finished)
    world.user("Other Person", email="other@example.com")
    html = manager_client.get(f"{BASE}?q=jörg").get_data(as_text=True)
    assert "Jörg Müller" in html and "Other Person" not in html
    row = html.split("Jörg Müller")[1].split("</tr>")[0]
    assert re.findall(r'class="num">(\d+)<', row) == ["1", "1", "1"]
    assert "Maria Manager" in manager_client.get(f"{BASE}?role=manager").get_data(as_text=True)
    listed = manager_client.get(f"{BASE}?role=affiliate").get_data(as_text=True)
    listed = listed.split("<tbody>")[1].split("</tbody>")[0]
    assert "Maria Manager" not in listed  # (managers are offered as coaches below the list)


def test_list_pages(manager_client, world):
    """Fifty per page."""
    for i in range(55):
        world.user(f"Person {i:02d}")
    html = manager_client.get(f"{BASE}?page=2").get_data(as_text=True)
    assert "Person 54" in html and "Person 00" not in html and "Page 2 of 2" in html


def test_detail_shows_courses_attempts_with_answers_and_certificates(manager_client, world):
    """The detail page shows status, each attempt's answers as text, and certificates."""
    uid = world.user("Fred Failed")
    world.attempt(uid, answers(single=False, text=False))
    cert_person = world.user("Cert Holder")
    cert_id = world.finish(cert_person)
    html = manager_client.get(f"{BASE}/{uid}").get_data(as_text=True)
    assert "Fred Failed" in html and "Click here now" in html and "cost per click" in html
    assert "1 of 3" in html  # attempts used of allowed
    assert cert_id in manager_client.get(f"{BASE}/{cert_person}").get_data(as_text=True)


def test_grant_attempt(app, post, world, manager_id):
    """Granting raises the attempts allowed by one and writes the audit log."""
    uid = world.user()
    response = post(f"{BASE}/{uid}/grant-attempt", {"course": "demo", "lesson": "headlines", "user_id": manager_id})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{BASE}/{uid}")
    assert count(app, AttemptGrant, AttemptGrant.user_id == uid) == 1
    assert audit_rows(app, "attempt_granted") == [(manager_id, "user", str(uid), {"course": "demo", "lesson": "headlines"})]


def test_grant_refused_without_quiz_and_404_for_unknown_lessons(app, post, world):
    """A lesson without a quiz is refused with a message; an unknown lesson is 404; nothing is written."""
    uid = world.user()
    response = post(f"{BASE}/{uid}/grant-attempt", {"course": "demo", "lesson": "welcome"}, follow_redirects=True)
    assert "This lesson has no quiz." in response.get_data(as_text=True)
    assert post(f"{BASE}/{uid}/grant-attempt", {"course": "demo", "lesson": "nope"}).status_code == 404
    assert post(f"{BASE}/{uid}/grant-attempt", {"course": "nope", "lesson": "welcome"}).status_code == 404
    assert post(f"{BASE}/{uid}/grant-attempt", {}).status_code == 400
    assert count(app, AttemptGrant) == 0 and audit_rows(app, "attempt_granted") == []


def test_reset_lesson_needs_confirmation(app, post, world):
    """Without the checkbox nothing happens; with it the progress row goes and the audit log says so."""
    uid = world.user()
    world.complete_welcome(uid)
    data = {"course": "demo", "lesson": "welcome"}
    response = post(f"{BASE}/{uid}/reset-lesson", data, follow_redirects=True)
    assert "Tick the confirmation box" in response.get_data(as_text=True)
    assert count(app, LessonProgress, LessonProgress.user_id == uid) == 1
    assert post(f"{BASE}/{uid}/reset-lesson", {**data, "confirm": "y"}).status_code == 303
    assert count(app, LessonProgress, LessonProgress.user_id == uid) == 0
    assert [d for *_x, d in audit_rows(app, "lesson_reset")] == [data]


def test_deactivation_ends_sessions_and_reactivation(app, client, auth, affiliate, post, manager_id):
    """Deactivating signs the person out everywhere; reactivating lets them sign in again."""
    assert auth.login().status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert post(f"{BASE}/{affiliate.id}/deactivate").status_code == 303
    assert client.get("/dashboard").status_code == 302  # the copied session no longer works
    assert auth.login().status_code != 302
    assert post(f"{BASE}/{affiliate.id}/reactivate").status_code == 303
    assert auth.login().status_code == 302
    assert [a for a, *_x in audit_rows(app, "user_deactivated") + audit_rows(app, "user_reactivated")] == [manager_id] * 2


def test_manager_cannot_deactivate_or_demote_themselves(app, post, manager_id):
    """Self-deactivation and self-demotion are refused with a clear message."""
    response = post(f"{BASE}/{manager_id}/deactivate", follow_redirects=True)
    assert "You cannot do this to your own account" in response.get_data(as_text=True)
    response = post(f"{BASE}/{manager_id}/role", {"role": "affiliate"}, follow_redirects=True)
    assert "You cannot do this to your own account" in response.get_data(as_text=True)
    with app.app_context():
        me = db.session.get(User, manager_id)
        assert me.active and me.role == "manager"
    assert audit_rows(app, "user_deactivated") == [] and audit_rows(app, "role_changed") == []


def test_last_active_manager_stays(app, world, manager_id):
    """The rule refuses to demote or deactivate the last active manager."""
    other = world.user("Other Manager", role="manager", active=False)
    with app.app_context():
        actor = db.session.get(User, other)  # a stale manager object; only one manager is active
        target = db.session.get(User, manager_id)
        for call in (lambda: management.change_role(actor, target, "affiliate"),
                     lambda: management.set_active(actor, target, False)):
            with pytest.raises(management.ActionRefused) as refused:
                call()
            assert refused.value.code == "last_manager"


def test_change_role(app, post, world, manager_id):
    """Promote and demote another person; unknown roles are 400."""
    uid = world.user()
    assert post(f"{BASE}/{uid}/role", {"role": "manager"}).status_code == 303
    assert post(f"{BASE}/{uid}/role", {"role": "affiliate"}).status_code == 303
    assert post(f"{BASE}/{uid}/role", {"role": "admin"}).status_code == 400
    assert [d for *_x, d in audit_rows(app, "role_changed")] == [
        {"old": "affiliate", "new": "manager"}, {"old": "manager", "new": "affiliate"}]


def test_revoke_certificate_is_idempotent(app, post, world, manager_id):
    """Revoking sets the reason once; revoking again changes nothing and logs nothing."""
    uid = world.user()
    cert_id = world.finish(uid)
    url = f"{BASE}/{uid}/certificates/{cert_id}/revoke"
    assert post(url, {"reason": "   "}).status_code == 303
    assert world.get(Certificate, cert_id).revoked_at is None
    assert post(url, {"reason": "Shared answers"}).status_code == 303
    response = post(url, {"reason": "Again"}, follow_redirects=True)
    assert "already revoked" in response.get_data(as_text=True)
    cert = world.get(Certificate, cert_id)
    assert cert.revoked_at is not None and cert.revoked_reason == "Shared answers"
    assert audit_rows(app, "certificate_revoked") == [
        (manager_id, "certificate", cert_id, {"user_id": uid, "reason": "Shared answers"})]


def test_revoke_someone_elses_or_unknown_certificate_is_404(post, world):
    """A certificate id that belongs to another person, or none, is 404."""
    owner, other = world.user(), world.user()
    cert_id = world.finish(owner)
    assert post(f"{BASE}/{other}/certificates/{cert_id}/revoke", {"reason": "x"}).status_code == 404
    assert post(f"{BASE}/{owner}/certificates/NOPE/revoke", {"reason": "x"}).status_code == 404
    assert post(f"{BASE}/999999/certificates/{cert_id}/revoke", {"reason": "x"}).status_code == 404
    assert world.get(Certificate, cert_id).revoked_at is None


def test_password_reset_link_shown_once_and_works(app, client, post, manager_client, affiliate, manager_id):
    """The link is on the response page only; it opens the reset form; the audit row holds no token."""
    response = post(f"{BASE}/{affiliate.id}/password-reset")
    html = response.get_data(as_text=True)
    match = re.search(r'value="(http://localhost/auth/reset/[^"]+)"', html)
    assert response.status_code == 200 and match
    opened = client.get(match.group(1).replace("http://localhost", ""), follow_redirects=True)
    assert opened.status_code == 200 and opened.request.path == "/auth/reset"
    rows = audit_rows(app, "password_reset_link_created")
    assert rows == [(manager_id, "user", str(affiliate.id), {})]
    token = match.group(1).rsplit("/", 1)[1]
    assert token not in manager_client.get("/manage/audit").get_data(as_text=True)
    assert token not in manager_client.get(f"{BASE}/{affiliate.id}").get_data(as_text=True)


def test_password_reset_link_refused_for_managers(post, world):
    """Reset links are for affiliates only."""
    other = world.user("Second Manager", role="manager")
    response = post(f"{BASE}/{other}/password-reset", follow_redirects=True)
    assert "only be created for affiliates" in response.get_data(as_text=True)


def test_extra_fields_are_ignored(app, post, world):
    """role=manager or user_id in a form does not change whom the action targets or what it does."""
    uid, bystander = world.user(), world.user()
    post(f"{BASE}/{uid}/grant-attempt", {"course": "demo", "lesson": "headlines", "user_id": bystander, "role": "manager"})
    with app.app_context():
        assert db.session.get(User, uid).role == "affiliate"
        assert quizzes.quiz_standing(bystander, "demo", "headlines", 3).left == 3  # no grant went to them
