"""Approved assignments frozen on a certificate as evidence: the records, the holder's consent, erasure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from ..content import Course, render
from ..extensions import db
from ..models import Certificate, Review, Submission, SubmissionVersion, iso_utc
from .db import lock_row
from .links import evidence_url

MAX_EVIDENCE_TEXT = 20_000  # a submission is at most 5,000 characters by default; room for longer limits
MAX_EVIDENCE_NAME = 300


def _as_text(value: object, what: str, *, empty: bool = False, limit: int = MAX_EVIDENCE_TEXT) -> str:
    """A string within `limit` characters (non-empty unless allowed), else ValueError."""
    if not isinstance(value, str) or (not empty and not value.strip()) or len(value) > limit:
        raise ValueError(f"evidence {what} must be a{'' if empty else ' non-empty'} string of at most {limit} "
                         "characters")
    return value


@dataclass(frozen=True)
class EvidenceRecord:
    """One approved assignment as frozen on a certificate: one JSON object of `certificates.evidence`.

    `name` the assignment (lesson title), `task` the task as set (Markdown), `text` the approved submission (plain
    text) and `link` its URL where the assignment asked for one, `reviewer_comment` the reviewer's overall comment on
    the approved version, `approved_at` when it was approved, `consent` whether the holder shows it on the
    certificate (off by default; they may change it later with `set_evidence_consent`).
    """

    name: str
    task: str
    text: str
    reviewer_comment: str = ""
    approved_at: datetime | None = None
    link: str | None = None
    consent: bool = False
    lesson: str | None = None  # the lesson's slug, to follow the holder's consent from their dashboard

    def __post_init__(self) -> None:
        """Refuse anything the credential or the evidence page could not state."""
        _as_text(self.name, "name", limit=MAX_EVIDENCE_NAME)
        _as_text(self.task, "task")
        _as_text(self.text, "text", empty=True)
        _as_text(self.reviewer_comment, "reviewer_comment", empty=True)
        if self.approved_at is not None and (not isinstance(self.approved_at, datetime)
                                             or self.approved_at.utcoffset() is None):
            raise ValueError("evidence approved_at must be a timezone-aware datetime")
        if self.link is not None and not (isinstance(self.link, str) and len(self.link) <= 2000
                                          and self.link.startswith(("https://", "http://"))):
            raise ValueError("evidence link must be an http(s) URL")
        if not isinstance(self.consent, bool):
            raise ValueError("evidence consent must be true or false")

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored on the certificate row."""
        return {"name": self.name, "task": self.task, "text": self.text, "reviewer_comment": self.reviewer_comment,
                "approved_at": iso_utc(self.approved_at),
                "link": self.link, "consent": self.consent, "lesson": self.lesson}

    @classmethod
    def from_json(cls, data: object) -> EvidenceRecord | None:
        """Read a stored object back; None for anything malformed (it is then neither shown nor named)."""
        if not isinstance(data, dict):
            return None
        try:
            approved = data.get("approved_at")
            return cls(name=data.get("name"), task=data.get("task"), text=data.get("text", ""),
                       reviewer_comment=data.get("reviewer_comment") or "",
                       approved_at=datetime.fromisoformat(approved) if isinstance(approved, str) else None,
                       link=data.get("link"), consent=data.get("consent") is True,
                       lesson=data.get("lesson") if isinstance(data.get("lesson"), str) else None)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class EvidenceEntry:
    """An approved assignment on one certificate: its number (`/verify/<id>/evidence/<number>`), the record, its
    public URL, and whether it is shown (the holder consented and has not withdrawn the certificate)."""

    number: int
    record: EvidenceRecord
    url: str
    shown: bool


def evidence_for(cert: Certificate) -> list[EvidenceEntry]:
    """The approved assignments frozen on a certificate, numbered from 1 in stored order ([] before issue 17).

    Numbers never change when consent does, so a page address stays the same assignment's.
    """
    stored = cert.evidence if isinstance(cert.evidence, list) else []
    entries = []
    for number, data in enumerate(stored, start=1):
        record = EvidenceRecord.from_json(data)
        if record is not None:
            entries.append(EvidenceEntry(number, record, evidence_url(cert.id, number),
                                         record.consent and cert.withdrawn_at is None))
    return entries


def shown_evidence(cert: Certificate, number: int) -> EvidenceEntry | None:
    """One assignment whose page is public (the holder consented), or None (hence 404)."""
    return next((entry for entry in evidence_for(cert) if entry.number == number and entry.shown), None)


def evidence_task_html(cert: Certificate, entry: EvidenceEntry) -> str:
    """The task of an assignment rendered like a lesson body (Markdown, then sanitized)."""
    html, _toc = render(entry.record.task, asset_base=f"/courses/{cert.course_slug}/assets/")
    return html


