"""Account deletion (GDPR art. 17): personal data erased, statistics kept as anonymous rows, certificates by choice."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import (
    AttemptGrant,
    AuditLog,
    Certificate,
    CourseEnrollment,
    Invite,
    LessonProgress,
    PasswordReset,
    QuizAttempt,
    User,
)
from coaching.services import privacy
from coaching.services.catalog import catalog
from coaching.services.reports import questions
from tests.conftest import Auth
from tests.privacy.helpers import EMAIL, NAME, WRONG_TEXT, delete_own_account, find_everywhere, manager_delete


def _counts(app) -> dict[str, int]:
    """Row counts of the statistics tables, and completed enrollments."""
    with app.app_context():
        count = lambda model, *where: db.session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        return {"attempts": count(QuizAttempt), "progress": count(LessonProgress),
                "enrollments": count(CourseEnrollment),
                "completed": count(CourseEnrollment, CourseEnrollment.completed_at.is_not(None)),
                "certificates": count(Certificate)}


def _analysis(app) -> list[tuple[int, int, int]]:
    """Per question of the demo quiz: answered, right, wrong choices tallied (the analysis inputs)."""
    with app.app_context():
        lesson = catalog().course("demo").lesson("headlines")
        [version], _older = questions.question_analysis("demo", lesson)
        return [(q.answered, q.right, sum(q.wrong_options.values())) for q in version.questions]


def _user_exists(app, user_id: int) -> bool:
    """True while the account row exists."""
    with app.app_context():
        return db.session.get(User, user_id) is not None


def _deletion_entry(app, user_id: int) -> AuditLog:
    """The audit row of a deletion."""
    with app.app_context():
        entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "user_deleted",
                                                          AuditLog.target_id == str(user_id))).one()
        db.session.expunge(entry)
        return entry


def test_delete_page_explains_and_asks_for_the_password(client, logged_in):
    """GET shows what happens, the certificate choice and the password field."""
    body = client.get("/auth/delete").get_data(as_text=True)
    assert 'name="password"' in body and 'value="keep"' in body and 'value="withdraw"' in body
    assert "csrf_token" in body


def test_wrong_password_deletes_nothing(app, client, rich):
    """A wrong password: 400 with a field error, and every row is still there."""
    before = _counts(app)
    response = delete_own_account(client, password="not my password")
    assert response.status_code == 400
    assert "The password is not correct" in response.get_data(as_text=True)
    assert _user_exists(app, rich["user_id"]) and _counts(app) == before
    assert client.get("/dashboard").status_code == 200  # still signed in


def test_delete_needs_csrf_and_post(app, client, rich):
    """Without the CSRF token: 400; the route takes no GET deletion."""
    response = client.post("/auth/delete", data={"password": "correct horse battery", "certificates": "keep"})
    assert response.status_code == 400 and _user_exists(app, rich["user_id"])
    assert client.get("/auth/delete").status_code == 200 and _user_exists(app, rich["user_id"])


def test_affiliate_deletes_account_keeping_certificates(app, client, rich):
    """Deleted and signed out; only the kept certificate still holds the printed name."""
    before, analysis = _counts(app), _analysis(app)
    response = delete_own_account(client, certificates="keep")
    assert response.status_code == 303
    assert "have been deleted" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # the session has ended
    assert not _user_exists(app, rich["user_id"])
    assert find_everywhere(app, EMAIL) == []
    assert [(t, c) for t, c, _v in find_everywhere(app, NAME)] == [("certificates", "recipient_name")]
    assert _counts(app) == before and _analysis(app) == analysis
    page = app.test_client().get(f"/verify/{rich['certificate']}").get_data(as_text=True)
    assert NAME in page and "Valid" in page
    entry = _deletion_entry(app, rich["user_id"])
    assert entry.actor_id is None and entry.detail["by"] == "self" and entry.detail["certificates"] == "kept"


def test_affiliate_deletes_account_withdrawing_certificates(app, client, rich):
    """Withdrawn certificates lose the name: the page says so, the credential is gone (410)."""
    assert delete_own_account(client, certificates="withdraw").status_code == 303
    assert find_everywhere(app, EMAIL, NAME) == []
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{rich['certificate']}").get_data(as_text=True)
    assert "Withdrawn by the holder" in page and NAME not in page
    assert anonymous.get(f"/verify/{rich['certificate']}.json").status_code == 410
    with app.app_context():
        cert = db.session.get(Certificate, rich["certificate"])
        assert cert.withdrawn_at is not None and cert.recipient_name is None and cert.user_id is None
    assert _deletion_entry(app, rich["user_id"]).detail["certificates"] == "withdrawn"


def test_attempts_stay_anonymous_with_choices_and_without_text(app, client, rich):
    """Question analysis inputs stay: attempt rows, results and option ids; typed answers are erased."""
    delete_own_account(client)
    with app.app_context():
        attempts = db.session.scalars(select(QuizAttempt)).all()
        assert len(attempts) == 2 and all(a.user_id is None for a in attempts)
        for attempt in attempts:
            values = [v for given in attempt.answers.values() for v in given]
            assert values and all(privacy.OPTION_ID.fullmatch(v) for v in values)
            assert len(attempt.results) == 3
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 2
        assert all(p is None for p in db.session.scalars(select(LessonProgress.user_id)))
        assert all(e is None for e in db.session.scalars(select(CourseEnrollment.user_id)))
        assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0
        assert db.session.scalar(select(func.count()).select_from(AttemptGrant)) == 0
        invite = db.session.get(Invite, rich["invite_id"])
        assert invite.used_by_id is None and invite.email is None and invite.used_at is not None
    assert find_everywhere(app, WRONG_TEXT) == []


def test_audit_rows_keep_ids_not_names(app, client, rich):
    """Audit rows survive with ids and counts; none quotes the deleted email or name."""
    delete_own_account(client)
    entry = _deletion_entry(app, rich["user_id"])
    assert entry.detail["attempts_anonymised"] == 2 and entry.detail["text_answers_erased"] == 2
    with app.app_context():
        actions = set(db.session.scalars(select(AuditLog.action)))
        assert {"invite_created", "attempt_granted", "user_deleted"} <= actions
    assert [t for t, _c, _v in find_everywhere(app, EMAIL, NAME) if t == "audit_log"] == []


def test_manager_deletes_an_affiliate(app, client, manager_client, rich):
    """The manager route deletes with the chosen certificate rule; the affiliate's session ends."""
    before = _counts(app)
    response = manager_delete(manager_client, rich["user_id"], certificates="withdraw")
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/affiliates")
    assert not _user_exists(app, rich["user_id"]) and _counts(app) == before
    assert client.get("/dashboard").status_code == 302
    assert find_everywhere(app, EMAIL, NAME) == []
    entry = _deletion_entry(app, rich["user_id"])
    assert entry.actor_id == rich["manager_id"] and entry.detail["by"] == "manager"
    assert entry.detail["certificates"] == "withdrawn" and entry.detail["certificates_affected"] == 1


