"""Reading the mails the app queued, straight from the outbox table (no worker needed to see a mail).

    from tests.mailbox import mails, last_mail, link_in
    mail = last_mail(app, to="aff@example.com")
    path = link_in(mail, "/auth/reset/")      # "/auth/reset/<token>", ready for client.get

Account notices (registration, password reset) get their text from the worker just before sending; `mails`
writes the text of queued notices first (`services.mail.prepare_notices`, as the worker does), sending nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from coaching.extensions import db
from coaching.models import OutboxMail
from coaching.services.mail import prepare_notices


@dataclass(frozen=True)
class Mail:
    """One queued (or sent) mail as the tests see it."""

    id: int
    to: str
    subject: str
    body: str | None
    user_id: int | None
    status: str


def mails(app: Any, to: str | None = None) -> list[Mail]:
    """Every mail in the outbox, oldest first (only those to `to`, when given); queued notices written first."""
    with app.app_context():
        prepare_notices(app)
        query = select(OutboxMail).order_by(OutboxMail.id)
        if to is not None:
            query = query.where(OutboxMail.recipient == to)
        return [Mail(m.id, m.recipient, m.subject, m.body, m.user_id, m.status) for m in db.session.scalars(query)]


def last_mail(app: Any, to: str | None = None) -> Mail:
    """The newest mail (to `to`, when given); fails when there is none."""
    found = mails(app, to)
    assert found, f"no mail{' to ' + to if to else ''} in the outbox"
    return found[-1]


def link_in(mail: Mail, prefix: str) -> str:
    """The path of the first link in the mail's body that starts with `prefix` (site URL removed)."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(prefix) + r"\S*)", mail.body or "")
    assert match, f"no {prefix} link in: {mail.body!r}"
    return match.group(1)
