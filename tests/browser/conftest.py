"""Browser tests: one live server per session (own database, content, key, CSRF and rate limits on),
Debian's Chromium (Playwright never downloads a browser), axe-core checks and screenshots."""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import DEMO_CONTENT, REPO, make_config, skip_or_fail

CHROMIUM = Path(os.environ.get("COACHING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class LiveServer:
    """The running app: its base URL, the Flask app (for database checks) and seeding helpers."""

    url: str
    app: Any
    root: Path

    def create_user(self, name: str = "Alex Affiliate", role: str = "affiliate", email: str | None = None,
                    language: str | None = None) -> dict[str, Any]:
        """Create an account directly through the accounts service; returns id, email, name, password."""
        from coaching.extensions import db
        from coaching.services.accounts import create_user

        email = email or f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        with self.app.app_context():
            user = create_user(email=email, name=name, password=PASSWORD, role=role, language=language)
            db.session.commit()
            return {"id": user.id, "email": email, "name": name, "password": PASSWORD}

    def mail_link(self, email: str, prefix: str) -> str:
        """The path of the link starting with `prefix` in the newest mail to `email` (read from the outbox)."""
        from tests.mailbox import last_mail, link_in

        return link_in(last_mail(self.app, to=email.lower()), prefix)

    def pending_registration(self, email: str, name: str = "Petra Pending") -> str:
        """Register an address through the service (as the form would); the confirmation token mailed to it."""
        from coaching.extensions import db
        from coaching.services import signup

        with self.app.app_context():
            signup.register(email=email, name=name, password=PASSWORD, language=None, invite=None)
            db.session.commit()
        return self.mail_link(email, "/auth/confirm/").rsplit("/", 1)[1]

    def complete_demo(self, user_id: int, *, fail_first: bool = True) -> dict[str, Any]:
        """Complete the demo course through the services (a failed and a passed attempt); ids of what was made."""
        from coaching.extensions import db
        from coaching.models import User
        from coaching.services import catalog, progress, quizzes
        from coaching.services.certificates import current_certificate

        with self.app.app_context():
            user = db.session.get(User, user_id)
            course = catalog.catalog().course("demo")
            welcome, headlines = course.lesson("welcome"), course.lesson("headlines")
            progress.mark_complete(user, course, welcome, welcome.texts["en"].content_hash, "en")
            text = headlines.texts["en"]
            attempts = []
            if fail_first:
                attempt, _ = quizzes.submit_quiz(user, course, headlines, text, wrong_answers(text.quiz),
                                                  uuid.uuid4().hex, "en")
                attempts.append(attempt.id)
            attempt, _ = quizzes.submit_quiz(user, course, headlines, text, right_answers(text.quiz), uuid.uuid4().hex,
                                              "en")
            attempts.append(attempt.id)
            db.session.commit()
            return {"attempts": attempts, "certificate": current_certificate(user_id, "demo").id}

    def attempts(self, email: str, lesson: str = "headlines") -> int:
        """How many quiz attempts the account has stored for a demo lesson."""
        from sqlalchemy import func, select

        from coaching.extensions import db
        from coaching.models import QuizAttempt, User

        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
            return db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
                QuizAttempt.user_id == user_id, QuizAttempt.lesson_slug == lesson)) or 0


def right_answers(quiz: Any) -> dict[str, list[str]]:
    """The correct answers to a quiz, in the service's format."""
    return {q.id: ([q.accepted[0]] if q.kind == "text" else [o.id for o in q.options if o.correct])
            for q in quiz.questions}


def wrong_answers(quiz: Any) -> dict[str, list[str]]:
    """Wrong answers to every question of a quiz."""
    return {q.id: (["no idea"] if q.kind == "text" else [next(o.id for o in q.options if not o.correct)])
            for q in quiz.questions}


def _pages_dir(root: Path) -> Path:
    """The operator's privacy/imprint pages, or small stand-ins while content/pages/ does not exist."""
    real = REPO / "content" / "pages"
    if (real / "privacy.md").is_file():
        return real
    folder = root / "pages"
    folder.mkdir()
    (folder / "privacy.md").write_text("# Privacy notice\n\nWe store your name, email and progress.\n")
    (folder / "imprint.md").write_text("# Imprint\n\nAffiliate Academy, Example Street 1, Berlin.\n")
    return folder