def test_manager_delete_needs_confirmation_and_csrf(app, manager_client, rich):
    """Without the box ticked nothing happens; without CSRF: 400; affiliates: 403."""
    response = manager_delete(manager_client, rich["user_id"], confirm=False)
    assert response.status_code == 303 and _user_exists(app, rich["user_id"])
    response = manager_client.post(f"/manage/affiliates/{rich['user_id']}/delete", data={"confirm": "y"})
    assert response.status_code == 400 and _user_exists(app, rich["user_id"])
    assert manager_client.get(f"/manage/affiliates/{rich['user_id']}/delete").status_code == 405


def test_affiliate_cannot_use_the_manager_delete(app, client, rich, make_user):
    """An affiliate posting to the manager route gets 403 and nothing changes."""
    other = make_user(email="other@example.com", name="Olga Other")
    assert manager_delete(client, other.id).status_code == 403
    assert _user_exists(app, other.id)


def test_manager_cannot_delete_themselves_there(app, manager_client, manager, make_user):
    """A manager's own id is refused in the manager area, even with another manager around."""
    make_user(email="second@example.com", name="Second Manager", role="manager")
    response = manager_delete(manager_client, manager.id)
    assert response.status_code == 303 and _user_exists(app, manager.id)


def test_last_manager_stays(app, manager, manager_client):
    """The only manager cannot delete their own account from the profile either."""
    token = Auth(manager_client).token("/auth/delete")
    response = manager_client.post("/auth/delete", data={"csrf_token": token, "password": "correct horse battery",
                                                         "certificates": "keep"})
    assert response.status_code == 400 and "last manager" in response.get_data(as_text=True)
    assert _user_exists(app, manager.id)


