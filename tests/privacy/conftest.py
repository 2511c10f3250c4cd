"""Fixtures of the personal-data tests: an affiliate with a row in every table that can hold personal data."""
from __future__ import annotations

from typing import Any

import pytest

from coaching.extensions import db
from coaching.models import User
from coaching.services import accounts, audit, quizzes, signup
from coaching.services.mail import prepare_notices
from tests.privacy.helpers import WRONG_TEXT
from tests.web.helpers import answers, certificate_id, finish_demo_course, read_quiz, submit


@pytest.fixture
def rich(app: Any, client: Any, logged_in: Any, manager: Any) -> dict[str, Any]:
    """The signed-in affiliate failed the quiz once (a typed answer), finished the course, used an invite,
    asked for a password reset (a reset row and a mail) and got an extra attempt from a manager; returns ids."""
    form = read_quiz(client)
    wrong = answers(form, right=False)
    wrong.update({q: WRONG_TEXT for q, kind in form.kinds.items() if kind == "text"})
    assert submit(client, wrong, form).status_code == 303
    finish_demo_course(client)
    cert = certificate_id(client)
    with app.app_context():
        user = db.session.get(User, logged_in.id)
        boss = db.session.get(User, manager.id)
        invite, _token = accounts.create_invite(created_by=boss, email=user.email)
        accounts.claim_invite(invite, user)
        audit.record(boss, "invite_created", "invite", invite.id, email=user.email)
        signup.request_password_reset(user.email, language="en")
        quizzes.grant_attempt(user.id, "demo", "headlines", boss)
        audit.record(boss, "attempt_granted", "user", user.id, course="demo", lesson="headlines")
        db.session.commit()
        prepare_notices(app)  # the worker writes the reset (a reset row and the mail to the person)
        return {"user_id": user.id, "manager_id": boss.id, "certificate": cert, "invite_id": invite.id}
