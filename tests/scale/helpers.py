"""A real gunicorn for the scale tests, and a tiny cookie-keeping HTTP client that signs in through the forms.

Shared by tests/scale/ and bench/: nothing here imports pytest.
"""
from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[2]
USER_AGENT = "coaching-scale-test/1.0"  # Flask-Login "strong" protection ties the session to the user agent
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- HTML -----------------------------------------------------------------------------------------------------

class _FormParser(HTMLParser):
    """Collects every <input> (name, type, value, id) and the text of every <label for=...>."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "input":
            self.inputs.append(values)
        elif tag == "label" and values.get("for"):
            self._label_for, self._text = values["for"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_for:
            self.labels[self._label_for] = " ".join("".join(self._text).split())
            self._label_for = None

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self._text.append(data)


def parse_inputs(html: str) -> _FormParser:
    """Parse a page's inputs and labels."""
    parser = _FormParser()
    parser.feed(html)
    return parser


def hidden_value(html: str, name: str) -> str:
    """The value of the first input with this name (csrf_token, submission_id, quiz_version)."""
    for field_ in parse_inputs(html).inputs:
        if field_.get("name") == name:
            return field_.get("value", "")
    raise AssertionError(f"no input named {name!r} on the page")


# The demo quiz (tests/fixtures/content/demo/02-headlines.md): label texts of the right answers.
RIGHT = {"Save three hours a week on reporting", "Search ads", "Sponsored newsletter placements"}
RIGHT_TEXT = "click-through rate"


def quiz_answers(html: str, *, correct: bool, wrong_text: str = "no idea") -> list[tuple[str, str]]:
    """Form pairs answering every q-... question of the lesson page, all right or all wrong.

    Vary `wrong_text` to make wrong submissions differ: the same answers sent again right after the latest
    attempt count as a replay of it (the back-button rule in quizzes.submit_quiz).
    """
    page = parse_inputs(html)
    pairs: list[tuple[str, str]] = []
    options: dict[str, list[tuple[str, str]]] = {}
    for field_ in page.inputs:
        name = field_.get("name", "")
        if not name.startswith("q-"):
            continue
        if field_.get("type") == "text":
            pairs.append((name, RIGHT_TEXT if correct else wrong_text))
            continue
        options.setdefault(name, []).append((field_["value"], page.labels.get(field_.get("id", ""), "")))
    for name, choices in options.items():
        right = [value for value, label in choices if label in RIGHT]
        wrong = [value for value, label in choices if label not in RIGHT]
        pairs.extend((name, value) for value in (right if correct else wrong[:1]))
    assert pairs, "no quiz questions (inputs named q-...) on the page"
    return pairs


# --- HTTP -----------------------------------------------------------------------------------------------------

@dataclass
class Response:
    """Status, headers (lower-case names) and body of one response."""

    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        """The redirect target (path only)."""
        location = self.headers.get("location", "")
        return "/" + location.split("/", 3)[3] if location.startswith("http") else location


