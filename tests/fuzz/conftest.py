"""The fuzz world: one app per module (its own SQLite file, or the PostgreSQL test database), seeded people,
signed-in clients for anonymous, affiliate and manager, and a sender that counts requests, records 5xx and
checks that a refused request left every table as it was."""
from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

import pytest

from tests.conftest import DEMO_CONTENT, FIXTURES, Auth, csrf_token, database_url, make_config, reset_database
from tests.dbwatch import fingerprint, refused_parameters
from tests.mailbox import last_mail, link_in

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"
ROLES = ("anonymous", "affiliate", "manager")
COACHING_CONTENT = FIXTURES / "coaching"
# A course the manager's editor may change, rename and delete lessons of (the others stay as the tests know them).
SCRATCH_LESSONS = {"01-draft-page.md": "Draft page", "02-move-me.md": "Move me", "03-remove-me.md": "Remove me"}


# --- forms on the pages ---------------------------------------------------------------------------------------

@dataclass
class FoundForm:
    """A form as a page shows it: method, action and its fields with the values they carry."""

    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    page: str = ""
    check_url: str = ""  # a form whose script posts its fields to a second address (the editor's live check)

    def names(self) -> list[str]:
        """Field names, each once, in page order."""
        return list(dict.fromkeys(name for name, _value in self.fields))


