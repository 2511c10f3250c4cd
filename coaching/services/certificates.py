"""Certificates: issuing exactly once with the facts the credential states frozen on the row, status,
revocation, and lookups with their access rules."""
from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update

from ..content import Course
from ..credentials.ids import new_certificate_id, normalize_certificate_id
from ..credentials.openbadges import default_criteria
from ..extensions import db
from ..models import Certificate, Counter, User, utcnow
from .db import insert_ignore
from .evidence import EvidenceRecord
from .standing import quiz_standing

CURRENT = text("revoked_at IS NULL AND superseded_at IS NULL")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (clamped to the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def status_of(cert: Certificate, now: datetime | None = None) -> str:
    """valid, expired, revoked, withdrawn (by the holder) or superseded (by a newer certificate)."""
    now = now or utcnow()
    if cert.withdrawn_at:
        return "withdrawn"
    if cert.revoked_at:
        return "revoked"
    if cert.valid_until and cert.valid_until <= now:
        return "expired"
    if cert.superseded_at:
        return "superseded"
    return "valid"


def current_certificate(user_id: int, course_slug: str) -> Certificate | None:
    """The person's current (not revoked, not superseded) certificate for a course."""
    return db.session.scalar(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.course_slug == course_slug,
        Certificate.revoked_at.is_(None), Certificate.superseded_at.is_(None)))


STATUS_COUNTER = "certificate_status_index"


def allocate_status_index() -> int:
    """The next Bitstring Status List index, unique without races on SQLite and PostgreSQL.

    One row of `counters` is advanced in SQL (`UPDATE ... SET value = value + 1 ... RETURNING value`): PostgreSQL
    locks that row until the transaction ends and SQLite writes under its database lock, so two issuings never
    read the same value; the unique constraint on `certificates.status_index` backs this up. An issuing that
    loses the race for the certificate row leaves a gap in the numbers, which costs one unused bit.
    """
    bump = (update(Counter).where(Counter.name == STATUS_COUNTER).values(value=Counter.value + 1)
            .returning(Counter.value).execution_options(synchronize_session=False))
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:  # first certificate of this database: start after any index already used
        start = db.session.scalar(select(func.coalesce(func.max(Certificate.status_index) + 1, 0)))
        insert_ignore(Counter, {"name": STATUS_COUNTER, "value": start}, conflict=["name"])
        value = db.session.execute(bump).scalar_one()
    return value - 1


def exam_facts(user_id: int, course: Course, language: str) -> dict[str, Any]:
    """The exam result a new certificate states: the course's exam lesson (front matter `exam: true`), its pass
    mark and the person's best passing score there (the quiz pages' own rule); {} when there is none."""
    lesson = next((item for item in course.lessons if item.exam), None)
    if lesson is None:
        return {}
    text_, _fell_back = lesson.text(language)
    if text_.quiz is None:
        return {}
    best = quiz_standing(user_id, course.slug, lesson.slug, None).best
    if best is None or not best.passed:
        return {}
    return {"exam_name": text_.title, "exam_pass_mark": text_.quiz.pass_mark, "exam_score": best.percent}


def issue_certificate(user: User, course: Course, language: str, *, now: datetime | None = None,
                      evidence: Sequence[EvidenceRecord] | Callable[[], Sequence[EvidenceRecord]] = ()
                      ) -> Certificate:
    """Issue the course certificate once; a unique index makes concurrent calls end with one row.

    What the credential states is frozen on the new row: status list index, criteria, exam result and the
    approved assignments in `evidence` (each shown only with its `consent`; a callable is asked only when a
    certificate is issued). After expiry or revocation a completion issues a new certificate with a new id.
    """
    now = now or utcnow()
    existing = current_certificate(user.id, course.slug)
    if existing is not None:
        if status_of(existing, now) == "valid":
            return existing
        existing.superseded_at = now  # expired: the new one takes its place
        db.session.flush()
    settings = course.certificate
    lang = language if language in course.texts else course.language
    values = {
        "id": new_certificate_id(), "user_id": user.id, "course_slug": course.slug,
        "recipient_name": user.name, "course_title": course.text(lang).title,
        "certificate_title": course.certificate_title(lang), "language": lang,
        "content_fingerprint": course.fingerprint, "signer_name": settings.signer_name,
        "signer_role": settings.signer_role, "issued_at": now,
        "valid_until": add_months(now, settings.validity_months) if settings.validity_months else None,
        "status_index": allocate_status_index(),
        "criteria_narrative": default_criteria(course.text(lang).title, lang),
        "evidence": [record.to_json() for record in (evidence() if callable(evidence) else evidence)],
        **exam_facts(user.id, course, lang),
    }
    insert_ignore(Certificate, values, conflict=["user_id", "course_slug"], where=CURRENT)
    cert = current_certificate(user.id, course.slug)
    assert cert is not None
    return cert


def find_certificate(raw_id: str) -> Certificate | None:
    """A certificate by a possibly mistyped id (case, dashes, O/0); None for malformed or unknown ids."""
    cert_id = normalize_certificate_id(raw_id or "")
    return db.session.get(Certificate, cert_id) if cert_id else None


def downloadable_certificate(user: Any, raw_id: str) -> Certificate | None:
    """The certificate whose PDF this person may download: their own or, for managers, anyone's;
    never a certificate the holder withdrew. None (hence 404) for everything else."""
    cert = find_certificate(raw_id)
    if cert is None or cert.withdrawn_at is not None:
        return None
    if cert.user_id != user.id and not user.is_manager:
        return None
    return cert


def certificate_of_person(user_id: int, raw_id: str) -> Certificate | None:
    """One of a person's certificates by id (as typed in a manager's form), or None."""
    cert = find_certificate(raw_id)
    return cert if cert is not None and cert.user_id == user_id else None


def revoke(cert: Certificate, reason: str, *, now: datetime | None = None) -> bool:
    """Revoke with a reason; True when this call revoked it (revoking twice changes nothing)."""
    changed = db.session.execute(update(Certificate).where(
        Certificate.id == cert.id, Certificate.revoked_at.is_(None)).values(
        revoked_at=now or utcnow(), revoked_reason=reason.strip()[:500])).rowcount
    db.session.refresh(cert)
    return changed == 1


@dataclass(frozen=True)
class CertificateView:
    """A certificate with its computed status, for lists."""

    cert: Certificate
    status: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cert, name)


def certificates_of(user_id: int) -> list[CertificateView]:
    """A person's certificates, newest first, with their status."""
    now = utcnow()
    rows = db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)
                              .order_by(Certificate.issued_at.desc()))
    return [CertificateView(cert, status_of(cert, now)) for cert in rows]


def valid_certificate(user_id: int, course_slug: str) -> CertificateView | None:
    """The person's certificate of a course that is valid now, if any (the course page links it)."""
    return next((view for view in certificates_of(user_id)
                 if view.course_slug == course_slug and view.status == "valid"), None)
