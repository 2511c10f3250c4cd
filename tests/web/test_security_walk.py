"""SECURITY.md lines that had no test yet: CSRF and POST-only on every state-changing route (walked from the URL
map), the dummy hash for unknown emails, X-Forwarded-For only behind a configured proxy, rehashing weaker
hashes, a new session at login, the remember cookie's flags, the event log's facts, names escaped on every
page, and insert_ignore's answer on both databases."""
from __future__ import annotations

import json
import logging
from html.parser import HTMLParser

from argon2 import PasswordHasher
from sqlalchemy import select

from coaching.extensions import db
from coaching.models import User
from tests.conftest import Auth, csrf_token
from tests.web.helpers import certificate_id, finish_demo_course

SAMPLES = {"course_slug": "demo", "lesson_slug": "headlines", "user_id": "1", "cert_id": "AAAA", "invite_id": "1",
           "token": "x" * 20, "attempt_id": "1", "name": "x", "filename": "x", "submission_id": "1", "number": "1",
           "thumbprint": "x"}


def _access(app, endpoint):
    """The access level a view declares."""
    view = app.view_functions[endpoint]
    while not hasattr(view, "access"):
        view = view.__wrapped__
    return view.access


def test_every_post_route_refuses_a_missing_token_and_a_get(app, client, logged_in, manager_client):
    """Walk the URL map: every POST route, for someone allowed to use it, answers 400 without a CSRF token;
    routes that only take POST answer GET with 405 (CSRF is on in these tests)."""
    checked = 0
    readable = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods}  # e.g. GET /auth/profile
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        path = rule.build({k: SAMPLES[k] for k in rule.arguments})[1]
        user = manager_client if _access(app, rule.endpoint) == "manager" else client
        assert user.post(path, data={"name": "x"}).status_code == 400, path
        if rule.rule not in readable:
            assert user.get(path).status_code == 405, path
        checked += 1
    assert checked >= 20


def test_login_unknown_email_verifies_a_dummy_hash(app, auth, affiliate, monkeypatch):
    """An unknown email costs one argon2 verification, like a wrong password for a known one (similar time)."""
    calls = []
    real = PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return real(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    assert auth.login(password="wrong password here").status_code == 400
    assert auth.login(email="nobody@example.com", password="wrong password here").status_code == 400
    assert len(calls) == 2 and all(h.startswith("$argon2id$") for h in calls)


def _login_ips(app, caplog, forwarded: str) -> list[str]:
    """The IP the event log records for a failed login sent with an X-Forwarded-For header."""
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="coaching.events"):
        Auth(client).post("/auth/login", {"email": "x@example.com", "password": "wrong password"},
                          headers={"X-Forwarded-For": forwarded})
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "coaching.events"]
    return [e["ip"] for e in events if e["event"] == "login_failed"]


def test_forwarded_for_is_trusted_only_behind_a_configured_proxy(app_factory, caplog):
    """PROXY_FIX_HOPS=0: X-Forwarded-For is ignored (nobody fakes an IP); 1: the address nginx put there counts."""
    direct = app_factory()
    assert _login_ips(direct, caplog, "203.0.113.7") == ["127.0.0.1"]
    caplog.clear()
    proxied = app_factory(PROXY_FIX_HOPS=1)
    assert _login_ips(proxied, caplog, "198.51.100.1, 203.0.113.7") == ["203.0.113.7"]


def test_weaker_hashes_are_upgraded_at_the_next_login(app, auth, affiliate):
    """A hash made with weaker argon2 parameters is replaced by one with the configured cost on login."""
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("correct horse battery")
    with app.app_context():
        db.session.get(User, affiliate.id).password_hash = weak
        db.session.commit()
    assert auth.login().status_code == 302
    with app.app_context():
        upgraded = db.session.get(User, affiliate.id).password_hash
    assert upgraded != weak and f"m={app.config['ARGON2_MEMORY_KIB']}" in upgraded


def test_login_starts_a_new_session(client, auth, affiliate):
    """Nothing of the anonymous session survives the login: a CSRF token from before it no longer works."""
    before = csrf_token(client.get("/auth/login").get_data(as_text=True))
    assert auth.login().status_code == 302
    response = client.post("/auth/profile", data={"csrf_token": before, "name": "Alex", "language": ""})
    assert response.status_code == 400


def test_remember_cookie_flags(client, auth, affiliate):
    """The remember cookie is HttpOnly, SameSite=Lax and lives 14 days (not Flask-Login's 365)."""
    auth.login(remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires is not None
    from datetime import UTC, datetime, timedelta

    assert cookie.expires - datetime.now(UTC) <= timedelta(days=14, minutes=1)


def test_logins_failures_and_denials_are_logged_with_user_ip_and_utc_time(app, client, auth, affiliate, caplog):
    """One JSON line each for a failed login, a login and an access denial: user, IP, UTC time; no password."""
    with caplog.at_level(logging.INFO, logger="coaching.events"):
        auth.login(password="wrong password here")
        auth.login()
        client.get("/manage/")
    events = {}
    for record in caplog.records:
        if record.name == "coaching.events":
            event = json.loads(record.getMessage())
            events[event["event"]] = event
    assert {"login_failed", "login", "access_denied"} <= set(events)
    for name in ("login", "access_denied"):
        assert events[name]["user_id"] == affiliate.id and events[name]["ip"] == "127.0.0.1"
        assert events[name]["time"].endswith("+00:00")
    assert events["access_denied"]["path"] == "/manage/"
    assert "wrong password" not in caplog.text and "correct horse" not in caplog.text


class _Scripts(HTMLParser):
    """Counts what would run in a page: script elements without src, event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {k for k, _v in attrs}
        if (tag == "script" and "src" not in names) or any(n.startswith("on") for n in names):
            self.found.append(f"<{tag} {sorted(names)}>")


def test_names_are_escaped_on_every_page_that_shows_them(app, client, auth, make_user, manager_client):
    """A name made of markup shows as text on the dashboard, the profile, the manager's lists and detail page,
    the progress matrix and the public verification page."""
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    user = make_user(email="markup@example.com", name=hostile)
    assert Auth(client).login("markup@example.com").status_code == 302
    finish_demo_course(client)
    cert = certificate_id(client)
    pages = [(client, "/dashboard"), (client, "/auth/profile"), (manager_client, "/manage/affiliates"),
             (manager_client, f"/manage/affiliates/{user.id}"), (manager_client, "/manage/courses/demo"),
             (app.test_client(), f"/verify/{cert}")]
    for who, path in pages:
        html = who.get(path).get_data(as_text=True)
        parser = _Scripts()
        parser.feed(html)
        assert parser.found == [], (path, parser.found)
        assert "&lt;script&gt;" in html, path


def test_insert_ignore_says_whether_it_inserted(app):
    """insert_ignore answers True for a new row and False for a conflict, on SQLite and PostgreSQL alike (on
    PostgreSQL the rowcount of an insert into a table with an autoincrement key is -1: it must not be used)."""
    from coaching.services.db import insert_ignore

    with app.app_context():
        answers = [insert_ignore(User, {"email": "once@example.com", "name": "Once", "role": "affiliate",
                                        "active": True}, conflict=["email"]) for _ in range(2)]
        db.session.commit()
        assert answers == [True, False]
        assert len(db.session.scalars(select(User).where(User.email == "once@example.com")).all()) == 1
