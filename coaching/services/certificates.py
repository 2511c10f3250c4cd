"""Certificates: issuing exactly once, status, revocation, lookups with their access rules, and the
credential and PDF built from a row (the pure drawing and signing live in `coaching.credentials`)."""
from __future__ import annotations

import calendar
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from flask import current_app
from sqlalchemy import select, text, update

from ..caches import app_cache
from ..content import Course
from ..credentials.ids import new_certificate_id, normalize_certificate_id
from ..credentials.openbadges import build_credential
from ..credentials.pdf import render_certificate_pdf
from ..credentials.signing import KeyRing, sign_credential
from ..credentials.snapshot import CertificateSnapshot
from ..extensions import db
from ..models import Certificate, User, utcnow
from .catalog import catalog
from .db import insert_ignore

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


def issue_certificate(user: User, course: Course, language: str, *, now: datetime | None = None) -> Certificate:
    """Issue the course certificate once; a unique index makes concurrent calls end with one row.

    After expiry or revocation a completion issues a new certificate with a new id.
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


# --- rendering and signing ---------------------------------------------------------------------------------

def verify_url(cert_id: str) -> str:
    """The public verification URL printed on the certificate and encoded in its QR code."""
    return f"{current_app.config['SITE_URL']}/verify/{cert_id}"


def snapshot_of(cert: Certificate, course: Course | None) -> CertificateSnapshot:
    """The frozen facts of a certificate row, for the credential and the PDF; `course` (None when it no longer
    exists) gives only the logo, everything else comes from the row."""
    logo = course.certificate.logo if course is not None else None
    return CertificateSnapshot(
        id=cert.id, recipient_name=cert.recipient_name or "", course_slug=cert.course_slug,
        course_title=cert.course_title, certificate_title=cert.certificate_title, issued_at=cert.issued_at,
        valid_until=cert.valid_until, content_fingerprint=cert.content_fingerprint, language=cert.language,
        issuer_name=current_app.config["ISSUER_NAME"], issuer_url=current_app.config["SITE_URL"],
        signer_name=cert.signer_name, signer_role=cert.signer_role, verify_url=verify_url(cert.id),
        logo_path=Path(logo) if logo and Path(logo).is_file() else None,
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


def _snapshot(cert: Certificate) -> CertificateSnapshot:
    """The snapshot of a row with its course as the current catalog has it (for the logo)."""
    return snapshot_of(cert, catalog().course(cert.course_slug))


def credential_of(cert: Certificate) -> dict:
    """The Open Badges 3.0 credential (unsigned JSON) of a certificate."""
    return build_credential(_snapshot(cert))


def credential_jwt(cert: Certificate) -> str:
    """The signed VC-JWT of a certificate (RS256 signatures are deterministic, so this is stable)."""
    return sign_credential(credential_of(cert), keyring())


def certificate_pdf(cert: Certificate) -> bytes:
    """The certificate PDF with its signed credential attached, rendered on request.

    Nothing is kept: a PDF carries the holder's name, and an app server that stores none holds no one's data
    after they leave (deletion, withdrawal, revocation and key rotation need no clean-up anywhere).
    """
    snapshot = _snapshot(cert)
    token = sign_credential(build_credential(snapshot), keyring())
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
