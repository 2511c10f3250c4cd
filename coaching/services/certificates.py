"""Certificates: issuing exactly once with the facts the credential states frozen on the row, status,
revocation, the status list, lookups with their access rules, evidence, verifying an uploaded certificate,
and the credential and PDF built from a row (the pure drawing, signing and checking live in
`coaching.credentials`)."""
from __future__ import annotations

import calendar
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from flask import current_app
from sqlalchemy import func, or_, select, text, update

from ..caches import app_cache
from ..content import Course, render
from ..credentials.ids import new_certificate_id, normalize_certificate_id
from ..credentials.openbadges import build_credential, criteria_narrative, default_criteria
from ..credentials.pdf import render_certificate_pdf
from ..credentials.signing import KeyRing, sign_credential
from ..credentials.snapshot import CertificateSnapshot, EvidenceItem, ExamResult
from ..credentials.statuslist import LIST_SIZE, STATUS_PATH, build_status_list_credential
from ..credentials.verify import (
    CHECK_NAMES,
    Check,
    CredentialFileError,
    Difference,
    Verdict,
    credential_differences,
    read_credential_file,
    verify_token,
)
from ..extensions import db
from ..models import Certificate, Counter, User, iso_utc, utcnow
from .catalog import catalog
from .db import insert_ignore, lock_row
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
                      evidence: Sequence[EvidenceRecord] = ()) -> Certificate:
    """Issue the course certificate once; a unique index makes concurrent calls end with one row.

    What the credential states is frozen on the new row: status list index, criteria, exam result and the
    approved assignments in `evidence` (each shown only with its `consent`). After expiry or revocation a
    completion issues a new certificate with a new id.
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
        "evidence": [record.to_json() for record in evidence],
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


# --- evidence: approved assignments frozen on the certificate ----------------------------------------------

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
                "link": self.link, "consent": self.consent}

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
                       link=data.get("link"), consent=data.get("consent") is True)
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


def evidence_url(cert_id: str, number: int) -> str:
    """The public page of one approved assignment on a certificate (the Evidence id in the credential)."""
    return f"{verify_url(cert_id)}/evidence/{number}"


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


# --- rendering and signing ---------------------------------------------------------------------------------

def site_url() -> str:
    """This issuer's base URL (the issuer id; credential, key and status list URLs start with it)."""
    return current_app.config["SITE_URL"]


def verify_url(cert_id: str) -> str:
    """The public verification URL printed on the certificate and encoded in its QR code."""
    return f"{site_url()}/verify/{cert_id}"


def exam_of(cert: Certificate) -> ExamResult | None:
    """The exam result frozen on the row, or None (no exam, or issued before results were frozen)."""
    if cert.exam_score is None or cert.exam_pass_mark is None:
        return None
    return ExamResult(pass_mark=cert.exam_pass_mark, score=cert.exam_score, name=cert.exam_name or None)


def snapshot_of(cert: Certificate, course: Course | None) -> CertificateSnapshot:
    """The frozen facts of a certificate row, for the credential and the PDF; `course` (None when it no longer
    exists) gives only the logo, everything else comes from the row."""
    logo = course.certificate.logo if course is not None else None
    entries = evidence_for(cert)
    return CertificateSnapshot(
        id=cert.id, recipient_name=cert.recipient_name or "", course_slug=cert.course_slug,
        course_title=cert.course_title, certificate_title=cert.certificate_title, issued_at=cert.issued_at,
        valid_until=cert.valid_until, content_fingerprint=cert.content_fingerprint, language=cert.language,
        issuer_name=current_app.config["ISSUER_NAME"], issuer_url=site_url(),
        signer_name=cert.signer_name, signer_role=cert.signer_role, verify_url=verify_url(cert.id),
        logo_path=Path(logo) if logo and Path(logo).is_file() else None,
        criteria_narrative=cert.criteria_narrative or None, exam=exam_of(cert),
        evidence=tuple(EvidenceItem(name=entry.record.name, task=entry.record.task,
                                    reviewer_comment=entry.record.reviewer_comment, url=entry.url,
                                    approved_at=entry.record.approved_at) for entry in entries if entry.shown),
        approved_assignments=tuple(entry.record.name for entry in entries if not entry.shown),
        status_index=cert.status_index,
    )


_keyring_lock = threading.Lock()


def keyring() -> KeyRing:
    """The signing keys, reloaded when the key file changes (rotation needs no restart)."""
    path = Path(current_app.config["SIGNING_KEY_FILE"])
    cache = current_app.extensions.setdefault("coaching.keyring", {})
    with _keyring_lock:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if cache.get("stamp") != stamp or "ring" not in cache:
            if stamp is None and current_app.config.get("PRODUCTION"):
                raise RuntimeError(f"signing key file {path} is missing (flask credentials init-key)")
            ring = KeyRing.load(path) if stamp is not None else KeyRing.load_or_create(path)
            cache.update(ring=ring, stamp=path.stat().st_mtime_ns)
        return cache["ring"]


def site_jwks() -> dict:
    """Every public key of this issuer (old ones after rotation too), each under its key URL and its thumbprint."""
    return keyring().jwks(site_url())


