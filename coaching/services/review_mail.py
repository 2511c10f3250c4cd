"""Coaching mail: a new submission to the affiliate's coach (or every active manager), a review or a reset to the
affiliate, and the managers' daily digest; each in the recipient's language, queued with `send_mail`.

Who hears of a submission: the coach when they are an active manager, otherwise every active manager (never the
person who submitted); each of them as they chose: each submission, a daily digest, or nothing. Mails name the
lesson and link to it; they never carry the submitted text or the reviewer's comments.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Coach, Review, ReviewSettings, Submission, SubmissionVersion, User, utcnow
from .catalog import catalog
from .mail import send_mail

LANGUAGES = ("en", "de")
DIGEST_WINDOW = timedelta(days=1)  # the first digest after choosing "daily" lists the last day


def language_of(user: User, fallback: str = "en") -> str:
    """The language a person reads mail in: their profile's, else `fallback`."""
    return user.language if user.language in LANGUAGES else (fallback if fallback in LANGUAGES else "en")


@contextmanager
def _mail_context(language: str) -> Iterator[None]:
    """Render in `language`; outside a request (the CLI), inside a fake one so links can be built."""
    outer = nullcontext() if has_request_context() else current_app.test_request_context()
    with outer, force_locale(language):
        yield


def _link(endpoint: str, **values: Any) -> str:
    """An absolute link on this site."""
    return current_app.config["SITE_URL"] + url_for(endpoint, **values)


def _lesson_title(course_slug: str, lesson_slug: str, language: str, fallback: str) -> str:
    """A lesson's title in a language (the snapshot's title when the lesson is gone)."""
    course = catalog().course(course_slug)
    lesson = course.lesson(lesson_slug) if course is not None else None
    return lesson.text(language)[0].title if lesson is not None else fallback


def notify_choice(user_id: int) -> str:
    """A manager's review mail choice: each (the default), daily or off."""
    row = db.session.scalar(select(ReviewSettings).where(ReviewSettings.user_id == user_id))
    return row.notify if row is not None else "each"


def recipients(affiliate_id: int, coach: User | None) -> list[User]:
    """Who hears of this person's submissions: their coach if an active manager, else every active manager."""
    if coach is not None and coach.role == "manager" and coach.active and coach.id != affiliate_id:
        return [coach]
    return list(db.session.scalars(select(User).where(User.role == "manager", User.active.is_(True),
                                                      User.id != affiliate_id).order_by(User.id)))


def submitted(submission: Submission, version: SubmissionVersion, affiliate: User, *, coach: User | None) -> int:
    """Tell the coach or the managers (those who want each mail) of a new version; returns mails queued."""
    sent = 0
    for manager in recipients(affiliate.id, coach):
        if notify_choice(manager.id) != "each":
            continue
        language = language_of(manager)
        with _mail_context(language):
            title = _lesson_title(submission.course_slug, submission.lesson_slug, language, version.lesson_title)
            subject = _("New submission to review: “%(lesson)s” by %(name)s", lesson=title, name=affiliate.name)
            body = render_template("mail/submitted.txt", manager=manager, affiliate=affiliate, lesson=title,
                                   version=version.number, link=_link("manage.review", submission_id=submission.id),
                                   coach=coach is not None and coach.id == manager.id,
                                   settings=_link("manage.reviews"))
        send_mail(manager.email, subject, body, user_id=manager.id)
        sent += 1
    return sent


def reviewed(submission: Submission, version: SubmissionVersion, review: Review, affiliate: User,
             language: str) -> None:
    """Tell the affiliate their work was approved or needs revision, in their language, with a link."""
    language = language_of(affiliate, language)
    with _mail_context(language):
        title = _lesson_title(submission.course_slug, submission.lesson_slug, language, version.lesson_title)
        if review.decision == "approve":
            subject = _("Your assignment “%(lesson)s” was approved", lesson=title)
        else:
            subject = _("Feedback on your assignment “%(lesson)s”: please revise it", lesson=title)
        body = render_template("mail/reviewed.txt", affiliate=affiliate, lesson=title, review=review,
                               version=version.number, link=_link("learn.lesson", course_slug=submission.course_slug,
                                                                  lesson_slug=submission.lesson_slug,
                                                                  _anchor="assignment"))
    send_mail(affiliate.email, subject, body, user_id=affiliate.id)


def reset(submission: Submission, affiliate: User) -> None:
    """Tell the affiliate a manager returned their assignment to "not submitted"."""
    language = language_of(affiliate)
    with _mail_context(language):
        title = _lesson_title(submission.course_slug, submission.lesson_slug, language, submission.lesson_slug)
        subject = _("Your assignment “%(lesson)s” is open again", lesson=title)
        body = render_template("mail/reset.txt", affiliate=affiliate, lesson=title,
                               link=_link("learn.lesson", course_slug=submission.course_slug,
                                          lesson_slug=submission.lesson_slug, _anchor="assignment"))
    send_mail(affiliate.email, subject, body, user_id=affiliate.id)


def send_digests(*, now: datetime | None = None) -> int:
    """Send each manager who chose "daily" one mail listing the submissions that arrived since their last
    digest and still wait; at most one per manager and calendar day (UTC), so running it more often (or a
    worker calling it every few minutes) sends nothing twice. Returns mails queued."""
    now = now or utcnow()
    managers = list(db.session.execute(select(User, ReviewSettings).join(ReviewSettings, ReviewSettings.user_id ==
                                                                          User.id)
                                       .where(ReviewSettings.notify == "daily", User.role == "manager",
                                              User.active.is_(True)).order_by(User.id)))
    due = [(m, s) for m, s in managers if s.last_digest_at is None or s.last_digest_at.date() < now.date()]
    if not due:
        return 0
    earliest = min((s.last_digest_at or now - DIGEST_WINDOW) for _m, s in due)
    waiting = db.session.execute(
        select(Submission, SubmissionVersion.lesson_title, User, Coach.coach_id)
        .join(User, User.id == Submission.user_id)
        .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id)
              & (SubmissionVersion.number == Submission.versions_count))
        .outerjoin(Coach, Coach.user_id == Submission.user_id)
        .where(Submission.state == "waiting", Submission.submitted_at > earliest)
        .order_by(Submission.submitted_at, Submission.id)).all()
    active = {m.id for m in db.session.scalars(select(User).where(User.role == "manager", User.active.is_(True)))}
    sent = 0
    for manager, settings in due:
        since = settings.last_digest_at or now - DIGEST_WINDOW
        mine = [(submission, title, person) for submission, title, person, coach_id in waiting
                if submission.submitted_at > since and person.id != manager.id
                and (coach_id == manager.id if coach_id in active and coach_id != person.id else True)]
        settings.last_digest_at = now
        if mine:
            _digest_mail(manager, mine)
            sent += 1
    db.session.flush()
    return sent


def _digest_mail(manager: User, items: list[tuple[Submission, str, User]]) -> None:
    """One digest mail."""
    language = language_of(manager)
    with _mail_context(language):
        rows = [{"lesson": _lesson_title(s.course_slug, s.lesson_slug, language, title), "name": person.name,
                 "version": s.versions_count, "link": _link("manage.review", submission_id=s.id)}
                for s, title, person in items]
        subject = ngettext("%(num)d new submission to review", "%(num)d new submissions to review", len(rows))
        body = render_template("mail/digest.txt", manager=manager, rows=rows, queue=_link("manage.reviews"))
    send_mail(manager.email, subject, body, user_id=manager.id)
