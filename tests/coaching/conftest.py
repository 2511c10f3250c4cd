"""Fixtures of the coaching tests: the assignment course (tests/fixtures/coaching), people, and helpers that
submit and review through the services or through the forms."""
from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import AuditLog, Review, Submission, SubmissionVersion, User
from coaching.services import catalog, coaching
from coaching.services.accounts import create_user
from tests.conftest import FIXTURES, Auth, csrf_token
from tests.mailbox import mails

COACHING_CONTENT = FIXTURES / "coaching"
HEADLINE = "/courses/pitch/headline"
LANDING = "/courses/pitch/landing"
ANSWER = "Sleep dry in any storm: the Trail 2 sets up in 3 minutes.\nAd – Shop now and get it in two days."


@pytest.fixture
def app(app_factory: Any) -> Any:
    """The application with the assignment course and a clean database."""
    return app_factory(CONTENT_DIR=str(COACHING_CONTENT))


class Outbox(list):
    """The mails queued in the outbox table since the last `clear()`, as dicts (to, subject, body, user_id)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        since = app.extensions.get("tests.outbox_since", 0)
        super().__init__({"to": m.to, "subject": m.subject, "body": m.body or "", "user_id": m.user_id}
                         for m in mails(app) if m.id > since)

    def clear(self) -> None:
        """Forget the mails queued so far (later calls see only newer ones)."""
        self.app.extensions["tests.outbox_since"] = max((m.id for m in mails(self.app)), default=0)
        super().clear()


def outbox(app: Any) -> Outbox:
    """Mails queued so far (read from the outbox table; no worker needed)."""
    return Outbox(app)


class Desk:
    """People, submissions and reviews made through the services (each call in its own app context)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def user(self, name: str = "Alex Affiliate", email: str | None = None, role: str = "affiliate",
             **fields: Any) -> int:
        """A person (without a password unless given); returns the id."""
        with self.app.app_context():
            user = create_user(email=email or f"{secrets.token_hex(4)}@example.com", name=name,
                               password=fields.pop("password", None), role=role)
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            return user.id

    def user_id(self, email: str) -> int:
        """A person's id by email."""
        with self.app.app_context():
            return db.session.scalar(select(User.id).where(User.email == email))

    def lesson(self, slug: str = "headline", lang: str = "en") -> tuple[Any, Any, Any]:
        """The course, a lesson and its text in a language."""
        course = catalog.catalog().course("pitch")
        lesson = course.lesson(slug)
        return course, lesson, lesson.text(lang)[0]

    def submit(self, user_id: int, answer: str = ANSWER, *, slug: str = "headline", link: str | None = None,
               consent: bool = False, lang: str = "en") -> int:
        """Submit a version; returns its number."""
        with self.app.app_context():
            course, lesson, text = self.lesson(slug, lang)
            version = coaching.submit(db.session.get(User, user_id), course, lesson, text, answer=answer, link=link,
                                      consent=consent, language=lang)
            db.session.commit()
            return version.number

    def submission_id(self, user_id: int, slug: str = "headline") -> int:
        """The person's submission id for a lesson."""
        with self.app.app_context():
            return coaching.submission_of(user_id, "pitch", slug).id

    def review(self, reviewer_id: int, user_id: int, decision: str = "approve", *, slug: str = "headline",
               met: bool = True, comment: str = "Clear and honest.", version: int | None = None) -> Any:
        """Review the person's waiting version with every criterion met (or not)."""
        with self.app.app_context():
            submission = coaching.submission_of(user_id, "pitch", slug)
            number = version or submission.versions_count
            found = coaching.version_of(submission, number)
            marks = {c["id"]: {"met": met, "comment": ""} for c in found.criteria}
            row = coaching.review(db.session.get(User, reviewer_id), submission, version_number=number,
                                  decision=decision, marks=marks, overall_comment=comment, cat=catalog.catalog())
            db.session.commit()
            return row.id

    def state(self, user_id: int, slug: str = "headline") -> str:
        """The submission's state (draft when there is none)."""
        with self.app.app_context():
            submission = coaching.submission_of(user_id, "pitch", slug)
            return submission.state if submission else "draft"

    def count(self, model: Any, *where: Any) -> int:
        """Rows of a model."""
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def versions(self) -> int:
        """Stored versions."""
        return self.count(SubmissionVersion)

    def reviews(self) -> int:
        """Stored reviews."""
        return self.count(Review)

    def submissions(self) -> int:
        """Stored submissions."""
        return self.count(Submission)

    def audit(self, action: str) -> list[dict]:
        """Details of the audit rows of one action."""
        with self.app.app_context():
            return [e.detail for e in db.session.scalars(select(AuditLog).where(AuditLog.action == action))]


@pytest.fixture
def desk(app: Any) -> Desk:
    """The data helper."""
    return Desk(app)


def form_post(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    """POST a form found on `page` with that page's CSRF token and hidden content hash."""
    html = client.get(page).get_data(as_text=True)
    payload = {"csrf_token": csrf_token(html), **data}
    match = re.search(r'name="content_hash" value="([0-9a-f]+)"', html)
    if match and "content_hash" not in data:
        payload["content_hash"] = match.group(1)
    return client.post(action, data=payload)


def send_work(client: Any, lesson: str = HEADLINE, *, answer: str = ANSWER, action: str = "submit",
              **extra: Any) -> Any:
    """Save or submit the assignment form of a lesson page."""
    return form_post(client, lesson, f"{lesson}/assignment", {"answer": answer, "action": action, **extra})


def review_form(client: Any, submission_id: int, *, decision: str = "approve", met: bool = True,
                overall: str = "Well done.", **extra: Any) -> Any:
    """Fill the review form of a submission (every criterion met or not) and send it."""
    page = f"/manage/reviews/{submission_id}"
    html = client.get(page).get_data(as_text=True)
    ids = sorted(set(re.findall(r'name="criterion-(c-[0-9a-f]+)"', html)))
    version = re.search(r'name="version" value="(\d+)"', html)
    data = {"csrf_token": csrf_token(html), "version": version.group(1) if version else "1", "decision": decision,
            "overall_comment": overall, **{f"criterion-{i}": "met" if met else "not_met" for i in ids}}
    data.update(extra)
    return client.post(page, data={k: v for k, v in data.items() if v is not None})


@pytest.fixture
def reviewer(app: Any, make_user: Any) -> Any:
    """A signed-in manager client (Maria Manager)."""
    make_user(email="boss@example.com", name="Maria Manager", role="manager")
    client = app.test_client()
    assert Auth(client).login("boss@example.com").status_code == 302
    return client
