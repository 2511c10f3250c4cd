"""Retention: `flask users purge-inactive` lists, and with --yes deletes, accounts idle past RETENTION_DAYS."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from coaching.extensions import db
from coaching.models import AuditLog, Certificate, User, utcnow
from coaching.services import privacy
from tests.privacy.helpers import EMAIL, NAME, find_everywhere


def _people(make_user):
    """An idle affiliate, one never seen since an old registration, a recent one, and an idle manager."""
    old = utcnow() - timedelta(days=800)
    return {
        "idle": make_user(email="idle@example.com", name="Ida Idle", last_seen_at=old).id,
        "never": make_user(email="never@example.com", name="Nev Never", created_at=old).id,
        "recent": make_user(email="recent@example.com", name="Rita Recent", last_seen_at=utcnow()).id,
        "manager": make_user(email="oldboss@example.com", name="Old Boss", role="manager", last_seen_at=old).id,
    }


def _ids(app) -> set[int]:
    """Ids of every account."""
    with app.app_context():
        return set(db.session.scalars(select(User.id)))


def test_lists_without_deleting(app, runner, make_user):
    """Without --yes: a list with masked emails and last activity; nothing deleted."""
    people = _people(make_user)
    result = runner.invoke(args=["users", "purge-inactive"])
    assert result.exit_code == 0, result.output
    assert "2 account(s) inactive for more than 730 days" in result.output
    assert "i***@example.com" in result.output and "n***@example.com" in result.output
    assert "idle@example.com" not in result.output and "recent" not in result.output and "o***" not in result.output
    assert f"id {people['idle']} " in result.output and "Nothing deleted" in result.output
    assert _ids(app) == set(people.values())


def test_deletes_with_yes(app, runner, make_user):
    """With --yes: the idle affiliates are deleted with the usual rules; managers and recent ones stay."""
    people = _people(make_user)
    result = runner.invoke(args=["users", "purge-inactive", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 account(s); 0 certificate(s) kept verifiable." in result.output
    assert _ids(app) == {people["recent"], people["manager"]}
    assert find_everywhere(app, "idle@example.com", "Ida Idle", "never@example.com") == []
    with app.app_context():
        rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "user_deleted")).all()
        assert {r.target_id for r in rows} == {str(people["idle"]), str(people["never"])}
        assert all(r.actor_id is None and r.detail["by"] == "retention" for r in rows)
    assert "0 account(s)" in runner.invoke(args=["users", "purge-inactive", "--yes"]).output


def test_retention_days_setting(app_factory, make_user):
    """RETENTION_DAYS decides what counts as inactive."""
    app = app_factory(RETENTION_DAYS=30)
    make_user(email="month@example.com", last_seen_at=utcnow() - timedelta(days=45))
    result = app.test_cli_runner().invoke(args=["users", "purge-inactive"])
    assert "1 account(s) inactive for more than 30 days" in result.output and "m***@example.com" in result.output


def test_certificates_kept_by_default_or_withdrawn(app, client, runner, rich):
    """Certificates stay verifiable unless --withdraw-certificates is given."""
    with app.app_context():
        db.session.get(User, rich["user_id"]).last_seen_at = utcnow() - timedelta(days=1000)
        db.session.commit()
    result = runner.invoke(args=["users", "purge-inactive", "--yes", "--withdraw-certificates"])
    assert "Deleted 1 account(s); 1 certificate(s) withdrawn." in result.output, result.output
    with app.app_context():
        cert = db.session.get(Certificate, rich["certificate"])
        assert cert.withdrawn_at and cert.recipient_name is None
    assert find_everywhere(app, EMAIL, NAME) == []


def test_mask_email():
    """Enough to recognise an account, not to read the address out."""
    assert privacy.mask_email("alex@example.com") == "a***@example.com"
    assert privacy.mask_email("x") == "x***"