def _store_evidence(cert: Certificate, records: list[dict[str, Any]]) -> None:
    """Write a new list (JSON columns do not notice changes made inside the old one)."""
    cert.evidence = records
    db.session.flush()


def set_evidence_consent(cert: Certificate, number: int, consent: bool) -> bool:
    """The holder shows (or stops showing) one approved assignment on the certificate; True when it changed.

    Withdrawing consent removes its page and turns it back into a name in the credential's criteria. Unknown
    numbers change nothing (False).
    """
    lock_row(Certificate, cert.id)
    db.session.refresh(cert)
    stored = [dict(item) if isinstance(item, dict) else item for item in (cert.evidence or [])]
    if not 1 <= number <= len(stored) or not isinstance(stored[number - 1], dict):
        return False
    if stored[number - 1].get("consent") is consent:
        return False
    stored[number - 1]["consent"] = bool(consent)
    _store_evidence(cert, stored)
    return True


def erase_evidence(cert: Certificate) -> int:
    """Account deletion: drop the submitted texts, links and reviewers' comments; the assignments stay named
    (the approval is the issuer's fact, the text is the holder's). Returns how many were erased."""
    stored = cert.evidence if isinstance(cert.evidence, list) else []
    if not stored:
        return 0
    erased = [{**item, "text": "", "link": None, "reviewer_comment": "", "consent": False}
              if isinstance(item, dict) else item for item in stored]
    _store_evidence(cert, erased)
    return len(stored)


def approved_work(user_id: int, course: Course, language: str | None = None) -> list[EvidenceRecord]:
    """A person's approved assignments in a course, in course order, as records to freeze on the certificate.

    Each holds the lesson title in `language` (else the title answered), the task as it was when the approved
    version was submitted (the snapshot it was reviewed against), the approved text and link, the approving
    review's overall comment and time, and the person's consent (`show_on_certificate`, off by default).
    """
    rows = db.session.execute(
        select(Submission, SubmissionVersion, Review).join(SubmissionVersion, and_(
            SubmissionVersion.submission_id == Submission.id, SubmissionVersion.number == Submission.versions_count))
        .join(Review, Review.version_id == SubmissionVersion.id)
        .where(Submission.user_id == user_id, Submission.course_slug == course.slug,
               Submission.state == "approved", SubmissionVersion.state == "approved")).all()
    order = {lesson.slug: index for index, lesson in enumerate(course.lessons)}
    records = []
    for submission, version, approval in sorted(rows, key=lambda r: (order.get(r[0].lesson_slug, len(order)),
                                                                     r[0].lesson_slug)):
        lesson = course.lesson(submission.lesson_slug)
        name = lesson.text(language or course.language)[0].title if lesson is not None else version.lesson_title
        records.append(EvidenceRecord(
            name=name[:MAX_EVIDENCE_NAME], task=version.task or name, text=version.answer or "",
            reviewer_comment=approval.overall_comment or "", approved_at=approval.created_at,
            link=version.link or None, consent=bool(submission.show_on_certificate), lesson=submission.lesson_slug))
    return records


def follow_consent(user_id: int, course_slug: str, lesson_slug: str, consent: bool) -> bool:
    """The holder changed their consent on the dashboard: their current certificate of the course follows (the
    assignment's page appears or goes). True when a certificate changed."""
    cert = db.session.scalar(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.course_slug == course_slug,
        Certificate.revoked_at.is_(None), Certificate.superseded_at.is_(None)))
    if cert is None:
        return False
    number = next((entry.number for entry in evidence_for(cert) if entry.record.lesson == lesson_slug), None)
    return number is not None and set_evidence_consent(cert, number, consent)


def approved_evidence(user_id: int, course: Course, language: str | None = None, *,
                      with_answer: bool = False) -> list[dict[str, Any]]:
    """The course's approved assignments of one person, in course order (the records `evidence.approved_work`
    freezes on the certificate), as dicts: name, task, reviewer_comment, approved_at (ISO 8601 UTC), consent;
    `with_answer` adds answer and link."""
    items = []
    for work in approved_work(user_id, course, language):
        item = {"name": work.name, "task": work.task, "reviewer_comment": work.reviewer_comment,
                "approved_at": iso_utc(work.approved_at), "consent": work.consent}
        if with_answer:
            item.update(answer=work.text, link=work.link)
        items.append(item)
    return items


def certificate_evidence(user_id: int, course: Course, language: str | None = None
                         ) -> tuple[list[dict[str, Any]], list[str]]:
    """(evidence items with consent, names of approved assignments without consent)."""
    items = approved_evidence(user_id, course, language)
    return [item for item in items if item["consent"]], [item["name"] for item in items if not item["consent"]]
