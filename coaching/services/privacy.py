"""Personal data services: export everything kept about a person, delete an account, purge inactive ones.

GDPR art. 15 and 20 (access, portability): `export_data` gathers every row that points at a person.
GDPR art. 17 (erasure): `delete_account` removes the person and turns what the statistics need into
anonymous rows. Functions add and flush; the caller (a view or a command) commits.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, delete, func, or_, select, update

from ..extensions import db
from ..models import (
    AttemptGrant,
    AuditLog,
    Certificate,
    Coach,
    CourseEnrollment,
    Invite,
    LessonProgress,
    OutboxMail,
    PasswordReset,
    QuizAttempt,
    Review,
    ReviewSettings,
    Submission,
    SubmissionVersion,
    User,
    iso_utc,
    utcnow,
)
from . import audit
from .certificates import status_of
from .db import begin_write
from .evidence import erase_evidence
from .links import verify_url
from .mail import delete_mail_of

EXPORT_FORMAT = "coaching-personal-data/1"
ERASED = "[erased]"
# Choice answers are stored as option ids (`o-` and 8 hex digits, see content/quiz.py): not personal.
OPTION_ID = re.compile(r"o-[0-9a-f]{8}")
# Columns that link a row to a person, and columns never exported (secrets, or other people's data).
PERSON_COLUMNS = ("user_id", "used_by_id", "actor_id")
SECRET_COLUMN = re.compile(r"token|hash|secret|password", re.IGNORECASE)
CERTIFICATE_CHOICES = ("keep", "withdraw")


class PrivacyError(ValueError):
    """A deletion a rule forbids; the code (self_delete, last_manager) names the rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- export ------------------------------------------------------------------------------------------------

def _rows(model: Any, *conditions: Any) -> list[Any]:
    """Rows of a model matching the conditions, oldest first."""
    return list(db.session.scalars(select(model).where(*conditions).order_by(model.id)))


def _account(user: User) -> dict[str, Any]:
    """The account row without its secrets (password hash, session token)."""
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "language": user.language,
            "created_at": iso_utc(user.created_at), "last_seen_at": iso_utc(user.last_seen_at), "active": user.active}


def _enrollments(user_id: int) -> list[dict[str, Any]]:
    """Courses started, with last activity and completion."""
    return [{"id": e.id, "course": e.course_slug, "started_at": iso_utc(e.started_at),
             "last_activity_at": iso_utc(e.last_activity_at), "completed_at": iso_utc(e.completed_at)}
            for e in _rows(CourseEnrollment, CourseEnrollment.user_id == user_id)]


def _progress(user_id: int) -> list[dict[str, Any]]:
    """Completed lessons."""
    return [{"id": p.id, "course": p.course_slug, "lesson": p.lesson_slug, "completed_at": iso_utc(p.completed_at),
             "content_version": p.content_hash}
            for p in _rows(LessonProgress, LessonProgress.user_id == user_id)]


def _attempts(user_id: int) -> list[dict[str, Any]]:
    """Every quiz attempt with its answers, per-question results and score."""
    return [{"id": a.id, "course": a.course_slug, "lesson": a.lesson_slug, "language": a.language,
             "content_version": a.content_hash, "submitted_at": iso_utc(a.created_at), "answers": a.answers,
             "results": a.results, "score": a.score, "total": a.total, "percent": a.percent, "passed": a.passed}
            for a in _rows(QuizAttempt, QuizAttempt.user_id == user_id)]


def _grants(user_id: int) -> list[dict[str, Any]]:
    """Extra quiz attempts granted by a manager."""
    return [{"id": g.id, "course": g.course_slug, "lesson": g.lesson_slug, "granted_at": iso_utc(g.created_at)}
            for g in _rows(AttemptGrant, AttemptGrant.user_id == user_id)]