class FormParser(HTMLParser):
    """Collects every form with its inputs, selects (selected or first option), text areas and buttons."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = FoundForm(a.get("method", "get").lower(), a.get("action") or self.page, page=self.page,
                                   check_url=a.get("data-check-url", ""))
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a or kind == "checkbox":  # tick every box: confirmations are what we want to pass
                    self._form.fields.append((name, a.get("value", "y")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._form.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.fields.append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._form is not None and self._select is not None:
            self._form.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            name, value = self._form.fields[-1]
            self._form.fields[-1] = (name, value + data)


def forms_on(html: str, page: str) -> list[FoundForm]:
    """The forms of a page; actions made absolute paths."""
    parser = FormParser(page)
    parser.feed(html)
    forms = parser.forms + [FoundForm(form.method, form.check_url, list(form.fields), page=page)
                            for form in parser.forms if form.check_url]
    for form in forms:
        form.action = urlsplit(form.action).path or page.split("?")[0]
    return forms


# --- the world ------------------------------------------------------------------------------------------------

@dataclass
class Failure:
    """One request that broke a rule."""

    what: str
    method: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.what}: {self.method} {self.path[:160]} ({self.detail[:300]})"


class FuzzWorld:
    """The app, its seeded data and signed-in clients; `send` is the one way a fuzz request goes out."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.refused = 0
        self.failures: list[Failure] = []
        self.statuses: dict[int, int] = {}
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.clients: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.seed: dict[str, Any] = {}
        self._baseline: dict[str, Any] | None = None

    # -- people and data -------------------------------------------------------------------------------------
    def create_person(self, role: str = "affiliate", *, finished: bool = False, prefix: str = "fuzz") -> dict[str, Any]:
        """An account (optionally with the demo course done: attempts and a certificate); ids."""
        from coaching.extensions import db
        from coaching.models import User
        from coaching.services import catalog, progress, quizzes
        from coaching.services.accounts import create_user
        from coaching.services.certificates import current_certificate

        email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
        with self.app.app_context():
            user = create_user(email=email, name=f"{prefix.title()} Person", password=PASSWORD, role=role)
            db.session.commit()
            made: dict[str, Any] = {"id": user.id, "email": email}
            if finished:
                user = db.session.get(User, user.id)
                course = catalog.catalog().course("demo")
                welcome, headlines = course.lesson("welcome"), course.lesson("headlines")
                progress.mark_complete(user, course, welcome, welcome.texts["en"].content_hash, "en")
                text = headlines.texts["en"]
                right = {q.id: ([q.accepted[0]] if q.kind == "text" else [o.id for o in q.options if o.correct])
                         for q in text.quiz.questions}
                attempt, _ = quizzes.submit_quiz(user, course, headlines, text, right, uuid.uuid4().hex, "en")
                db.session.commit()
                made.update(attempt=attempt.id, certificate=current_certificate(user.id, "demo").id)
        self._baseline = None
        return made

    def seed_work(self) -> None:
        """Assignment work: the affiliate's approved (so the dashboard offers the consent form), the target's
        waiting (so a manager has a review form)."""
        from coaching.extensions import db
        from coaching.models import User
        from coaching.services import catalog, coaching

        with self.app.app_context():
            course = catalog.catalog().course("pitch")
            lesson = course.lesson("headline")
            text = lesson.texts["en"]
            manager = db.session.get(User, self.seed["manager"]["id"])
            for who in ("affiliate", "target"):
                user = db.session.get(User, self.seed[who]["id"])
                coaching.submit(user, course, lesson, text, answer="Sleep dry: the Trail 2 sets up in 3 minutes. Ad",
                                link=None, consent=False, language="en")
                db.session.commit()
            submission = coaching.submission_of(self.seed["affiliate"]["id"], "pitch", "headline")
            version = coaching.version_of(submission, submission.versions_count)
            coaching.review(manager, submission, version_number=version.number, decision="approve",
                            marks={c["id"]: {"met": True, "comment": ""} for c in version.criteria},
                            overall_comment="Clear and honest.", cat=catalog.catalog())
            db.session.commit()
            self.seed["waiting_submission"] = coaching.submission_of(self.seed["target"]["id"], "pitch", "headline").id
            self.seed["approved_submission"] = submission.id
        self._baseline = None

    def seed_revisions(self) -> None:
        """Two saves of the scratch lesson in the browser editor, so its history offers a restore form."""
        for number in (1, 2):
            html = self.page("manager", "/manage/content/scratch/draft-page/edit")
            form = next(f for f in forms_on(html, "/") if f.action.endswith("/draft-page/edit"))
            fields = [(name, value + f"\nSaved once more ({number}).\n" if name == "text" else value)
                      for name, value in form.fields]
            fields = [(name, "publish" if name == "action" else value) for name, value in fields]
            status = self.post_form("manager", form.action, [(n, encode(v)) for n, v in fields], label="seed save")
            assert status == 303, f"the editor did not save the scratch lesson: {status}"

    def seed_world(self) -> None:
        """The people and links every pass needs."""
        from coaching.extensions import db
        from coaching.services import accounts

        self.seed["affiliate"] = self.create_person(finished=True, prefix="affiliate")
        self.seed["manager"] = self.create_person("manager", prefix="manager")
        self.seed["other_manager"] = self.create_person("manager", prefix="boss")  # never the last manager
        self.seed["target"] = self.create_person(finished=True, prefix="target")
        self.seed["inactive"] = self.create_person(prefix="inactive")
        self.seed_work()
        with self.app.app_context():
            invite, _token = accounts.create_invite(created_by=None, email="invited@example.com")
            accounts.find_user(self.seed["inactive"]["id"]).active = False
            user = accounts.find_user(self.seed["affiliate"]["id"])
            reset = accounts.create_password_reset(user)
            db.session.commit()
            self.seed["invite"], self.seed["reset_token"] = invite.id, reset
        anonymous = self.app.test_client()
        Auth(anonymous).register(name="Pending Person", email="pending@example.com", password=PASSWORD)
        self.seed["confirm_token"] = link_in(last_mail(self.app, to="pending@example.com"), "/auth/confirm/").rsplit(
            "/", 1)[1]
        self.clients["anonymous"] = anonymous
        for role in ("affiliate", "manager"):
            self.clients[role] = self.app.test_client()
            self.sign_in(role)
        for role in ROLES:
            self.refresh_token(role)
        self.seed_revisions()

    def sign_in(self, role: str) -> None:
        """(Re-)sign a role's client in."""
        response = Auth(self.clients[role]).login(self.seed[role]["email"], PASSWORD)
        self.requests += 2  # the login page for its token, and the form
        self._baseline = None
        assert response.status_code == 302, f"{role} cannot sign in: {response.status_code}"
        self.refresh_token(role)

    def refresh_token(self, role: str) -> None:
        """The CSRF token of a role's session (one token serves every form of the session)."""
        page = "/auth/profile" if role != "anonymous" else "/auth/login"
        self.requests += 1
        self.tokens[role] = csrf_token(self.clients[role].get(page).get_data(as_text=True))

    def signed_in_as(self, role: str) -> bool:
        """Whether a client's session still holds the role's sign-in (read from the cookie, no request)."""
        cookie = self.clients[role].get_cookie("coaching_session")
        if cookie is None:
            return False
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        try:
            session = serializer.loads(cookie.value)
        except Exception:  # an unreadable cookie means: not signed in
            return False
        return "_user_id" in session

    def restore(self, role: str) -> None:
        """After an accepted request: the anonymous client signed out again, the others signed in again."""
        signed = self.signed_in_as(role)
        if role == "anonymous" and signed:
            self.clients[role] = self.app.test_client()
            self.refresh_token(role)
        elif role != "anonymous" and not signed:
            self.sign_in(role)

    # -- sending ---------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The database's fingerprint (cached until something may have changed it)."""
        if self._baseline is None:
            self._baseline = fingerprint(self.app)
        return self._baseline

    def send(self, role: str, method: str, path: str, *, query: str = "", body: bytes | None = None,
             content_type: str = "application/x-www-form-urlencoded", label: str = "",
             environ: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> int:
        """Send one request as a role; record a 5xx (or an exception), and for a refused request (4xx) a database
        that changed. Returns the status (599 for an exception)."""
        client = self.clients[role]
        before = self.state()
        overrides = dict(environ or {})
        if query:
            overrides["QUERY_STRING"] = query
        self.requests += 1
        try:
            response = client.open(path, method=method, data=body, content_type=content_type if body is not None
                                   else None, environ_overrides=overrides, headers=headers or {})
            response.get_data()  # run streamed bodies (a CSV export) to their end
            response.close()
            status = response.status_code
        except Exception as error:  # any exception is a finding
            status = 599
            self.failures.append(Failure("exception", method, path + ("?" + query if query else ""),
                                         f"{label}: {type(error).__name__}: {error}"))
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 500 <= status < 599:
            self.failures.append(Failure(f"HTTP {status}", method, path + ("?" + query if query else ""), label))
        self._baseline = None
        if 400 <= status < 500:
            self.refused += 1
            after = self.state()
            if after != before:
                self.failures.append(Failure("database changed by a refused request", method, path, label))
        if status < 400 or status == 599:
            self.restore(role)
        return status

    def page(self, role: str, path: str) -> str:
        """GET a page as a role (counted; it may write, e.g. reading a lesson): its HTML."""
        self.requests += 1
        self._baseline = None
        response = self.clients[role].get(path)
        assert response.status_code == 200, f"{role} {path}: {response.status_code}"
        return response.get_data(as_text=True)

    def post_form(self, role: str, action: str, fields: list[tuple[str, str]], *, label: str = "") -> int:
        """POST a urlencoded form; values are already percent-encoded."""
        body = "&".join(f"{name}={value}" for name, value in fields).encode("ascii")
        return self.send(role, "POST", action, body=body, label=label)

    def summary(self) -> str:
        """Requests, refusals, statuses and time, for the report."""
        seconds = time.perf_counter() - self.started
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        phases = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())
        return (f"{self.requests} requests in {seconds:.1f} s ({phases}); {self.refused} refused (4xx); "
                f"statuses {statuses}")


