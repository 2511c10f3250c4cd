"""The frozen facts a certificate is rendered and signed from."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

LANGUAGES = ("en", "de")


def _as_utc(value: datetime, field_name: str) -> datetime:
    """Return an aware datetime converted to UTC; naive ones are refused."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field_name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with a Z, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _percent(value: object, field_name: str) -> float | int:
    """Return a percentage between 0 and 100 (int or float, never bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{field_name} must be a number, not {value!r}")
    if not 0 <= value <= 100:
        raise ValueError(f"{field_name} must be between 0 and 100, not {value!r}")
    return value


def _text(value: object, field_name: str, *, empty: bool = False) -> str:
    """Return a string, refusing other types (and empty strings unless allowed)."""
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ValueError(f"{field_name} must be a{'' if empty else ' non-empty'} string")
    return value


@dataclass(frozen=True)
class ExamResult:
    """The exam the certificate required: its pass mark and the score reached, both in percent."""

    pass_mark: float | int
    score: float | int
    name: str | None = None  # e.g. "Final exam"; None: a generic "Exam score" in the certificate's language

    def __post_init__(self) -> None:
        """Check both values are percentages."""
        _percent(self.pass_mark, "pass_mark")
        _percent(self.score, "score")
        if self.name is not None:
            _text(self.name, "name")


@dataclass(frozen=True)
class EvidenceItem:
    """One approved assignment the holder agreed to show on the certificate.

    ``url`` is its public page, ``/verify/<id>/evidence/<n>``; ``task`` the assignment as set (Markdown),
    ``reviewer_comment`` the reviewer's overall comment on the approved version.
    """

    name: str
    task: str
    reviewer_comment: str
    url: str
    approved_at: datetime | None = None

    def __post_init__(self) -> None:
        """Check the texts and store the approval time in UTC."""
        _text(self.name, "evidence name")
        _text(self.task, "evidence task")
        _text(self.reviewer_comment, "reviewer_comment", empty=True)
        if not _text(self.url, "evidence url").startswith(("https://", "http://")):
            raise ValueError("evidence url must be an http(s) URL")
        if self.approved_at is not None:
            object.__setattr__(self, "approved_at", _as_utc(self.approved_at, "approved_at"))


@dataclass(frozen=True)
class CertificateSnapshot:
    """Everything printed on or signed into one certificate, copied at issue time.

    The fields after ``logo_path`` came with issue 17/18 and default to "not stated", so snapshots of
    certificates issued before keep building the same credential.
    """

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
    # The course's own words for what earning it takes; None: the standard sentence in the language.
    criteria_narrative: str | None = None
    exam: ExamResult | None = None
    # Approved assignments shown as evidence (only with the holder's consent; the service decides).
    evidence: tuple[EvidenceItem, ...] = field(default=())
    # Approved assignments named in the criteria narrative only (the consent-free minimum).
    approved_assignments: tuple[str, ...] = field(default=())
    # The certificate's global Bitstring Status List index; None: no credentialStatus (older certificates).
    status_index: int | None = None

    def __post_init__(self) -> None:
        """Check the language and the optional facts; store every date in UTC."""
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {self.language!r}")
        # frozen=True forbids plain assignment; normalizing once here keeps every consumer simple.
        object.__setattr__(self, "issued_at", _as_utc(self.issued_at, "issued_at"))
        if self.valid_until is not None:
            object.__setattr__(self, "valid_until", _as_utc(self.valid_until, "valid_until"))
        if self.criteria_narrative is not None:
            _text(self.criteria_narrative, "criteria_narrative")
        if self.exam is not None and not isinstance(self.exam, ExamResult):
            raise ValueError("exam must be an ExamResult")
        # Lists become tuples so the snapshot stays hashable and frozen all the way down.
        object.__setattr__(self, "evidence", tuple(self.evidence))
        if not all(isinstance(item, EvidenceItem) for item in self.evidence):
            raise ValueError("evidence must hold EvidenceItem objects")
        object.__setattr__(self, "approved_assignments", tuple(self.approved_assignments))
        for name in self.approved_assignments:
            _text(name, "approved assignment name")
        index = self.status_index
        if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
            raise ValueError(f"status_index must be a non-negative integer, not {index!r}")
