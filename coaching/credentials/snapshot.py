"""The frozen facts a certificate is rendered and signed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

LANGUAGES = ("en", "de")


def _as_utc(value: datetime, field: str) -> datetime:
    """Return an aware datetime converted to UTC; naive ones are refused."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be a timezone-aware datetime")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class CertificateSnapshot:
    """Everything printed on or signed into one certificate, copied at issue time."""

    id: str
    recipient_name: str
    course_slug: str
    course_title: str
    certificate_title: str
    issued_at: datetime
    valid_until: datetime | None
    content_fingerprint: str
    language: str
    issuer_name: str
    issuer_url: str
    signer_name: str | None
    signer_role: str | None
    verify_url: str
    logo_path: Path | None = None

    def __post_init__(self) -> None:
        """Check the language and store both dates in UTC."""
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {self.language!r}")
        # frozen=True forbids plain assignment; normalizing once here keeps every consumer simple.
        object.__setattr__(self, "issued_at", _as_utc(self.issued_at, "issued_at"))
        if self.valid_until is not None:
            object.__setattr__(self, "valid_until", _as_utc(self.valid_until, "valid_until"))