def public_jwk(thumbprint: str) -> dict | None:
    """The one public key a token's `kid` URL names, or None (unknown, or not a thumbprint)."""
    return keyring().public_jwk(thumbprint, site_url())


def sign(credential: dict) -> str:
    """Sign a credential of this issuer with the current key; the `kid` is that key's URL."""
    return sign_credential(credential, keyring(), issuer_url=site_url())


def _snapshot(cert: Certificate) -> CertificateSnapshot:
    """The snapshot of a row with its course as the current catalog has it (for the logo)."""
    return snapshot_of(cert, catalog().course(cert.course_slug))


def credential_of(cert: Certificate) -> dict:
    """The Open Badges 3.0 credential (unsigned JSON) of a certificate."""
    return build_credential(_snapshot(cert))


def criteria_of(cert: Certificate) -> str:
    """What earning the certificate took, in words and in the certificate's language, as the credential says."""
    return criteria_narrative(snapshot_of(cert, None))


def credential_jwt(cert: Certificate) -> str:
    """The signed VC-JWT of a certificate (RS256 signatures are deterministic, so this is stable per key).

    Signed on every request with the current key: after a rotation the same frozen facts carry the new key's
    signature, and tokens handed out before keep verifying because old keys stay published.
    """
    return sign(credential_of(cert))


def status_document(cert: Certificate, now: datetime | None = None) -> dict[str, Any]:
    """What `/verify/<id>/status.json` says: the current status with its times and reason, and where the
    credential's status list bit is (the status is not part of the signed credential)."""
    status = status_of(cert, now)
    document: dict[str, Any] = {
        "id": verify_url(cert.id),
        "status": status,
        "issued_at": iso_utc(cert.issued_at),
        "valid_until": iso_utc(cert.valid_until),
        "revoked_at": iso_utc(cert.revoked_at),
        "revocation_reason": cert.revoked_reason if cert.revoked_at else None,
        "withdrawn_at": iso_utc(cert.withdrawn_at),
        "status_list": None,
    }
    if cert.status_index is not None:
        number, position = divmod(cert.status_index, LIST_SIZE)
        document["status_list"] = {"url": status_list_url(number), "index": position,
                                   "set": cert.revoked_at is not None or cert.withdrawn_at is not None}
    return document


def certificate_pdf(cert: Certificate) -> bytes:
    """The certificate PDF with its signed credential attached, rendered on request.

    Nothing is kept: a PDF carries the holder's name, and an app server that stores none holds no one's data
    after they leave (deletion, withdrawal, revocation and key rotation need no clean-up anywhere).
    """
    snapshot = _snapshot(cert)
    token = sign(build_credential(snapshot))
    try:
        return render_certificate_pdf(snapshot, credential_jwt=token)
    except ValueError:
        # A course logo the renderer refuses (remote references, odd format) must not block the download.
        current_app.logger.warning("certificate %s: logo refused, rendering without it", cert.id)
        return render_certificate_pdf(replace(snapshot, logo_path=None), credential_jwt=token)


def qr_svg(url: str) -> str:
    """An inline SVG QR code of a public URL (the same code as on the PDF), kept per app: it never changes."""
    return app_cache("qr-svg", 1024).get_or_compute(
        url, lambda: segno.make(url, error="m").svg_inline(scale=3, border=2, title=None))


# --- the status list ---------------------------------------------------------------------------------------

MAX_LIST_NUMBER = (2**31 - 1) // LIST_SIZE  # status_index is an INTEGER column


def status_list_url(number: int) -> str:
    """The URL of status list `number` (the `statusListCredential` of the certificates in it)."""
    return f"{site_url()}{STATUS_PATH}{number}"


