"""Invites (create, show once, list with status, withdraw) and the audit log page."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from coaching.extensions import db
from coaching.models import User, utcnow
from coaching.services import accounts, audit


def status_cells(html):
    """The status column of the invites table, newest first."""
    return re.findall(r'data-status="(\w+)"', html)


def test_create_invite_shows_link_once(app, post, manager_client, world, manager_id):
    """The link appears on the response page only; the database holds its hash; the audit row no token."""
    response = post("/manage/invites", {"email": "New.Person@Example.com"})
    html = response.get_data(as_text=True)
    link = re.search(r'value="(http://localhost/auth/register\?invite=([^"]+))"', html)
    assert response.status_code == 200 and link
    token = link.group(2)
    with app.app_context():
        invite = accounts.find_valid_invite(token)
        assert invite is not None and invite.email == "new.person@example.com"
        assert token not in invite.token_hash
        assert (invite.expires_at - invite.created_at) == timedelta(days=14)
    listing = manager_client.get("/manage/invites").get_data(as_text=True)
    assert token not in listing and status_cells(listing) == ["open"] and "new.person@example.com" in listing
    assert world.audit_actions() == ["invite_created"]


def test_invalid_email_is_400(post, world):
    """A malformed email re-shows the form with an error; nothing is created."""
    response = post("/manage/invites", {"email": "not-an-email"})
    assert response.status_code == 400 and "Enter a valid email address." in response.get_data(as_text=True)
    assert world.audit_actions() == []


def test_statuses_and_withdraw(app, post, manager_client, world, manager_id):
    """open, used (with who), expired, withdrawn; withdrawing twice changes nothing the second time."""
    newcomer = world.user("Nina Newcomer")
    with app.app_context():
        boss = db.session.get(User, manager_id)
        used, _t = accounts.create_invite(created_by=boss, now=utcnow() - timedelta(days=3))
        accounts.claim_invite(used, db.session.get(User, newcomer))
        accounts.create_invite(created_by=boss, now=utcnow() - timedelta(days=15))
        open_invite, _t = accounts.create_invite(created_by=boss)
        db.session.commit()
        open_id, used_id = open_invite.id, used.id
    html = manager_client.get("/manage/invites").get_data(as_text=True)
    assert status_cells(html) == ["open", "used", "expired"] and "Nina Newcomer" in html
    assert post(f"/manage/invites/{open_id}/withdraw").status_code == 303
    response = post(f"/manage/invites/{open_id}/withdraw", follow_redirects=True)
    assert "can no longer be withdrawn" in response.get_data(as_text=True)
    assert post(f"/manage/invites/{used_id}/withdraw").status_code == 303
    assert status_cells(manager_client.get("/manage/invites").get_data(as_text=True)) == ["withdrawn", "used", "expired"]
    assert world.audit_actions() == ["invite_withdrawn"]
    assert post("/manage/invites/999999/withdraw").status_code == 404
    assert post("/manage/invites/abc/withdraw").status_code == 404


def test_record_writes_row_and_log_line(app, manager_id, caplog):
    """record() adds the row and logs the event with the same facts (one line, no raw newlines)."""
    with app.app_context(), caplog.at_level(logging.INFO, logger="coaching.events"):
        boss = db.session.get(User, manager_id)
        entry = audit.record(boss, "attempt_granted", "user", 7, course="demo", note="line\nbreak")
        db.session.commit()
        assert (entry.actor_id, entry.target_id, entry.detail["course"]) == (manager_id, "7", "demo")
    line = [r.getMessage() for r in caplog.records if "manage.attempt_granted" in r.getMessage()]
    assert len(line) == 1 and "\n" not in line[0] and '"target_id": "7"' in line[0]


def test_audit_page_lists_who_what_when_target(app, post, manager_client, world):
    """The audit page shows the actor, the action, the time and a link to the target."""
    uid = world.user("Target Person")
    post(f"/manage/affiliates/{uid}/grant-attempt", {"course": "demo", "lesson": "headlines"})
    html = manager_client.get("/manage/audit").get_data(as_text=True)
    row = html.split('id="audit-table"')[1]
    assert "Maria Manager" in row and "attempt_granted" in row and f"/manage/affiliates/{uid}" in row
    assert "<time datetime=" in row and "headlines" in row


def test_audit_page_is_paginated(app, manager_client, manager_id):
    """Fifty rows per page, newest first."""
    with app.app_context():
        boss = db.session.get(User, manager_id)
        for i in range(55):
            audit.record(boss, f"test_action_{i:02d}", "user", i)
        db.session.commit()
    first = manager_client.get("/manage/audit").get_data(as_text=True)
    second = manager_client.get("/manage/audit?page=2").get_data(as_text=True)
    assert "test_action_54" in first and "test_action_04" not in first
    assert "test_action_04" in second and "Page 2 of 2" in second
    assert manager_client.get("/manage/audit?page=999").status_code == 200
