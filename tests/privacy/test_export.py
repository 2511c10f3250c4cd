"""Export of personal data (GDPR art. 15 and 20): everything kept about a person, as one JSON file."""
from __future__ import annotations

import json

from sqlalchemy import select

from coaching.extensions import db
from coaching.models import AuditLog, PasswordReset, User
from coaching.services import privacy
from tests.privacy.helpers import EMAIL, NAME, WRONG_TEXT


def _export(client, path="/auth/export.json"):
    """Download an export and parse it."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response, json.loads(response.get_data(as_text=True))


def test_export_is_a_private_attachment(client, rich):
    """The export is a JSON download that no cache keeps."""
    response, data = _export(client)
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"personal-data-")
    assert "no-store" in response.headers["Cache-Control"]
    assert data["format"] == privacy.EXPORT_FORMAT


def test_export_holds_every_table_that_points_at_the_person(app, client, rich):
    """Walk the metadata: each table with a user_id/used_by_id/actor_id column is in the export with its rows."""
    _response, data = _export(client)
    uid = rich["user_id"]
    with app.app_context():
        links = privacy.person_links()
        assert {t.name for t, _c in links} >= {"quiz_attempts", "certificates", "invites", "audit_log",
                                               "password_resets", "lesson_progress", "course_enrollments"}
        for table, column in links:
            ids = {row for (row,) in db.session.execute(select(table.c.id).where(column == uid))}
            # affiliates act in no audit entry; a manager's own export is checked below
            assert ids or column.name == "actor_id", f"test data has no row in {table.name}.{column.name}"
            exported = {str(item["id"]) for item in data[table.name]}
            assert {str(i) for i in ids} <= exported, table.name
            if table.name != "audit_log":  # the audit section also lists entries *about* the person
                assert len(data[table.name]) == len(ids), table.name


def test_export_content(app, client, rich):
    """Account, attempts with answers and scores, certificates with address and status, times of resets."""
    _response, data = _export(client)
    account = data["account"]
    assert account["email"] == EMAIL and account["name"] == NAME and account["role"] == "affiliate"
    assert set(account) == {"id", "email", "name", "role", "language", "created_at", "last_seen_at", "active"}
    attempts = data["quiz_attempts"]
    assert len(attempts) == 2 and {a["passed"] for a in attempts} == {True, False}
    assert any(WRONG_TEXT in json.dumps(a["answers"]) for a in attempts)
    assert all({"score", "total", "percent", "results", "submitted_at"} <= set(a) for a in attempts)
    [cert] = data["certificates"]
    assert cert["id"] == rich["certificate"] and cert["status"] == "valid"
    assert cert["verify_url"] == f"http://localhost/verify/{rich['certificate']}"
    assert data["invites"][0]["used_at"] and data["password_resets"][0]["requested_at"]
    assert {e["action"] for e in data["audit_log"]} >= {"attempt_granted"}
    assert len(data["attempt_grants"]) == 1 and len(data["lesson_progress"]) == 2
    assert data["course_enrollments"][0]["completed_at"]


def test_export_holds_no_secrets(app, client, rich):
    """No password hash, session token, reset or invite token hash ever leaves in an export."""
    response, _data = _export(client)
    body = response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, rich["user_id"])
        secrets_ = [user.password_hash, user.session_token,
                    *db.session.scalars(select(PasswordReset.token_hash))]
    assert all(secret not in body for secret in secrets_)
    assert "token" not in body and "password_hash" not in body


def test_affiliate_cannot_export_someone_else(app, client, rich, make_user):
    """There is no id in the affiliate's route; the manager route is 403 for affiliates."""
    other = make_user(email="other@example.com", name="Olga Other")
    _response, data = _export(client, f"/auth/export.json?user_id={other.id}")
    assert data["account"]["id"] == rich["user_id"] and "Olga" not in json.dumps(data)
    assert client.get(f"/manage/affiliates/{other.id}/export.json").status_code == 403
    assert app.test_client().get("/auth/export.json").status_code == 302  # anonymous: to the login page


def test_manager_exports_an_affiliate(app, manager_client, rich):
    """A manager downloads any person's export; the download is audited; a missing id is a 404."""
    response, data = _export(manager_client, f"/manage/affiliates/{rich['user_id']}/export.json")
    assert data["account"]["email"] == EMAIL and "no-store" in response.headers["Cache-Control"]
    assert manager_client.get("/manage/affiliates/999999/export.json").status_code == 404
    assert manager_client.get("/manage/affiliates/abc/export.json").status_code == 404
    with app.app_context():
        entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "personal_data_exported")).one()
        assert entry.actor_id == rich["manager_id"] and entry.target_id == str(rich["user_id"])


def test_profile_links_to_my_data(client, logged_in):
    """The profile offers the download and the deletion page."""
    body = client.get("/auth/profile").get_data(as_text=True)
    assert 'href="/auth/export.json"' in body and 'href="/auth/delete"' in body


def test_export_of_fresh_account(client, logged_in):
    """An account without any activity exports with empty sections, not an error."""
    _response, data = _export(client)
    assert data["quiz_attempts"] == [] and data["certificates"] == [] and data["account"]["email"] == EMAIL


def test_export_is_logged_without_personal_data(client, logged_in, caplog):
    """The export leaves an event line with the id only."""
    caplog.set_level("INFO", logger="coaching.events")
    _export(client)
    lines = [r.getMessage() for r in caplog.records if "personal_data_exported" in r.getMessage()]
    assert lines and all(EMAIL not in line for line in lines)



def test_manager_own_export_lists_their_actions(app, manager_client, rich):
    """A manager's own export holds the audit entries they made (action and time, not the details)."""
    _response, data = _export(manager_client)
    with app.app_context():
        mine = set(db.session.scalars(select(AuditLog.id).where(AuditLog.actor_id == rich["manager_id"])))
    assert mine and mine == {e["id"] for e in data["audit_log"] if e["role"] == "actor"}
    assert EMAIL not in json.dumps(data["audit_log"])