def _certificates(user_id: int) -> list[dict[str, Any]]:
    """Certificates with their public verification address and current status."""
    now = utcnow()
    return [{"id": c.id, "course": c.course_slug, "course_title": c.course_title,
             "certificate_title": c.certificate_title, "recipient_name": c.recipient_name, "language": c.language,
             "issued_at": iso_utc(c.issued_at), "valid_until": iso_utc(c.valid_until), "status": status_of(c, now),
             "revoked_at": iso_utc(c.revoked_at), "revoked_reason": c.revoked_reason,
             "superseded_at": iso_utc(c.superseded_at), "withdrawn_at": iso_utc(c.withdrawn_at),
             "verify_url": verify_url(c.id), "exam": {"name": c.exam_name, "pass_mark": c.exam_pass_mark,
                                                      "score": c.exam_score} if c.exam_score is not None else None,
             "evidence": c.evidence or []}
            for c in _rows(Certificate, Certificate.user_id == user_id)]


def _invites(user_id: int) -> list[dict[str, Any]]:
    """The invite used to register (never its token or hash)."""
    return [{"id": i.id, "email": i.email, "created_at": iso_utc(i.created_at), "used_at": iso_utc(i.used_at)}
            for i in _rows(Invite, Invite.used_by_id == user_id)]


def _resets(user_id: int) -> list[dict[str, Any]]:
    """Password reset requests: times only, never tokens or hashes."""
    return [{"id": r.id, "requested_at": iso_utc(r.created_at), "expires_at": iso_utc(r.expires_at),
             "used_at": iso_utc(r.used_at)}
            for r in _rows(PasswordReset, PasswordReset.user_id == user_id)]


def _audit(user_id: int) -> list[dict[str, Any]]:
    """Audit entries about the person or made by them: action and time (details may name others)."""
    about = (AuditLog.target_type == "user") & (AuditLog.target_id == str(user_id))
    return [{"id": e.id, "action": e.action, "at": iso_utc(e.created_at),
             "role": "actor" if e.actor_id == user_id else "subject"}
            for e in _rows(AuditLog, or_(AuditLog.actor_id == user_id, about))]


def _mails(user_id: int) -> list[dict[str, Any]]:
    """Mails to the person (waiting or sent): address, subject, times and status; never the body (it holds links)."""
    return [{"id": m.id, "to": m.recipient, "subject": m.subject, "status": m.status,
             "queued_at": iso_utc(m.created_at), "sent_at": iso_utc(m.sent_at), "failed_at": iso_utc(m.failed_at)}
            for m in _rows(OutboxMail, OutboxMail.user_id == user_id)]


def _submissions(user_id: int) -> list[dict[str, Any]]:
    """Assignments: the draft, every version with the task it answered, and the feedback on it (the reviewers'
    marks and comments; not who the reviewers are)."""
    out = []
    for s in _rows(Submission, Submission.user_id == user_id):
        versions = []
        for v in _rows(SubmissionVersion, SubmissionVersion.submission_id == s.id):
            r = v.review
            versions.append({
                "number": v.number, "state": v.state, "submitted_at": iso_utc(v.submitted_at), "answer": v.answer,
                "link": v.link, "language": v.language, "lesson_title": v.lesson_title, "task": v.task,
                "criteria": [{"id": c.get("id"), "text": c.get("text")} for c in v.criteria or []],
                "review": None if r is None else {
                    "decision": r.decision, "reviewed_at": iso_utc(r.created_at), "criteria": r.criteria,
                    "met": r.met, "total": r.total, "overall_comment": r.overall_comment}})
        out.append({"id": s.id, "course": s.course_slug, "lesson": s.lesson_slug, "state": s.state,
                    "draft_answer": s.draft_answer, "draft_link": s.draft_link,
                    "show_on_certificate": s.show_on_certificate, "consent_changed_at": iso_utc(s.consent_changed_at),
                    "created_at": iso_utc(s.created_at), "submitted_at": iso_utc(s.submitted_at),
                    "approved_at": iso_utc(s.approved_at), "reset_at": iso_utc(s.reset_at), "versions": versions})
    return out


def _coach(user_id: int) -> list[dict[str, Any]]:
    """The person's coach (a manager's name: the person sees it on nothing else, so it belongs to their data)."""
    row = db.session.scalar(select(Coach).where(Coach.user_id == user_id))
    return [] if row is None else [{"id": row.id, "coach": row.coach.name if row.coach else None,
                                    "assigned_at": iso_utc(row.assigned_at)}]