@dataclass
class Browser:
    """One browser session: keeps its cookies, never follows redirects, one connection per request."""

    base: tuple[str, int]
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: str | None = None) -> Response:
        """Send one request with this session's cookies; remember cookies the server sets."""
        headers = {"User-Agent": USER_AGENT, "Host": "localhost"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(*self.base, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, text)
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        """GET a path."""
        return self.request("GET", path)

    def post(self, path: str, pairs: Iterable[tuple[str, str]]) -> Response:
        """POST form pairs (a list keeps repeated names, as for checkboxes)."""
        return self.request("POST", path, urlencode(list(pairs)))

    def login(self, email: str, password: str = PASSWORD) -> None:
        """Sign in through the real login form, CSRF token included."""
        token = hidden_value(self.get("/auth/login").body, "csrf_token")
        answer = self.post("/auth/login", [("csrf_token", token), ("email", email), ("password", password)])
        assert answer.status == 302, (answer.status, answer.body[:300])
        # One page first: it puts the session's CSRF secret into the cookie, so tabs opened in parallel share it.
        assert self.get("/dashboard").status == 200

    def clone(self) -> Browser:
        """The same session in another 'tab' (a copy of the cookies)."""
        return Browser(self.base, dict(self.cookies))


# --- the server -----------------------------------------------------------------------------------------------

@dataclass
class Server:
    """A gunicorn serving wsgi:app on 127.0.0.1 with its own database, content and keys."""

    root: Path
    database_url: str
    workers: int = 2
    threads: int = 4
    app_module: str = "wsgi:app"
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def base(self) -> tuple[str, int]:
        """Host and port."""
        return ("127.0.0.1", self.port)

    @property
    def log_path(self) -> Path:
        """Where gunicorn's stderr goes."""
        return self.root / "gunicorn.log"

    def env(self) -> dict[str, str]:
        """The environment of the server and of its `flask` commands."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COACHING_", "DATABASE_URL", "REDIS_URL"))}
        env.update({
            "FLASK_APP": "wsgi", "COACHING_ENV": "development", "COACHING_INSTANCE": str(self.root / "instance"),
            "DATABASE_URL": self.database_url, "SECRET_KEY": self.secret_key(),
            "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content"), "SIGNING_KEY_FILE": str(self.root / "keys.json"),
            "SITE_URL": f"http://127.0.0.1:{self.port}", "PYTHONPATH": str(REPO), "RATELIMIT_STORAGE_URI": "memory://",
        })
        env.update(self.extra_env)
        return env

    def secret_key(self) -> str:
        """One random SECRET_KEY per server, shared by all its workers."""
        path = self.root / "secret"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
        return path.read_text()

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run a `flask` command against this server's database; fails loudly."""
        done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=REPO, env=self.env(),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def prepare(self, signing_key: Path | None = None) -> None:
        """Create the schema with `flask db upgrade` and the signing key file (copied: key generation is slow)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        keys = self.root / "keys.json"
        if signing_key is not None:
            shutil.copy(signing_key, keys)
            keys.chmod(0o600)
        else:
            self.flask("credentials", "init-key", "--path", str(keys))
        self.flask("db", "upgrade")

    def start(self) -> None:
        """Start gunicorn and wait until /healthz answers."""
        command = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--threads", str(self.threads),
                   "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "--graceful-timeout", "5", "--max-requests", "0",
                   "--log-level", "warning", "--error-logfile", "-", self.app_module]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=self.env(), stdout=log, stderr=log,
                                            start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Poll /healthz until it answers 200 (gunicorn and every import done)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_text()
            try:
                if Browser(self.base).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not come up:\n{self.log_text()}")

    def stop(self) -> None:
        """Stop gunicorn (TERM, then KILL) - only the process group this object started."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def log_text(self) -> str:
        """Everything gunicorn and the app wrote to stderr."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def server_errors(self) -> list[str]:
        """Log lines that show an unhandled exception, a locked database or a worker timeout.

        The log is JSON lines (coaching.logs.JsonFormatter): errors are the lines at level ERROR or CRITICAL.
        """
        needles = ("Traceback", "database is locked", "Exception on ", "WORKER TIMEOUT", '"level": "ERROR"',
                   '"level": "CRITICAL"')
        return [line for line in self.log_text().splitlines() if any(n in line for n in needles)]


def new_email(prefix: str = "aff") -> str:
    """A unique email address."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def app_for(database_url: str, root: Path) -> Any:
    """An in-process app on the server's database (for seeding users and counting rows)."""
    from coaching import create_app
    from config import TestConfig

    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content"),
                "SIGNING_KEY_FILE": str(root / "keys.json"), "PAGES_DIR": str(REPO / "content" / "pages")}
    return create_app(type("ScaleConfig", (TestConfig,), settings))


def create_users(app: Any, count: int, *, role: str = "affiliate") -> list[dict[str, Any]]:
    """Create accounts through the accounts service; returns id and email of each."""
    from coaching.extensions import db
    from coaching.services.accounts import create_user

    made = []
    with app.app_context():
        for _ in range(count):
            email = new_email(role)
            user = create_user(email=email, name="Scale Tester", password=PASSWORD, role=role)
            db.session.commit()
            made.append({"id": user.id, "email": email})
    return made
