"""Accounts: registration, login, logout, sessions ending, password reset, profile, throttling."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import PasswordReset, User
from tests.conftest import Auth, csrf_token
from tests.mailbox import last_mail, link_in, mails


def test_register_creates_affiliate_once_confirmed(client, auth, app):
    """Open registration mails a link; using it creates an affiliate with a normalised email and an argon2id
    hash, and signs in."""
    response = auth.register(email="  New.Person@Example.COM ")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/register/check-mail"
    with app.app_context():
        assert db.session.scalar(select(User)) is None
    assert auth.confirm(email="new.person@example.com").status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "new.person@example.com"
        assert user.role == "affiliate"
        assert user.password_hash.startswith("$argon2id$")
    assert client.get("/dashboard").status_code == 200


def test_register_existing_email_other_case_mails_the_owner(app, auth, affiliate):
    """An email that exists in another letter case gets the usual answer; its owner gets a mail, no account."""
    response = auth.register(email="AFF@example.com")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/register/check-mail"
    mail = last_mail(app, to="aff@example.com")
    assert mail.subject == "You already have an account" and "/auth/reset/" in mail.body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("password, message", [
    ("short", "at least 8"),
    ("password123", "too common"),
    ("x" * 300, "at most"),
])
def test_register_password_rules(auth, password, message):
    """Short, common and over-long passwords are refused; the form keeps the name and email, never the password."""
    response = auth.register(name="Keep Me", email="keep@example.com", password=password)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in body
    assert 'value="Keep Me"' in body and 'value="keep@example.com"' in body
    assert password not in body


def test_long_and_emoji_passwords_accepted(auth, client):
    """64+ character passphrases and emoji are fine."""
    password = "🦊 this is a very long passphrase with emoji and spaces " * 2
    assert auth.register_and_confirm(email="emoji@example.com", password=password).status_code == 303
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    fresh = Auth(client.application.test_client())
    assert fresh.login("emoji@example.com", password).status_code == 302


def test_malformed_and_overlong_fields_are_form_errors(auth):
    """A malformed email or an over-long name is a form error (400), never a 500."""
    response = auth.post("/auth/register", {"name": "n" * 5000, "email": "not-an-email", "password": "a fine passphrase"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "valid email" in body


def test_login_unknown_email_and_wrong_password_look_the_same(auth, affiliate):
    """Unknown email and wrong password: same status, same message."""
    wrong = auth.login(password="wrong password here")
    unknown = auth.login(email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 400
    message = "Email or password is not correct."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_login_email_case_insensitive(auth, affiliate):
    """The email is matched whatever its letter case."""
    assert auth.login(email="AFF@EXAMPLE.com").status_code == 302


def test_deactivated_account_cannot_log_in(auth, make_user):
    """A deactivated account gets the generic failure."""
    make_user(email="off@example.com", active=False)
    assert auth.login(email="off@example.com").status_code == 400


def test_login_throttled_per_account_even_with_changing_forwarded_for(app, auth, affiliate):
    """Ten failures a minute for one account, whatever X-Forwarded-For says, give 429."""
    for i in range(10):
        auth.post("/auth/login", {"email": "aff@example.com", "password": "nope nope"},
                  headers={"X-Forwarded-For": f"10.0.0.{i}"})
    response = auth.post("/auth/login", {"email": "aff@example.com", "password": "correct horse battery"},
                         headers={"X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_login_throttled_per_ip(app, auth, make_user):
    """Failures spread over many accounts from one address are throttled too."""
    for i in range(10):
        auth.login(email=f"user{i}@example.com", password="whatever pw")
    assert auth.login(email="other@example.com").status_code == 429


@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "http:/evil.example",
    "\\\\evil.example", "/%0d%0aLocation:%20https://evil.example",
])
def test_no_open_redirect(auth, affiliate, target):
    """`next` pointing off-site is ignored."""
    response = auth.post("/auth/login", {"email": "aff@example.com", "password": "correct horse battery",
                                         "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and "\r" not in location and "\n" not in location
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location


def test_local_next_is_followed(auth, affiliate):
    """A local `next` path is followed after login."""
    response = auth.post("/auth/login", {"email": "aff@example.com", "password": "correct horse battery",
                                         "next": "/courses/demo"})
    assert response.headers["Location"] == "/courses/demo"


def test_logout_is_post_only(client, logged_in):
    """Logout by GET is 405."""
    assert client.get("/auth/logout").status_code == 405


def test_copied_session_cookie_dies_at_logout(app, client, auth, logged_in):
    """A session cookie copied before logout does not work after it."""
    cookie = client.get_cookie("coaching_session")
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("coaching_session", cookie.value)
    response = thief.get("/dashboard")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_remember_cookie_dies_at_logout(app, client, auth, affiliate):
    """A remember-me cookie copied before logout does not work after it either."""
    auth.login(remember="y")
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/dashboard").status_code == 302


def test_password_change_ends_other_sessions(app, client, auth, logged_in):
    """Changing the password signs out other devices; this one stays signed in."""
    other = app.test_client()
    Auth(other).login()
    assert other.get("/dashboard").status_code == 200
    response = auth.post("/auth/password", {"current_password": "correct horse battery",
                                            "password": "a brand new passphrase", "confirm": "a brand new passphrase"},
                         token_from="/auth/profile")
    assert response.status_code == 302
    assert other.get("/dashboard").status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_password_change_needs_current_password(auth, logged_in):
    """A wrong current password changes nothing."""
    response = auth.post("/auth/password", {"current_password": "wrong one!", "password": "a brand new passphrase",
                                            "confirm": "a brand new passphrase"}, token_from="/auth/profile")
    assert response.status_code == 400
    assert "not correct" in response.get_data(as_text=True)


def test_profile_update(app, auth, logged_in):
    """The full name and preferred language are saved."""
    response = auth.post("/auth/profile", {"name": "Zoë Müller", "language": "de"}, token_from="/auth/profile")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, logged_in.id)
        assert (user.name, user.language) == ("Zoë Müller", "de")


def _reset_link(app) -> str:
    """The reset link from the last mail to the affiliate in the outbox."""
    return link_in(last_mail(app, to="aff@example.com"), "/auth/reset/")


def test_forgot_password_same_answer_and_single_use_link(app, client, auth, affiliate):
    """The answer never reveals whether the email exists; the link works once and ends other sessions."""
    known = auth.post("/auth/forgot", {"email": "aff@example.com"})
    unknown = auth.post("/auth/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert [m.to for m in mails(app)] == ["aff@example.com", "nobody@example.com"]
    assert "/auth/reset/" not in last_mail(app, to="nobody@example.com").body
    link = _reset_link(app)
    other = app.test_client()
    Auth(other).login()
    opened = client.get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/auth/reset"
    form = client.get("/auth/reset").get_data(as_text=True)
    response = client.post("/auth/reset", data={"csrf_token": csrf_token(form), "password": "new secret phrase",
                                                "confirm": "new secret phrase"})
    assert response.status_code == 302
    assert other.get("/dashboard").status_code == 302
    assert Auth(app.test_client()).login(password="new secret phrase").status_code == 302
    assert client.get(link).status_code == 404
    assert client.get("/auth/reset").status_code == 404


def test_reset_token_leaves_the_url(app, client, auth, affiliate):
    """Opening the link moves the token into the session: the form lives at /auth/reset, no token in any URL."""
    auth.post("/auth/forgot", {"email": "aff@example.com"})
    link = _reset_link(app)
    token = link.rsplit("/", 1)[1]
    assert client.get("/auth/reset").status_code == 404  # no link opened in this browser yet
    response = client.get(link, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/auth/reset"
    page = response.get_data(as_text=True)
    assert token not in page and 'action="/auth/reset/' not in page
    assert app.test_client().get("/auth/reset").status_code == 404  # another browser has no token
    weak = client.post("/auth/reset", data={"csrf_token": csrf_token(page), "password": "short", "confirm": "short"})
    assert weak.status_code == 400 and token not in weak.get_data(as_text=True)
    assert client.post(f"/auth/reset/{token}", data={"csrf_token": csrf_token(page)}).status_code == 405


def test_reset_link_expires_after_an_hour(app, client, affiliate):
    """A reset link older than one hour is refused."""
    from datetime import timedelta

    from coaching.models import utcnow
    from coaching.services.accounts import create_password_reset

    with app.app_context():
        user = db.session.get(User, affiliate.id)
        token = create_password_reset(user, now=utcnow() - timedelta(hours=1, minutes=1))
        db.session.commit()
    assert client.get(f"/auth/reset/{token}").status_code == 404


def test_reset_tokens_stored_hashed(app, auth, affiliate):
    """Only the hash of a reset token is in the database."""
    auth.post("/auth/forgot", {"email": "aff@example.com"})
    token = _reset_link(app).rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(select(PasswordReset.token_hash))
        assert token not in stored


def test_invite_only_registration(app_factory):
    """With REGISTRATION=invite the form needs a valid invite, bound to its email when set."""
    from coaching.services.accounts import create_invite

    app = app_factory(REGISTRATION="invite")
    client = app.test_client()
    assert "invitation" in client.get("/auth/register").get_data(as_text=True)
    with app.app_context():
        _invite, token = create_invite(created_by=None, email="invited@example.com")
        db.session.commit()
    page = client.get(f"/auth/register?invite={token}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "name": "Inge Invited",
            "email": "other@example.com", "password": "a good passphrase", "invite": token}
    assert client.post("/auth/register", data=data).status_code == 400
    data["email"] = "invited@example.com"
    assert client.post("/auth/register", data=data).status_code == 302
    second = app.test_client()
    assert second.get(f"/auth/register?invite={token}").status_code == 403


def test_session_user_checks_the_token_and_gives_a_clean_attached_user(app, affiliate, make_user):
    """The per-request loader: right token only, active accounts only; the User it returns is persistent
    with no pending change, loads its other columns on use, and saves changes like any loaded User."""
    from coaching.services.accounts import session_user

    inactive = make_user(email="gone@example.com", active=False)
    with app.app_context():
        assert session_user(affiliate.id, "not-the-token") is None
        assert session_user(inactive.id, inactive.session_token) is None
        assert session_user(affiliate.id + 1000, affiliate.session_token) is None
        user = session_user(affiliate.id, affiliate.session_token)
        assert user is not None and user in db.session and not db.session.dirty and not db.session.new
        assert (user.role, user.active) == ("affiliate", True)
        assert (user.email, user.name) == ("aff@example.com", "Alex Affiliate")  # loaded on first use
        assert session_user(affiliate.id, affiliate.session_token) is user  # one object per session
        user.name = "Alexandra"
        db.session.commit()
        db.session.remove()
        assert db.session.get(User, affiliate.id).name == "Alexandra"