def _review_settings(user_id: int) -> list[dict[str, Any]]:
    """A manager's review mail choice."""
    row = db.session.scalar(select(ReviewSettings).where(ReviewSettings.user_id == user_id))
    return [] if row is None else [{"id": row.id, "notify": row.notify, "last_digest_at": iso_utc(row.last_digest_at)}]


SECTIONS = {
    "course_enrollments": _enrollments, "lesson_progress": _progress, "quiz_attempts": _attempts,
    "attempt_grants": _grants, "certificates": _certificates, "invites": _invites, "password_resets": _resets,
    "audit_log": _audit, "mail_outbox": _mails, "assignment_submissions": _submissions, "coach_assignments": _coach,
    "review_settings": _review_settings,
}


def person_links() -> list[tuple[Any, Any]]:
    """(table, column) for every column that points a row at a person (walks the metadata)."""
    users = User.__table__
    return [(table, column) for table in db.metadata.sorted_tables for column in table.columns
            if column.name in PERSON_COLUMNS and any(fk.column.table is users for fk in column.foreign_keys)]


def _generic(table: Any, column: Any, user_id: int) -> list[dict[str, Any]]:
    """Rows of a table not known above (added later): every column except secrets."""
    keep = [c for c in table.columns if not SECRET_COLUMN.search(c.name)]
    rows = db.session.execute(select(*keep).where(column == user_id)).mappings()
    return [{key: iso_utc(value) if isinstance(value, datetime) else value for key, value in row.items()}
            for row in rows]


