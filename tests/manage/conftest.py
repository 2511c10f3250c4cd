"""Fixtures of the manager-area tests: data created through the services, and clients with and without CSRF."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from coaching.extensions import db
from coaching.models import AuditLog, CourseEnrollment, QuizAttempt, User
from coaching.services import catalog, progress, quizzes
from coaching.services.accounts import create_user

NOW = datetime.now(UTC)


class Questions:
    """Ids of the demo quiz (tests/fixtures/content/demo/02-headlines.md)."""

    single = "q-e317e503b1"
    single_right = "o-208ee958"
    single_wrong = "o-95e03f68"
    single_other = "o-175a5329"
    multi = "q-b0b9d5ef44"
    multi_right = ["o-d7662aaa", "o-491c88ea"]
    multi_wrong = "o-d58088c2"
    text = "q-f07c287c20"


Q = Questions


def answers(single: bool = True, multi: bool = True, text: bool = True, *, wrong_single: str = Q.single_wrong,
            wrong_text: str = "cost per click") -> dict[str, list[str]]:
    """A set of answers to the demo quiz, each question right or wrong as asked."""
    return {Q.single: [Q.single_right if single else wrong_single],
            Q.multi: Q.multi_right if multi else [Q.multi_right[0], Q.multi_wrong],
            Q.text: ["Click-Through  Rate" if text else wrong_text]}


class World:
    """Creates people, progress, attempts and certificates through the services (in an app context)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def user(self, name: str = "Alex Affiliate", email: str | None = None, role: str = "affiliate", **fields: Any) -> int:
        """A person without a password (fast); returns the id."""
        with self.app.app_context():
            user = create_user(email=email or f"{secrets.token_hex(4)}@example.com", name=name, password=None, role=role)
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            return user.id

    def _course(self) -> tuple[Any, Any, Any]:
        """The demo course and its two lessons."""
        course = catalog.catalog().course("demo")
        return course, course.lesson("welcome"), course.lesson("headlines")

    def open(self, user_id: int, *, at: datetime | None = None) -> None:
        """The person opens a lesson of the demo course (starts the enrollment)."""
        with self.app.app_context():
            progress.record_activity(db.session.get(User, user_id), "demo", now=at)
            db.session.commit()

    def complete_welcome(self, user_id: int) -> None:
        """The person marks the reading lesson complete."""
        with self.app.app_context():
            course, welcome, _h = self._course()
            progress.mark_complete(db.session.get(User, user_id), course, welcome, welcome.texts["en"].content_hash, "en")
            db.session.commit()

    def attempt(self, user_id: int, given: dict[str, list[str]]) -> int:
        """The person submits the quiz; returns the attempt id."""
        with self.app.app_context():
            course, _w, headlines = self._course()
            attempt, _new = quizzes.submit_quiz(db.session.get(User, user_id), course, headlines,
                                                 headlines.texts["en"], given, secrets.token_hex(8), "en")
            db.session.commit()
            return attempt.id

    def finish(self, user_id: int) -> str:
        """The person completes the whole course; returns the certificate id."""
        self.complete_welcome(user_id)
        self.attempt(user_id, answers())
        with self.app.app_context():
            from coaching.services.certificates import current_certificate

            return current_certificate(user_id, "demo").id

    def shift(self, user_id: int, *, days: int) -> None:
        """Move a person's enrollment and completion `days` into the past."""
        with self.app.app_context():
            then = NOW - timedelta(days=days)
            db.session.execute(update(CourseEnrollment).where(CourseEnrollment.user_id == user_id).values(
                started_at=then, last_activity_at=then))
            db.session.execute(update(CourseEnrollment).where(CourseEnrollment.user_id == user_id,
                                                              CourseEnrollment.completed_at.is_not(None))
                               .values(completed_at=then))
            db.session.commit()

    def audit_actions(self) -> list[str]:
        """The audit log's action names, oldest first."""
        with self.app.app_context():
            return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))

    def get(self, model: Any, ident: Any) -> Any:
        """A row, detached from the session."""
        with self.app.app_context():
            row = db.session.get(model, ident)
            if row is not None:
                db.session.expunge(row)
            return row

    def attempts(self) -> int:
        """Number of stored attempts."""
        with self.app.app_context():
            return len(db.session.scalars(select(QuizAttempt.id)).all())


@pytest.fixture
def world(app: Any) -> World:
    """The data helper."""
    return World(app)


@pytest.fixture
def manager_id(manager: Any) -> int:
    """The signed-in manager's id."""
    return manager.id


def token_of(client: Any, path: str = "/manage/") -> str:
    """The CSRF token from a manager page."""
    from tests.conftest import csrf_token

    return csrf_token(client.get(path).get_data(as_text=True))


@pytest.fixture
def post(manager_client: Any) -> Any:
    """POST as the manager with a valid CSRF token."""

    def send(path: str, data: dict | None = None, **kwargs: Any) -> Any:
        return manager_client.post(path, data={"csrf_token": token_of(manager_client), **(data or {})}, **kwargs)

    return send
