"""Verifying a certificate someone hands us (an uploaded PDF or JWT): the pure check plus the record."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..credentials.files import CredentialFileError, read_credential_file
from ..credentials.verify import CHECK_NAMES, Check, Difference, Verdict, credential_differences, verify_token
from ..models import Certificate, utcnow
from .certificates import find_certificate, status_of
from .credentials import credential_of, site_jwks, status_lookup
from .links import site_url


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