def export_data(user: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything kept about a person, as one JSON-ready dict (sections named after their tables)."""
    data: dict[str, Any] = {"format": EXPORT_FORMAT, "exported_at": iso_utc(now or utcnow()),
                            "site": current_app.config["SITE_URL"], "account": _account(user)}
    data.update({name: build(user.id) for name, build in SECTIONS.items()})
    for table, column in person_links():
        if table.name not in data:
            data.setdefault(table.name, []).extend(_generic(table, column, user.id))
    return data


def export_json(user: User) -> str:
    """The export as pretty-printed UTF-8 JSON text."""
    return json.dumps(export_data(user), ensure_ascii=False, indent=2, default=str)


def record_export(actor: User, user: User) -> None:
    """Note in the audit log that a manager downloaded a person's data (a GET that writes: its own transaction)."""
    begin_write()
    audit.record(actor, "personal_data_exported", "user", user.id)


def export_filename(user: User, now: datetime | None = None) -> str:
    """An ASCII file name for the download (no personal data in it)."""
    return f"personal-data-{user.id}-{(now or utcnow()):%Y-%m-%d}.json"


# --- deletion ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeletionSummary:
    """What a deletion did (ids and counts only: safe for the audit log)."""

    user_id: int
    certificates: str
    certificates_affected: int
    attempts_anonymised: int
    text_answers_erased: int
    progress_anonymised: int
    enrollments_anonymised: int
    resets_deleted: int
    invites_unlinked: int
    audit_details_scrubbed: int
    mails_deleted: int


def _guard(actor: User | None, user: User) -> None:
    """Managers cannot delete themselves in the manager area; the last active manager always stays."""
    if actor is not None and actor.id == user.id:
        raise PrivacyError("self_delete")
    if user.role == "manager" and user.active:
        others = db.session.scalars(select(User.id).where(User.role == "manager", User.active.is_(True),
                                                          User.id != user.id).with_for_update()).all()
        if not others:
            raise PrivacyError("last_manager")


def erase_text_answers(answers: dict | None) -> tuple[dict, int]:
    """Keep choice answers (option ids), drop free-text ones; returns the new answers and how many went."""
    kept: dict[str, list] = {}
    erased = 0
    for question, values in (answers or {}).items():
        values = values if isinstance(values, list) else [values]
        choices = [v for v in values if isinstance(v, str) and OPTION_ID.fullmatch(v)]
        erased += len(values) - len(choices)
        kept[question] = choices
    return kept, erased


def _anonymise_attempts(user_id: int) -> tuple[int, int]:
    """Attempts stay for the question analysis, without the person and without free text."""
    attempts = _rows(QuizAttempt, QuizAttempt.user_id == user_id)
    erased = 0
    for attempt in attempts:
        attempt.answers, count = erase_text_answers(attempt.answers)  # a new dict: JSON columns are not tracked
        erased += count
        attempt.user_id = None
    db.session.flush()
    return len(attempts), erased


def _unlink(model: Any, column: Any, user_id: int) -> int:
    """Set a person column to NULL on every row pointing at the person; returns the row count."""
    return db.session.execute(update(model).where(column == user_id).values({column.key: None})
                              .execution_options(synchronize_session="fetch")).rowcount


def _scrub(text: str | None, secrets_: list[str]) -> str | None:
    """Replace the person's name and email inside a free text."""
    for secret in secrets_:
        if text and secret and secret.lower() in text.lower():
            text = re.sub(re.escape(secret), ERASED, text, flags=re.IGNORECASE)
    return text


def _certificates_on_delete(user_id: int, withdraw: bool, secrets_: list[str], now: datetime) -> int:
    """Keep certificates verifiable with the printed name, or withdraw them (no name) as the holder chose."""
    certs = _rows(Certificate, Certificate.user_id == user_id)
    for cert in certs:
        erase_evidence(cert)  # the submitted texts and the comments on them go with the account
        if withdraw:
            cert.withdrawn_at = cert.withdrawn_at or now
            cert.recipient_name = None
            cert.revoked_reason = _scrub(cert.revoked_reason, secrets_)
        cert.user_id = None
    db.session.flush()
    return len(certs)


def _invites_on_delete(user: User) -> int:
    """Unlink used invites and drop the email they were bound to; unused invites for the email are withdrawn."""
    mine = or_(Invite.used_by_id == user.id, Invite.email == user.email)
    db.session.execute(update(Invite).where(Invite.email == user.email, Invite.used_at.is_(None),
                                            Invite.withdrawn_at.is_(None)).values(withdrawn_at=utcnow()))
    count = db.session.execute(update(Invite).where(mine).values(email=None, used_by_id=None)
                               .execution_options(synchronize_session="fetch")).rowcount
    _unlink(Invite, Invite.created_by_id, user.id)
    return count


def _json_forms(value: str) -> list[str]:
    """A text as it appears inside stored JSON, raw and escaped (non-ASCII becomes \\uXXXX)."""
    return list({value, json.dumps(value)[1:-1]})


def _scrub_audit(secrets_: list[str]) -> int:
    """Audit details that quote the person's name or email (an invite's email...) lose that value."""
    patterns = [form for secret in secrets_ if secret for form in _json_forms(secret)]
    if not patterns:
        return 0
    text = func.lower(cast(AuditLog.detail, String))
    rows = db.session.scalars(select(AuditLog).where(or_(*(text.contains(p.lower(), autoescape=True)
                                                           for p in patterns))))
    count = 0
    for entry in rows:
        entry.detail = {key: _scrub(value, secrets_) if isinstance(value, str) else value
                        for key, value in (entry.detail or {}).items()}
        count += 1
    db.session.flush()
    return count


def delete_account(user: User, *, actor: User | None, withdraw_certificates: bool, via: str,
                   now: datetime | None = None) -> DeletionSummary:
    """Erase a person: the account row goes, statistics stay as anonymous rows; writes one audit row.

    `actor` is the manager doing it (None for the person themselves and for the retention command).
    """
    _guard(actor, user)
    now = now or utcnow()
    user_id, secrets_ = user.id, [user.email, user.name]
    certs = _certificates_on_delete(user_id, withdraw_certificates, secrets_, now)
    attempts, erased = _anonymise_attempts(user_id)
    _erase_submissions(user_id)
    progress = _unlink(LessonProgress, LessonProgress.user_id, user_id)
    enrollments = _unlink(CourseEnrollment, CourseEnrollment.user_id, user_id)
    resets = db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id)).rowcount
    mails = delete_mail_of(user_id, user.email)  # pending mail of a deleted account never leaves
    db.session.execute(delete(AttemptGrant).where(AttemptGrant.user_id == user_id))
    _unlink(AttemptGrant, AttemptGrant.granted_by_id, user_id)
    invites = _invites_on_delete(user)
    scrubbed = _scrub_audit(secrets_)
    _unlink(AuditLog, AuditLog.actor_id, user_id)
    _unlink_others(user_id)
    db.session.delete(user)
    db.session.flush()
    summary = DeletionSummary(user_id, "withdrawn" if withdraw_certificates else "kept", certs, attempts, erased,
                              progress, enrollments, resets, invites, scrubbed, mails)
    detail = {k: v for k, v in asdict(summary).items() if k != "user_id"}
    audit.record(actor, "user_deleted", "user", user_id, by=via, **detail)
    return summary


