"""Shared fixtures: a per-test app on its own database, a client that carries CSRF tokens, user factories."""
from __future__ import annotations

import importlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from coaching import create_app
from coaching.extensions import db
from coaching.i18n import compile_catalogs
from config import TestConfig

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_CONTENT = FIXTURES / "content"
REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the translation catalogs (.mo files are build output) so a bare `pytest` sees German."""
    compile_catalogs()


def backend() -> str:
    """Which database the suite runs on: sqlite (default) or postgresql (COACHING_TEST_BACKEND)."""
    return os.environ.get("COACHING_TEST_BACKEND", "sqlite")


def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file per test, or the PostgreSQL test database."""
    if backend() == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.fail("COACHING_TEST_BACKEND=postgresql needs TEST_DATABASE_URL")
        return url
    return f"sqlite:///{tmp_path / 'test.db'}"


def skip_or_fail(reason: str) -> None:
    """Outside CI a missing tool skips loudly; in CI it fails (CI must never skip these tests)."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(f"SKIPPED (tool missing): {reason}")


@pytest.fixture
def redis_url() -> str:
    """TEST_REDIS_URL of a reachable Redis (CI starts one); skipped loudly elsewhere when missing."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        skip_or_fail("TEST_REDIS_URL is not set (no Redis server)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        skip_or_fail(f"Redis at {url} does not answer: {error}")
    return url


def require_module(name: str) -> Any:
    """Import a test tool: missing outside CI skips the module loudly (pytest.importorskip); in CI it fails."""
    if IN_CI:
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"SKIPPED (tool missing): {name} is not installed (make test installs it)")


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One RSA key for the whole session (key generation is slow); tests copy it."""
    from coaching.credentials.signing import init_key_file

    path = tmp_path_factory.mktemp("keys") / "signing-keys.json"
    init_key_file(path)
    return path


def make_config(tmp_path: Path, signing_key_file: Path, **overrides: Any) -> type:
    """A TestConfig subclass pointing at this test's database, content and keys."""
    key_copy = tmp_path / "signing-keys.json"
    if not key_copy.exists():
        shutil.copy(signing_key_file, key_copy)
        key_copy.chmod(0o600)
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "CONTENT_DIR": str(overrides.pop("CONTENT_DIR", DEMO_CONTENT)),
        "PAGES_DIR": str(REPO / "content" / "pages"),
        "SIGNING_KEY_FILE": str(key_copy),
        **overrides,
    }
    return type("PerTestConfig", (TestConfig,), settings)


def reset_database() -> None:
    """Drop and recreate every table (tests use the models; migrations are tested on their own)."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()


@pytest.fixture
def app_factory(tmp_path: Path, signing_key_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Build apps with extra settings; each gets a clean database."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    made = []

    def factory(**overrides: Any) -> Any:
        app = create_app(make_config(tmp_path, signing_key_file, **overrides))
        with app.app_context():
            if not made:
                reset_database()
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory: Any) -> Any:
    """The application with the demo content and a clean database."""
    return app_factory()


@pytest.fixture
def client(app: Any) -> Any:
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    """A CLI runner."""
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1) or match.group(2)


class Auth:
    """Signs in and out through the real forms, CSRF token included."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def token(self, path: str = "/auth/login") -> str:
        """Fetch a page and return its CSRF token."""
        return csrf_token(self.client.get(path).get_data(as_text=True))

    def post(self, path: str, data: dict[str, Any], *, token_from: str | None = None, **kwargs: Any) -> Any:
        """POST a form with the CSRF token of the page it lives on."""
        payload = {"csrf_token": self.token(token_from or path), **data}
        return self.client.post(path, data=payload, **kwargs)

    def login(self, email: str = "aff@example.com", password: str = "correct horse battery", **extra: Any) -> Any:
        """Sign in through the login form."""
        return self.post("/auth/login", {"email": email, "password": password, **extra})

    def register(self, name: str = "Ada Affiliate", email: str = "new@example.com",
                 password: str = "a long enough passphrase") -> Any:
        """Register through the form (an open registration answers with "check your inbox")."""
        return self.post("/auth/register", {"name": name, "email": email, "password": password})

    def confirm(self, email: str = "new@example.com", password: str = "a long enough passphrase") -> Any:
        """Open the confirmation link mailed to `email` and activate the account with its password."""
        from tests.mailbox import last_mail, link_in

        path = link_in(last_mail(self.client.application, to=email.strip().lower()), "/auth/confirm/")
        return self.post(path, {"password": password})

    def register_and_confirm(self, name: str = "Ada Affiliate", email: str = "new@example.com",
                             password: str = "a long enough passphrase") -> Any:
        """Register, then confirm through the mailed link: the new account is signed in."""
        response = self.register(name, email, password)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return self.confirm(email, password)

    def logout(self) -> Any:
        """Sign out (POST with CSRF)."""
        return self.post("/auth/logout", {}, token_from="/dashboard")


@pytest.fixture
def auth(client: Any) -> Auth:
    """Auth helper bound to the test client."""
    return Auth(client)


@pytest.fixture
def make_user(app: Any) -> Any:
    """Create users directly through the accounts service."""
    from coaching.services.accounts import create_user

    def factory(email: str = "aff@example.com", name: str = "Alex Affiliate", password: str = "correct horse battery",
                role: str = "affiliate", **fields: Any) -> Any:
        with app.app_context():
            user = create_user(email=email, name=name, password=password, role=role)
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture
def affiliate(make_user: Any) -> Any:
    """A signed-up affiliate."""
    return make_user()


@pytest.fixture
def manager(make_user: Any) -> Any:
    """A manager account."""
    return make_user(email="boss@example.com", name="Maria Manager", role="manager")


@pytest.fixture
def logged_in(auth: Auth, affiliate: Any) -> Any:
    """The test client signed in as the affiliate."""
    response = auth.login()
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return affiliate


@pytest.fixture
def manager_client(app: Any, manager: Any) -> Any:
    """A second client signed in as a manager."""
    client = app.test_client()
    assert Auth(client).login("boss@example.com").status_code == 302
    return client
