"""The credential, JWT, PDF and status list built from certificate rows, signed with the site's keys (the pure
drawing and signing live in `coaching.credentials`)."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from flask import current_app
from sqlalchemy import func, or_, select

from ..caches import app_cache
from ..content import Course
from ..credentials.openbadges import build_credential, criteria_narrative
from ..credentials.pdf import render_certificate_pdf
from ..credentials.signing import KeyRing, sign_credential
from ..credentials.snapshot import CertificateSnapshot, EvidenceItem, ExamResult
from ..credentials.statuslist import LIST_SIZE, STATUS_PATH, build_status_list_credential
from ..extensions import db
from ..models import Certificate, iso_utc
from .catalog import catalog
from .certificates import status_of
from .evidence import evidence_for
from .links import site_url, status_list_url, verify_url


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




MAX_LIST_NUMBER = (2**31 - 1) // LIST_SIZE  # status_index is an INTEGER column


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