def _erase_submissions(user_id: int) -> int:
    """Assignments lose their texts, links and the reviewers' comments on them; waiting ones leave the queue.

    The rows stay without the person (decisions, criteria met and times keep the review figures right); the
    person's coach and mail settings go, and reviews this person wrote keep their text without the reviewer.
    """
    ids = list(db.session.scalars(select(Submission.id).where(Submission.user_id == user_id)))
    if ids:
        versions = select(SubmissionVersion.id).where(SubmissionVersion.submission_id.in_(ids))
        for review in db.session.scalars(select(Review).where(Review.version_id.in_(versions))):
            review.overall_comment = ""
            review.criteria = {key: {"met": bool((mark or {}).get("met")), "comment": ""}
                               for key, mark in (review.criteria or {}).items()}  # a new dict: JSON is not tracked
        db.session.execute(update(SubmissionVersion).where(SubmissionVersion.submission_id.in_(ids))
                           .values(answer="", link=None))
        db.session.execute(update(SubmissionVersion).where(SubmissionVersion.submission_id.in_(ids),
                                                           SubmissionVersion.state == "waiting")
                           .values(state="cancelled"))
        db.session.execute(update(Submission).where(Submission.id.in_(ids)).values(
            user_id=None, draft_answer=None, draft_link=None, show_on_certificate=False)
            .execution_options(synchronize_session="fetch"))
    db.session.execute(delete(Coach).where(or_(Coach.user_id == user_id, Coach.coach_id == user_id)))
    db.session.execute(delete(ReviewSettings).where(ReviewSettings.user_id == user_id))
    _unlink(Review, Review.reviewer_id, user_id)
    db.session.flush()
    return len(ids)


def _unlink_others(user_id: int) -> None:
    """Person columns of tables this module does not know yet: unlink them, so the row can go."""
    known = {"certificates", "quiz_attempts", "lesson_progress", "course_enrollments", "password_resets",
             "attempt_grants", "invites", "audit_log", "mail_outbox", "assignment_submissions", "coach_assignments",
             "review_settings"}
    for table, column in person_links():
        if table.name not in known and column.nullable:
            db.session.execute(update(table).where(column == user_id).values({column.name: None}))


# --- retention ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inactive:
    """An account past the retention period."""

    user: User
    last_activity: datetime


def inactive_accounts(days: int, *, now: datetime | None = None) -> list[Inactive]:
    """Non-manager accounts whose last activity (or creation, if never seen) is older than `days`."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    last = func.coalesce(User.last_seen_at, User.created_at)
    users = db.session.scalars(select(User).where(User.role != "manager", last < cutoff).order_by(last, User.id))
    return [Inactive(u, u.last_seen_at or u.created_at) for u in users]


def mask_email(email: str) -> str:
    """`alex@example.com` -> `a***@example.com` (enough to recognise, not to read out)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{email[:1]}***"


def purge(accounts: list[Inactive], *, withdraw_certificates: bool) -> list[DeletionSummary]:
    """Delete each inactive account with the usual rules (actor: the system)."""
    return [delete_account(item.user, actor=None, withdraw_certificates=withdraw_certificates, via="retention")
            for item in accounts]


__all__ = ["export_data", "export_json", "export_filename", "delete_account", "DeletionSummary", "PrivacyError",
           "inactive_accounts", "mask_email", "purge", "person_links", "erase_text_answers",
           "CERTIFICATE_CHOICES"]