def encode(value: str) -> str:
    """A plain default value percent-encoded for a form body."""
    return quote_plus(value)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[FuzzWorld]:
    """One app for the whole fuzz module (rate limits off so every request reaches its view), seeded."""
    from coaching import create_app
    from coaching.extensions import db

    root = tmp_path_factory.mktemp("fuzz")
    content = root / "content"  # the demo course and a course with assignments
    shutil.copytree(DEMO_CONTENT, content)  # holds the demo course folder
    shutil.copytree(COACHING_CONTENT / "pitch", content / "pitch")
    write_scratch_course(content / "scratch")
    config = make_config(root, signing_key_file, CONTENT_DIR=content, RATELIMIT_ENABLED=False,
                         SQLALCHEMY_DATABASE_URI=database_url(root))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACHING_INSTANCE", str(root / "instance"))
        app = create_app(config)
    with app.app_context():
        reset_database()
    fuzz = FuzzWorld(app)
    events = logging.getLogger("coaching.events")
    level = events.level
    events.setLevel(logging.WARNING)  # thousands of event lines would cost more time than the requests
    with refused_parameters(app) as seen:
        fuzz.seed_world()
        fuzz.seen_parameters = seen  # type: ignore[attr-defined]
        yield fuzz
    events.setLevel(level)
    report = Path(os.environ.get("COACHING_FUZZ_REPORT", root / "fuzz-report.txt"))
    report.write_text(fuzz.summary() + "\n")
    print(f"\nfuzz: {fuzz.summary()}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def write_scratch_course(folder: Path) -> None:
    """The scratch course: three reading lessons for the editor's save, rename and delete forms."""
    folder.mkdir()
    (folder / "course.md").write_text("---\ntitle: Scratch course\nsummary: Lessons the fuzz run may change.\n"
                                      "order: 9\nlanguage: en\n---\nA course for the editor's forms.\n")
    for name, title in SCRATCH_LESSONS.items():
        (folder / name).write_text(f"---\ntitle: {title}\nsummary: A page to change.\nminutes: 2\n---\n"
                                   f"## {title}\n\nA short page the editor may change.\n")


def plain(text: str) -> str:
    """Strip tags for readable failure messages."""
    return re.sub(r"<[^>]+>", " ", text)
