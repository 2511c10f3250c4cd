"""Security baseline: headers, CSRF, cookies, sizes, hosts, error pages, production config, route audit."""
from __future__ import annotations

import logging

import pytest

from coaching import create_app
from coaching.extensions import db
from config import ConfigError, TestConfig
from tests.conftest import Auth, make_config


def test_security_headers_on_every_response(client):
    """CSP without inline script, nosniff, referrer policy and frame-ancestors on pages and errors."""
    for path in ("/", "/auth/login", "/no-such-page", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert part in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]


def test_no_inline_script_in_pages(client, logged_in):
    """Templates carry no inline script (the CSP would block it anyway)."""
    from html.parser import HTMLParser

    class ScriptFinder(HTMLParser):
        inline = 0

        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if tag == "script" and "src" not in attributes:
                self.inline += 1
            if any(name.startswith("on") for name in attributes) or "style" in attributes:
                self.inline += 1

    for path in ("/", "/dashboard", "/courses/demo", "/courses/demo/headlines", "/auth/profile"):
        finder = ScriptFinder()
        finder.feed(client.get(path).get_data(as_text=True))
        assert finder.inline == 0, path


def test_signed_in_pages_are_not_cached(client, logged_in):
    """Cache-Control: no-store on signed-in pages."""
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, auth, affiliate):
    """The session cookie is HttpOnly and SameSite=Lax."""
    auth.login()
    cookie = client.get_cookie("coaching_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_secure_and_hsts(tmp_path, signing_key_file, monkeypatch):
    """In production the cookies are Secure and HSTS is sent."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    config = make_config(tmp_path, signing_key_file, PRODUCTION=True, SESSION_COOKIE_SECURE=True,
                         REMEMBER_COOKIE_SECURE=True, TRUSTED_HOSTS=["localhost"], SITE_URL="https://localhost",
                         MAIL_BACKEND="log")
    app = create_app(config)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
        assert "Strict-Transport-Security" in app.test_client().get("/healthz").headers
    finally:
        with app.app_context():
            db.engine.dispose()  # close pooled connections now, not whenever the garbage collector runs


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    """COACHING_ENV=production without SECRET_KEY does not start."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    config = type("Prod", (TestConfig,), {"PRODUCTION": True, "SECRET_KEY": None,
                                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)


def test_development_secret_key_generated_once(tmp_path, monkeypatch, signing_key_file):
    """Without SECRET_KEY in development a key is generated once and kept in instance/."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    config = make_config(tmp_path, signing_key_file, SECRET_KEY=None)
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert oct((tmp_path / "instance" / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_untrusted_host_rejected_in_production(app_factory):
    """An unknown Host header is rejected when TRUSTED_HOSTS is set; /healthz answers a load balancer's any Host."""
    app = app_factory(TRUSTED_HOSTS=["academy.example"])
    client = app.test_client()
    for path in ("/", "/auth/login", "/verify", "/healthz/", "/healthzx"):
        assert client.get(path, headers={"Host": "evil.example"}).status_code == 400, path
    assert client.get("/", headers={"Host": "academy.example"}).status_code == 200
    for host in ("academy.example", "10.0.0.5", "10.0.0.5:8000", "localhost", "evil.example"):
        response = client.get("/healthz", headers={"Host": host})
        assert response.status_code == 200 and response.json["status"] == "ok", host