@contextlib.contextmanager
def serve(root: Path, signing_key_file: Path, content_source: Path = DEMO_CONTENT,
          **settings: Any) -> Iterator[LiveServer]:
    """The app served by a threaded werkzeug server on a free 127.0.0.1 port, on its own SQLite database and its
    own copy of the content (the demo course unless `content_source` names another folder), all in `root`."""
    from coaching import create_app
    from coaching.extensions import db

    content = root / "content"
    shutil.copytree(content_source, content)
    config = make_config(root, signing_key_file, SQLALCHEMY_DATABASE_URI=f"sqlite:///{root / 'browser.db'}",
                         CONTENT_DIR=content, PAGES_DIR=str(_pages_dir(root)), RATELIMIT_ENABLED=True,
                         RATELIMIT_STORAGE_URI="memory://", WTF_CSRF_ENABLED=True, TESTING=False, **settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACHING_INSTANCE", str(root / "instance"))
        app = create_app(config)
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=app, root=root)
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[LiveServer]:
    """The app for the browser tests (one per session)."""
    with serve(tmp_path_factory.mktemp("live"), signing_key_file) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright's base URL: relative page.goto() paths go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's Chromium, headless; never a downloaded browser. Missing: skip locally, fail in CI."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found (apt-get install -y chromium)")
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Desktop viewport and English by default (tests override locale and viewport as needed)."""
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-US"}


@pytest.fixture
def shots_dir(pytestconfig: pytest.Config) -> Path:
    """test-results/screenshots/ (under pytest-playwright's --output folder, which every pytest run empties)."""
    path = Path(pytestconfig.getoption("--output")).absolute() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On a failed browser test, screenshot every open page into test-results/failures/."""
    outcome = yield
    report = outcome.get_result()
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or browser is None:
        return
    folder = Path(item.config.getoption("--output")).absolute() / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid.split("::", 1)[-1])[:120]
    for c, context in enumerate(browser.contexts):
        for p, open_page in enumerate(context.pages):
            try:
                open_page.screenshot(path=str(folder / f"{name}-{c}-{p}.png"), full_page=True)
            except Exception as error:  # a crashed page must not hide the real failure
                report.sections.append(("screenshot", f"could not screenshot: {error}"))


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait for the dashboard."""
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard")


def no_horizontal_scroll(page: Any) -> tuple[int, int]:
    """The document's scroll width and client width (equal when nothing sticks out sideways)."""
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the current page."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = page.evaluate("options => axe.run(document, options).then(r => r.violations)", options)
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


@functools.cache
def _axe_script() -> str:
    """axe.min.js as vendored by axe-playwright-python (no network)."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable summary of axe violations for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


# name, path (formatted with the `seeded` values), who visits it (None: anonymous)
MAIN_PAGES = [
    ("catalog", "/", None),
    ("course", "/courses/demo", "affiliate"),
    ("lesson", "/courses/demo/welcome", "affiliate"),
    ("quiz", "/courses/demo/headlines", "affiliate"),
    ("result", "/courses/demo/headlines/attempts/{failed_attempt}", "affiliate"),
    ("dashboard", "/dashboard", "affiliate"),
    ("profile", "/auth/profile", "affiliate"),
    ("login", "/auth/login", None),
    ("register", "/auth/register", None),
    ("check-mail", "/auth/register/check-mail", None),
    ("confirm", "/auth/confirm/{confirm_token}", None),
    ("forgot", "/auth/forgot", None),
    ("verify", "/verify/{certificate}", None),
    ("verify-lookup", "/verify", None),
    ("search", "/search?q=headline", None),
    ("not-found", "/no-such-page", None),
    ("privacy", "/privacy", None),
    ("imprint", "/imprint", None),
    ("manage-overview", "/manage/", "manager"),
    ("manage-progress", "/manage/courses/demo", "manager"),
    ("manage-affiliate", "/manage/affiliates/{affiliate_id}", "manager"),
    ("manage-questions", "/manage/courses/demo/headlines/questions", "manager"),
    ("manage-affiliates", "/manage/affiliates", "manager"),
    ("manage-content", "/manage/content", "manager"),
    ("manage-invites", "/manage/invites", "manager"),
    ("manage-audit", "/manage/audit", "manager"),
]


@pytest.fixture(scope="session")
def seeded(live_server: LiveServer, browser: Any, browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """An affiliate who finished the demo course (after one failed attempt) and a manager, both signed in once."""
    affiliate = live_server.create_user(name="Sam Seeded")
    made = live_server.complete_demo(affiliate["id"])
    manager = live_server.create_user(name="Maria Manager", role="manager")
    states = {}
    for role, user in (("affiliate", affiliate), ("manager", manager)):
        context = browser.new_context(**browser_context_args)
        sign_in(context.new_page(), user["email"])
        states[role] = context.storage_state()
        context.close()
    return {"affiliate": affiliate, "manager": manager, "states": states, "affiliate_id": affiliate["id"],
            "failed_attempt": made["attempts"][0], "certificate": made["certificate"],
            "confirm_token": live_server.pending_registration(f"pending-{uuid.uuid4().hex[:8]}@example.com")}


@pytest.fixture(scope="session")
def visitors(browser: Any, browser_context_args: dict[str, Any], seeded: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One reusable page per visitor (anonymous, affiliate, manager), so page checks skip context start-up."""
    pages: dict[Any, Any] = {}
    for who in (None, "affiliate", "manager"):
        state = seeded["states"][who] if who else None
        pages[who] = browser.new_context(**browser_context_args, storage_state=state).new_page()
    yield pages
    for page in pages.values():
        page.context.close()


@pytest.fixture
def open_as(visitors: dict[str, Any], seeded: dict[str, Any]) -> Any:
    """Open a main page as its visitor at a viewport: open_as(who, path, viewport) -> (page, response)."""

    def opener(who: str | None, path: str, viewport: dict[str, int] = DESKTOP) -> tuple[Any, Any]:
        page = visitors[who]
        page.emulate_media(color_scheme="light")
        page.set_viewport_size(viewport)
        return page, page.goto(path.format(**seeded))

    return opener


CONTRAST_JS = """selector => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => (v /= 255) <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [.2126, .7152, .0722][i], 0);
  const background = e => {
    for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c[3] !== 0 && c.length) return c; }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].filter(e => e.getClientRects().length && e.innerText.trim())
    .map(e => { const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
                return [e.innerText.trim(), (Math.max(a, b) + .05) / (Math.min(a, b) + .05)]; })
    .filter(([, ratio]) => ratio < 4.5);
}"""


def low_contrast(page: Any, selector: str) -> list[Any]:
    """Visible elements matching selector whose text/background contrast is below 4.5:1 (axe skips 1:1)."""
    return page.evaluate(CONTRAST_JS, selector)