def parse_list_number(raw: str) -> int | None:
    """A status list number as written in its URL: ASCII digits, no leading zeros, in range; else None."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 5 or (raw != "0" and raw.startswith("0")):
        return None
    number = int(raw)
    return number if number <= MAX_LIST_NUMBER else None


def _in_list(number: int) -> Any:
    """The certificates whose status index lies in list `number` (a range on the unique index)."""
    return Certificate.status_index.between(number * LIST_SIZE, (number + 1) * LIST_SIZE - 1)


def _status_set() -> Any:
    """Revoked or withdrawn: the bit is set (the condition of the partial index `ix_certificates_status_set`)."""
    return or_(Certificate.revoked_at.is_not(None), Certificate.withdrawn_at.is_not(None))


def status_list_jwt(number: int) -> str | None:
    """Status list `number` as a signed BitstringStatusListCredential, or None when no certificate is in it.

    Built from the rows on every call, so a revocation or withdrawal shows on the next request: one index seek
    (does the list exist, and its first issue), one read of the set bits through the partial index
    `ix_certificates_status_set`, then GZIP and a signature (see bench/credentials.py for the figures). A set bit
    means revoked by a manager or withdrawn by the holder. `validFrom` is the list's last change (or its first
    issue), so the same state always gives the same token.
    """
    first_issued = db.session.scalar(select(Certificate.issued_at).where(_in_list(number))
                                     .order_by(Certificate.status_index).limit(1))
    if first_issued is None:
        return None
    revoked = db.session.scalars(select(Certificate.status_index).where(_in_list(number), _status_set())).all()
    changes = db.session.execute(select(func.max(Certificate.revoked_at), func.max(Certificate.withdrawn_at))
                                 .where(_in_list(number), _status_set())).one()
    valid_from = max(moment for moment in (first_issued, *changes) if moment is not None)
    credential = build_status_list_credential(site=site_url(), issuer_name=current_app.config["ISSUER_NAME"],
                                              number=number, revoked=revoked, valid_from=valid_from)
    return sign(credential)


def status_lookup(list_url: str, position: int) -> bool | None:
    """Whether the bit at `position` of a status list of this site is set (True), clear (False) or names no
    certificate (None): the database answer the status list itself would give."""
    prefix = site_url() + STATUS_PATH
    number = parse_list_number(list_url[len(prefix):]) if list_url.startswith(prefix) else None
    if number is None or not 0 <= position < LIST_SIZE:
        return None
    row = db.session.execute(select(Certificate.revoked_at, Certificate.withdrawn_at).where(
        Certificate.status_index == number * LIST_SIZE + position)).first()
    if row is None:
        return None
    return row.revoked_at is not None or row.withdrawn_at is not None


# --- verifying a certificate someone hands us -------------------------------------------------------------

@dataclass(frozen=True)
class FileVerdict:
    """The answer to an uploaded certificate PDF or JWT.

    `outcome`: valid, expired, revoked, withdrawn, not_issued_here, altered (signed facts differ from the record)
    or invalid; `checks` in order (the library's plus `record`); `file_error` the CredentialFileError code when no
    credential could be read; `certificate` the record the credential names; `differences` the altered facts.
    """

    outcome: str
    checks: tuple[Check, ...]
    file_error: str | None = None
    certificate: Certificate | None = None
    differences: tuple[Difference, ...] = field(default=())
    credential: dict | None = None


def _certificate_named(credential: dict) -> Certificate | None:
    """The certificate whose verification URL is the credential's id, or None."""
    credential_id = credential.get("id")
    prefix = f"{site_url()}/verify/"
    if not isinstance(credential_id, str) or not credential_id.startswith(prefix):
        return None
    raw = credential_id[len(prefix):]
    cert = find_certificate(raw)
    return cert if cert is not None and cert.id == raw else None


def _with_record(verdict: Verdict, checks: list[Check], now: datetime) -> FileVerdict:
    """Compare a credential whose signature held with the record, and settle the outcome."""
    credential = verdict.credential
    assert credential is not None
    cert = _certificate_named(credential)
    if cert is None:
        checks.append(Check("record", "failed", "no certificate with this id was issued here"))
        return FileVerdict("not_issued_here", tuple(checks), credential=credential)
    status = status_of(cert, now)
    if status == "withdrawn":
        checks.append(Check("record", "failed", f"certificate {cert.id} was withdrawn by its holder"))
        return FileVerdict("withdrawn", tuple(checks), certificate=cert, credential=credential)
    differences = credential_differences(credential, credential_of(cert))
    if differences:
        facts = ", ".join(difference.fact for difference in differences)
        checks.append(Check("record", "failed", f"signed facts differ from certificate {cert.id}: {facts}"))
        return FileVerdict("altered", tuple(checks), certificate=cert, differences=differences,
                           credential=credential)
    checks.append(Check("record", "ok", f"matches certificate {cert.id} (status: {status})"))
    if verdict.outcome == "invalid":
        outcome = "invalid"
    elif status == "revoked" or verdict.outcome == "revoked":
        outcome = "revoked"  # also for certificates issued before status lists: their credential has none
    elif status == "expired" or verdict.outcome == "expired":
        outcome = "expired"
    else:
        outcome = "valid"
    return FileVerdict(outcome, tuple(checks), certificate=cert, credential=credential)


def verify_certificate_file(data: bytes, *, now: datetime | None = None) -> FileVerdict:
    """Check an uploaded certificate PDF (or JWT file) against this site's keys, status and record.

    Reads the bytes in memory only and writes nothing anywhere. Every malformed or hostile file gives a verdict.
    """
    now = now or utcnow()
    try:
        token = read_credential_file(data)
    except CredentialFileError as error:
        skipped = tuple(Check(name, "skipped", "not checked: no credential could be read from the file")
                        for name in (*CHECK_NAMES[1:], "record"))
        return FileVerdict("invalid", (Check("file", "failed", str(error)), *skipped), file_error=error.code)
    source = "the PDF's credential.jwt attachment" if bytes(data[:5]) == b"%PDF-" else "a JWT file"
    verdict = verify_token(token, jwks=site_jwks(), issuer_url=site_url(), now=now, status_lookup=status_lookup)
    checks = [Check("file", "ok", f"read from {source}"), *verdict.checks]
    if verdict.credential is None:
        return FileVerdict(verdict.outcome, tuple(checks))
    return _with_record(verdict, checks, now)
