"""Issuing certificates exactly once, their status, and the snapshot/credential/PDF built from a row.

This is the database-aware side of the certificate package; ids, signing and PDF stay pure.
"""
from __future__ import annotations

import calendar
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, text, update

from ..dbutil import insert_ignore
from ..extensions import db
from ..models import Certificate, User, utcnow
from .ids import new_certificate_id, normalize_certificate_id
from .openbadges import build_credential
from .pdf import render_certificate_pdf
from .signing import KeyRing, sign_credential
from .snapshot import CertificateSnapshot

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


def issue_certificate(user: User, course: Any, language: str, *, now: datetime | None = None) -> Certificate:
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


# --- rendering and signing ---------------------------------------------------------------------------------

def verify_url(cert_id: str) -> str:
    """The public verification URL printed on the certificate and encoded in its QR code."""
    return f"{current_app.config['SITE_URL']}/verify/{cert_id}"


def snapshot_of(cert: Certificate) -> CertificateSnapshot:
    """The frozen facts of a certificate row, for the credential and the PDF."""
    from ..learning import catalog

    course = catalog().course(cert.course_slug)
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


def credential_of(cert: Certificate) -> dict:
    """The Open Badges 3.0 credential (unsigned JSON) of a certificate."""
    return build_credential(snapshot_of(cert))


def credential_jwt(cert: Certificate) -> str:
    """The signed VC-JWT of a certificate (RS256 signatures are deterministic, so this is stable)."""
    return sign_credential(credential_of(cert), keyring())


class _PdfCache:
    """A small LRU of rendered PDFs: a certificate's PDF never changes once issued."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: tuple[str, str], value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_pdf_cache = _PdfCache()


def _disk_cache_path(cert_id: str, token: str) -> Path:
    """Where a rendered PDF is kept: one file per certificate and signature, shared by all workers."""
    digest = hashlib.sha256(token.encode("ascii")).hexdigest()[:20]
    return Path(current_app.instance_path) / "pdf-cache" / f"{cert_id}-{digest}.pdf"


def _read_disk_cache(path: Path) -> bytes | None:
    """A previously rendered PDF, or None."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write_disk_cache(path: Path, pdf: bytes) -> None:
    """Store a rendered PDF atomically (a reader never sees half a file); a full disk only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(pdf)
        os.replace(temp, path)
    except OSError as error:
        current_app.logger.warning("PDF cache not written: %s", error)


def certificate_pdf(cert: Certificate) -> bytes:
    """The certificate PDF with its signed credential attached.

    Rendering takes ~90 ms (font subsetting), so each PDF is rendered once: kept in this process's memory
    and in instance/pdf-cache/ for the other workers and restarts. The PDF of a certificate never changes;
    the signature is part of the key, so a rotated signing key gives a fresh file.
    """
    token = credential_jwt(cert)
    key = (cert.id, token[-32:])
    cached = _pdf_cache.get(key)
    if cached is None:
        disk = _disk_cache_path(cert.id, token)
        cached = _read_disk_cache(disk)
        if cached is not None:
            _pdf_cache.put(key, cached)
            return cached
        snapshot = snapshot_of(cert)
        try:
            cached = render_certificate_pdf(snapshot, credential_jwt=token)
        except ValueError:
            # A course logo the renderer refuses (remote references, odd format) must not block the download.
            current_app.logger.warning("certificate %s: logo refused, rendering without it", cert.id)
            cached = render_certificate_pdf(replace(snapshot, logo_path=None), credential_jwt=token)
        _pdf_cache.put(key, cached)
        _write_disk_cache(disk, cached)
    return cached


__all__ = ["issue_certificate", "find_certificate", "revoke", "status_of", "certificates_of", "certificate_pdf",
           "credential_of", "credential_jwt", "keyring", "normalize_certificate_id", "current_certificate"]