def test_manager_deletes_another_manager(app, manager_client, make_user):
    """With two managers, one can delete the other."""
    second = make_user(email="second@example.com", name="Second Manager", role="manager")
    assert manager_delete(manager_client, second.id).status_code == 303
    assert not _user_exists(app, second.id)


def test_deleting_twice_is_harmless(app, client, manager_client, rich):
    """Second time: 404 in the manager area; the affiliate is signed out anyway."""
    old_token = Auth(client).token("/auth/delete")
    assert manager_delete(manager_client, rich["user_id"]).status_code == 303
    assert manager_delete(manager_client, rich["user_id"]).status_code == 404
    response = client.post("/auth/delete", data={"csrf_token": old_token, "password": "correct horse battery",
                                                  "certificates": "keep"})
    assert response.status_code in (302, 400) and "/auth/delete" not in response.headers.get("Location", "")
    assert client.get("/dashboard").status_code == 302


def test_service_refuses_self_in_manager_role(app, manager):
    """The service rule behind the manager route: an actor never deletes themselves there."""
    with app.app_context():
        user = db.session.get(User, manager.id)
        with pytest.raises(privacy.PrivacyError) as error:
            privacy.delete_account(user, actor=user, withdraw_certificates=False, via="manager")
        assert error.value.code == "self_delete"


def test_erase_text_answers_keeps_option_ids():
    """Option ids are kept, anything else (typed text) goes."""
    kept, erased = privacy.erase_text_answers({"q-1": ["o-0123abcd"], "q-2": ["my own words"], "q-3": []})
    assert kept == {"q-1": ["o-0123abcd"], "q-2": [], "q-3": []} and erased == 1


def test_manager_page_offers_export_and_delete(manager_client, manager, rich):
    """The affiliate's page in the manager area has the export link and the delete form; one's own has no form."""
    body = manager_client.get(f"/manage/affiliates/{rich['user_id']}").get_data(as_text=True)
    assert f'href="/manage/affiliates/{rich["user_id"]}/export.json"' in body
    assert f'action="/manage/affiliates/{rich["user_id"]}/delete"' in body and 'value="withdraw"' in body
    own = manager_client.get(f"/manage/affiliates/{manager.id}").get_data(as_text=True)
    assert f'/manage/affiliates/{manager.id}/export.json' in own and f"/{manager.id}/delete" not in own


def _files_mentioning(root: Path, *needles: str) -> list[str]:
    """Files under `root` (PDF text included; SQLite database files aside) that contain a needle, any case."""
    from pypdf import PdfReader

    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix in (".db", ".db-wal", ".db-shm", ".sqlite") or path.name.endswith(("-wal", "-shm")):
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        if data.startswith(b"%PDF"):
            reader = PdfReader(io.BytesIO(data))
            text += "\n".join(page.extract_text() or "" for page in reader.pages)
            text += "\n".join(payload.decode("utf-8", "replace") for names in reader.attachments.values()
                              for payload in names)
        if any(needle.lower() in text.lower() for needle in needles):
            found.append(str(path.relative_to(root)))
    return found


@pytest.mark.parametrize("choice", ["keep", "withdraw"])
def test_nothing_under_instance_names_a_deleted_person(app, client, manager_client, rich, choice):
    """After the PDF was downloaded (by the holder and a manager), the data exported and the account deleted,
    no file under instance/ holds the person's name or email: PDFs are rendered per request, never stored."""
    cert = rich["certificate"]
    assert client.get(f"/certificates/{cert}.pdf").status_code == 200
    assert manager_client.get(f"/certificates/{cert}.pdf").status_code == 200
    assert client.get("/auth/export.json").status_code == 200
    instance = Path(app.instance_path)
    assert delete_own_account(client, certificates=choice).status_code == 303
    assert _files_mentioning(instance, NAME, EMAIL) == []
    # the check can fail: a file that does hold the name is found
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "probe.txt").write_text(f"left behind: {NAME}")
    assert _files_mentioning(instance, NAME, EMAIL) == ["probe.txt"]