def test_csrf_missing_or_foreign_token_is_400(app, client, auth, affiliate):
    """A POST without a CSRF token, or with another session's token, is a 400 page that says to reload."""
    response = client.post("/auth/login", data={"email": "aff@example.com", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "reload" in response.get_data(as_text=True).lower()
    other = app.test_client()
    foreign = Auth(other).token()
    response = client.post("/auth/login", data={"csrf_token": foreign, "email": "aff@example.com",
                                                "password": "correct horse battery"})
    assert response.status_code == 400


def test_state_changing_routes_refuse_get(client, logged_in):
    """State-changing routes answer GET with 405."""
    for path in ("/auth/logout", "/auth/password", "/courses/demo/welcome/complete", "/courses/demo/headlines/quiz",
                 "/language"):
        assert client.get(path).status_code == 405, path


def test_request_too_large_is_413(client):
    """A body over MAX_CONTENT_LENGTH is refused with 413."""
    response = client.post("/auth/login", data={"email": "a@b.c", "password": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_unknown_url_is_404_page(client):
    """Unknown URLs give the friendly 404 page."""
    response = client.get("/does/not/exist")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_forced_exception_is_generic_500(app, client, caplog):
    """An exception in a view shows a generic 500 page without traceback."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = client.get("/boom-test")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert "Something went wrong" in body


@pytest.mark.parametrize("bad", ["abc", "-1", "99999999999999999999999", "١٢", "１２", "1.0", "%00"])
def test_odd_ids_are_404(client, logged_in, bad):
    """Ids in URLs that are not plain numbers, or do not exist, are 404, never 500."""
    assert client.get(f"/courses/demo/headlines/attempts/{bad}").status_code == 404
    assert client.get(f"/certificates/{bad}.pdf").status_code == 404
    assert client.get(f"/verify/{bad}").status_code == 404


def test_healthz_ok(client):
    """/healthz is 200 with a JSON body naming each dependency when they all answer."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured", "signing_key": "ok",
                             "courses": 1, "mail": {"pending": 0, "oldest_pending_seconds": 0}}


def test_healthz_503_when_database_is_down(tmp_path, signing_key_file, monkeypatch):
    """/healthz is 503 with a JSON body when the database does not answer."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    config = make_config(tmp_path, signing_key_file,
                         SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "error"
    assert response.json["database"] == "unavailable" and response.json["signing_key"] == "ok"


def test_log_lines_cannot_be_forged(app, client, auth, make_user, caplog):
    """A name holding a newline (stored before the input rule, or by a script) cannot start a second log line;
    a newline typed into a form is refused; passwords are never logged."""
    forged = "Eve\nINFO coaching.events {\"event\": \"login\"}"
    make_user(email="eve@example.com", name=forged, password="a good passphrase")
    with caplog.at_level(logging.INFO, logger="coaching.events"):
        assert auth.login(email="eve@example.com", password="a good passphrase").status_code == 302
        refused = auth.post("/auth/profile", {"name": forged, "language": ""}, token_from="/auth/profile")
        assert refused.status_code == 400
        auth.logout()
        assert auth.login(email="eve@example.com", password="wrong password").status_code == 400
    messages = [r.getMessage() for r in caplog.records if r.name == "coaching.events"]
    assert messages and all("\n" not in message for message in messages)
    assert not any("wrong" in message for message in messages)  # passwords never logged


def _declared_access(app, endpoint):
    """The access level a view declares (public, user or manager)."""
    view = app.view_functions[endpoint]
    while view is not None:
        if hasattr(view, "access"):
            return view.access
        view = getattr(view, "__wrapped__", None)
    return None


def _get(client, path):
    """GET and close the response (file responses hold an open file until closed)."""
    response = client.get(path)
    response.close()
    return response


def test_every_route_declares_who_may_use_it(app, client, manager_client, make_user):
    """Walk the URL map: each route is public, signed-in or manager-only, and behaves like it."""
    make_user(email="walker@example.com")
    affiliate_client = app.test_client()
    Auth(affiliate_client).login("walker@example.com")
    samples = {"course_slug": "demo", "lesson_slug": "welcome", "filename": "images/funnel.svg", "attempt_id": "1",
               "name": "AAAA-AAAA-AAAA-AAAA-AAAA.pdf", "token": "x" * 20, "user_id": "1", "course": "demo",
               "lesson": "headlines", "invite_id": "1", "cert_id": "AAAA", "kind": "progress"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        access = _declared_access(app, rule.endpoint)
        assert access in ("public", "user", "manager"), f"{rule.rule} declares no access rule"
        if "GET" not in rule.methods:
            continue
        try:
            path = rule.build({k: samples.get(k, "1") for k in rule.arguments})[1]
        except Exception:
            continue
        anonymous, as_affiliate, as_manager = (_get(c, path) for c in (client, affiliate_client, manager_client))
        if access == "manager":
            assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"], path
            assert as_affiliate.status_code == 403, path
            assert as_manager.status_code < 500, path
        elif access == "user":
            assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"], path
            assert as_affiliate.status_code < 500, path
        else:
            assert anonymous.status_code < 500, path
