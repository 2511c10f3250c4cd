"""Verifying a certificate someone hands us: a PDF with ``credential.jwt`` attached, or the JWT itself.

Pure functions for the ``/verify`` upload form and ``flask credentials verify`` alike:

- reading the credential out of an uploaded PDF or JWT file is `files.py` (:func:`read_credential_file`).
- :func:`verify_token` checks a VC-JWT against this issuer's keys and, when given, a revocation source, and
  returns a :class:`Verdict`: an outcome and the list of checks, each ok / failed / skipped with a reason.
- :func:`verify_file` (the core of the CLI) combines both; :func:`exit_code` maps a verdict to 0 / 1.
- :func:`credential_differences` lists the signed facts that differ from the record ("altered"); reading
  the record is the service's job.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from coaching.credentials.files import (  # noqa: F401  (the verification API in one place)
    COMPACT_JWS,
    MAX_FILE_BYTES,
    CredentialFileError,
    parse_jwks,
    read_credential_file,
    read_credential_from_pdf,
)
from coaching.credentials.signing import (
    ALGORITHM,
    CLOCK_LEEWAY_SECONDS,
    CredentialVerificationError,
    UnknownKeyError,
    find_public_key,
    jwt_claims,
    kid_thumbprint,
)
from coaching.credentials.statuslist import STATUS_PATH, StatusBits, StatusListError, decode_list, parse_status_entry

__all__ = [
    "CHECK_NAMES",
    "OUTCOMES",
    "Check",
    "CredentialFileError",
    "Difference",
    "Verdict",
    "credential_differences",
    "exit_code",
    "format_verdict",
    "parse_jwks",
    "read_credential_file",
    "read_credential_from_pdf",
    "verify_file",
    "verify_token",
]

# A certificate's token is 3-6 KB; with several evidence entries (task texts, comments) it may grow to tens
# of KB. Anything that inflates beyond this is refused without being inflated further.
# pypdf's own limits (75 MB per stream by default) are far above what a certificate needs; these apply to
# whatever pypdf decodes while parsing (object and cross-reference streams), in this context only.

OUTCOMES = ("valid", "expired", "revoked", "not_issued_here", "invalid")
CHECK_NAMES = ("file", "format", "algorithm", "key", "signature", "issuer", "claims", "validity", "status")
OK, FAILED, SKIPPED = "ok", "failed", "skipped"



# --- the verdict ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One step of a verification: ``name`` (one of CHECK_NAMES), ``state`` ok / failed / skipped."""

    name: str
    state: str
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The outcome (one of OUTCOMES), every check in order, and the credential once its signature held."""

    outcome: str
    checks: tuple[Check, ...]
    credential: dict | None = None

    @property
    def signature_ok(self) -> bool:
        """Whether the issuer's key signed the token as it is (true for expired and revoked ones too)."""
        return any(check.name == "signature" and check.state == OK for check in self.checks)


def exit_code(verdict: Verdict) -> int:
    """The CLI's exit code: 0 for a valid credential, 1 for anything else."""
    return 0 if verdict.outcome == "valid" else 1


def format_verdict(verdict: Verdict) -> list[str]:
    """Lines for a terminal: the outcome, then one line per check."""
    lines = [f"outcome: {verdict.outcome}"]
    lines += [f"  {check.state:<8} {check.name:<10} {check.detail}" for check in verdict.checks]
    return lines


class _Stop(Exception):
    """A failed check that ends the verification with ``outcome``."""

    def __init__(self, outcome: str, detail: str) -> None:
        """Remember the outcome and the reason."""
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


class _Report:
    """Collects checks in CHECK_NAMES order; unreached ones become "skipped"."""

    def __init__(self) -> None:
        """Start with no checks."""
        self.checks: list[Check] = []

    def ok(self, name: str, detail: str) -> None:
        """Record a check that passed."""
        self.checks.append(Check(name, OK, detail))

    def failed(self, name: str, detail: str) -> None:
        """Record a check that failed."""
        self.checks.append(Check(name, FAILED, detail))

    def skipped(self, name: str, detail: str) -> None:
        """Record a check that could not or need not run."""
        self.checks.append(Check(name, SKIPPED, detail))

    def finish(self, outcome: str, credential: dict | None = None, reason: str = "") -> Verdict:
        """Return the verdict, marking every check not reached as skipped with ``reason``."""
        done = {check.name for check in self.checks}
        rest = [Check(name, SKIPPED, f"not checked: {reason}") for name in CHECK_NAMES
                if name not in done and name != "file"]
        return Verdict(outcome, tuple(self.checks + rest), credential)


def _b64url_json(segment: str) -> object:
    """Decode one base64url JSON segment of a JWS."""
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _same_site(a: object, b: str) -> bool:
    """Whether two issuer URLs are the same (a trailing slash aside)."""
    return isinstance(a, str) and a.rstrip("/") == b.rstrip("/")


def _moment(value: object) -> datetime | None:
    """A JWT NumericDate as an aware datetime, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _verify_signed(token: object, jwks: object, issuer_url: str, report: _Report, what: str) -> dict:
    """Run the format, algorithm, key, signature and issuer checks; return the payload or raise _Stop."""
    if not isinstance(token, str) or not COMPACT_JWS.fullmatch(token.strip()):
        report.failed("format", f"the {what} is not a compact JWT (three base64url parts)")
        raise _Stop("invalid", "not a JWT")
    token = token.strip()
    try:
        header = _b64url_json(token.split(".")[0])
    except (binascii.Error, ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        report.failed("format", f"the {what}'s header is not a JSON object")
        raise _Stop("invalid", "bad header")
    report.ok("format", f"the {what} is a compact JWT")

    alg = header.get("alg")
    if alg != ALGORITHM:
        report.failed("algorithm", f"algorithm {alg!r} is refused; only {ALGORITHM} is accepted")
        raise _Stop("invalid", "algorithm")
    if "crit" in header:
        report.failed("algorithm", "the header has critical extensions this verifier does not know")
        raise _Stop("invalid", "crit")
    report.ok("algorithm", f"signed with {ALGORITHM}")

    kid = header.get("kid")
    thumbprint = kid_thumbprint(kid, issuer_url)
    if thumbprint is None:
        if isinstance(kid, str) and kid_thumbprint(kid) is not None:
            report.failed("key", f"the key {kid} belongs to another site, not to {issuer_url}")
            raise _Stop("not_issued_here", "foreign key URL")
        report.failed("key", f"the header names no key of this issuer (kid {kid!r})")
        raise _Stop("invalid", "kid")
    try:
        key = find_public_key(thumbprint, jwks)
    except UnknownKeyError:
        report.failed("key", f"key {thumbprint} is not one of {issuer_url}'s keys")
        raise _Stop("not_issued_here", "unknown key") from None
    except CredentialVerificationError as exc:
        report.failed("key", f"the key set is unusable: {exc}")
        raise _Stop("invalid", "bad key") from None
    report.ok("key", f"key {thumbprint} of {issuer_url}")

    options = {"verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
               "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False}
    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options=options)
    except jwt.InvalidSignatureError:
        report.failed("signature", "the signature does not match: the content was changed or signed by another key")
        raise _Stop("invalid", "signature") from None
    except jwt.PyJWTError as exc:
        report.failed("signature", f"the token cannot be decoded: {exc}")
        raise _Stop("invalid", "decode") from None
    report.ok("signature", f"the {what} was signed by this key exactly as it is")

    issuer = payload.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not _same_site(payload.get("iss"), issuer_url) or not _same_site(issuer_id, issuer_url):
        report.failed("issuer", f"issued by {payload.get('iss')!r}, not by {issuer_url}")
        raise _Stop("not_issued_here", "issuer")
    report.ok("issuer", f"issued by {issuer_url}")
    return payload


def _check_claims(payload: dict, report: _Report, types: tuple[str, ...], what: str) -> None:
    """The registered claims equal the credential's fields, and the type is what we expect."""
    try:
        expected = jwt_claims(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        report.failed("claims", f"the payload is not {what} (id, issuer, subject or dates missing)")
        raise _Stop("invalid", "claims") from None
    wrong = [claim for claim, value in expected.items() if payload.get(claim) != value]
    if "exp" in payload and "exp" not in expected:
        wrong.append("exp")
    if wrong:
        report.failed("claims", f"claim {', '.join(wrong)} does not match the credential it carries")
        raise _Stop("invalid", "claims")
    kinds = payload.get("type")
    if not isinstance(kinds, list) or "VerifiableCredential" not in kinds or not set(types) & set(kinds):
        report.failed("claims", f"the payload is not {what} (type {kinds!r})")
        raise _Stop("invalid", "type")
    report.ok("claims", f"{what}; iss, jti, sub, nbf and exp match it")


def _validity(payload: dict, now: datetime, report: _Report) -> bool:
    """Check nbf/exp against ``now`` (60 s leeway); return False when expired, raise _Stop if not yet valid."""
    leeway = CLOCK_LEEWAY_SECONDS
    start, end = _moment(payload.get("nbf")), _moment(payload.get("exp"))
    if start is None or ("exp" in payload and end is None):
        report.failed("validity", "nbf or exp is not a date")
        raise _Stop("invalid", "dates")
    if (start - now).total_seconds() > leeway:
        report.failed("validity", f"not valid before {start:%Y-%m-%d %H:%M} UTC")
        raise _Stop("invalid", "not yet valid")
    if end is not None and (now - end).total_seconds() > leeway:
        report.failed("validity", f"expired on {end:%Y-%m-%d %H:%M} UTC")
        return False
    until = f" until {end:%Y-%m-%d}" if end is not None else ", without end date"
    report.ok("validity", f"valid from {start:%Y-%m-%d}{until}")
    return True


def _status_bits(status_list_jwt: str, *, jwks: object, issuer_url: str, now: datetime, list_url: str) -> StatusBits:
    """Verify a signed status list and return its bits; raise _Stop("invalid", reason) if it fails."""
    inner = _Report()
    try:
        payload = _verify_signed(status_list_jwt, jwks, issuer_url, inner, "status list")
        _check_claims(payload, inner, ("BitstringStatusListCredential",), "a status list credential")
        if not _validity(payload, now, inner):
            raise _Stop("invalid", "the status list given has expired; fetch a fresh one")
    except _Stop as stop:
        failed = [check.detail for check in inner.checks if check.state == FAILED]
        raise _Stop("invalid", failed[0] if failed else stop.detail) from None
    if payload.get("id") != list_url:
        raise _Stop("invalid", f"the status list given is {payload.get('id')!r}, the credential's is {list_url}")
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        raise _Stop("invalid", "the status list credential has no BitstringStatusList subject")
    if subject.get("statusPurpose") != "revocation":
        raise _Stop("invalid", f"the status list's purpose is {subject.get('statusPurpose')!r}, not revocation")
    try:
        return decode_list(subject.get("encodedList"))
    except StatusListError as exc:
        raise _Stop("invalid", f"the status list is malformed: {exc}") from None


def _status(payload: dict, report: _Report, *, jwks: object, issuer_url: str, now: datetime,
            status_lookup: Callable[[str, int], bool | None] | None, status_list_jwt: str | None) -> bool:
    """Check credentialStatus; return True when revoked."""
    if "credentialStatus" not in payload:
        report.skipped("status", "the credential carries no status entry (issued before status lists)")
        return False
    try:
        list_url, position = parse_status_entry(payload["credentialStatus"])
    except StatusListError as exc:
        report.failed("status", f"the status entry is malformed: {exc}")
        raise _Stop("invalid", "status entry") from None
    if not list_url.startswith(issuer_url.rstrip("/") + STATUS_PATH):
        report.failed("status", f"the status list {list_url} is not on {issuer_url}")
        raise _Stop("invalid", "status list elsewhere")
    where = f"position {position} of {list_url}"
    if status_lookup is not None:
        revoked = status_lookup(list_url, position)
        if revoked is None:
            report.skipped("status", f"{where} is not known to this record")
            return False
    elif status_list_jwt is not None:
        try:
            bits = _status_bits(status_list_jwt, jwks=jwks, issuer_url=issuer_url, now=now, list_url=list_url)
            revoked = bits.is_set(position)
        except StatusListError:
            report.failed("status", f"{where} is outside the status list given")
            raise _Stop("invalid", "status position") from None
        except _Stop as stop:
            report.failed("status", f"status list not verified: {stop.detail}")
            raise
    else:
        report.skipped("status", f"no status list given: revocation not checked ({where})")
        return False
    if revoked:
        report.failed("status", f"revoked or withdrawn ({where})")
        return True
    report.ok("status", f"not revoked ({where})")
    return False


def verify_token(token: object, *, jwks: object, issuer_url: str, now: datetime,
                 status_lookup: Callable[[str, int], bool | None] | None = None,
                 status_list_jwt: str | None = None) -> Verdict:
    """Verify a certificate VC-JWT issued by ``issuer_url`` and say what was checked.

    ``jwks``: this issuer's JWK Set (old keys included). Revocation: either ``status_lookup(list_url,
    position)`` answering True (revoked), False or None (unknown), or ``status_list_jwt``, the signed status
    list credential, verified with the same keys. Neither: the status check is skipped. Errors raised by
    ``status_lookup`` (a database failure) propagate: they are the caller's, not the credential's.
    Outcomes: valid, expired (signature good, end date passed), revoked, not_issued_here, invalid.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    report = _Report()
    payload = None  # set once signature and issuer held: only then is the content worth showing
    try:
        payload = _verify_signed(token, jwks, issuer_url, report, "credential")
        _check_claims(payload, report, ("OpenBadgeCredential", "AchievementCredential"), "an Open Badges credential")
        current = _validity(payload, now, report)
        revoked = _status(payload, report, jwks=jwks, issuer_url=issuer_url, now=now,
                          status_lookup=status_lookup, status_list_jwt=status_list_jwt)
    except _Stop as stop:
        return report.finish(stop.outcome, payload, "an earlier check failed")
    outcome = "revoked" if revoked else "valid" if current else "expired"
    return report.finish(outcome, payload)


def verify_file(data: bytes, *, jwks: object, issuer_url: str, now: datetime,
                status_list_jwt: str | None = None,
                status_lookup: Callable[[str, int], bool | None] | None = None) -> Verdict:
    """Verify a certificate PDF or a JWT file; the core of ``flask credentials verify FILE``.

    ``jwks`` from ``--keys`` (see :func:`parse_jwks`) or the site's key set, ``status_list_jwt`` the text of
    ``--status``. Print :func:`format_verdict` and exit with :func:`exit_code`.
    """
    try:
        token = read_credential_file(data)
    except CredentialFileError as exc:
        report = _Report()
        report.failed("file", str(exc))
        return report.finish("invalid", None, "no credential could be read from the file")
    source = "the PDF's credential.jwt attachment" if bytes(data[:5]) == b"%PDF-" else "a JWT file"
    verdict = verify_token(token, jwks=jwks, issuer_url=issuer_url, now=now, status_lookup=status_lookup,
                           status_list_jwt=status_list_jwt)
    return Verdict(verdict.outcome, (Check("file", OK, f"read from {source}"),) + verdict.checks,
                   verdict.credential)


# --- comparing with the record --------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One signed fact that differs from the record: ``fact`` names it, then both values as stated."""

    fact: str
    signed: object
    record: object


def _pick(document: object, *path: object) -> object:
    """Follow keys and list indexes through JSON; None where anything is missing."""
    for step in path:
        if isinstance(document, dict) and isinstance(step, str):
            document = document.get(step)
        elif isinstance(document, list) and isinstance(step, int) and -len(document) <= step < len(document):
            document = document[step]
        else:
            return None
    return document


_FACTS = (
    ("credential_id", ("id",)),
    ("recipient_name", ("credentialSubject", "name")),
    ("course", ("credentialSubject", "achievement", "name")),
    ("certificate_title", ("name",)),
    ("issued", ("validFrom",)),
    ("valid_until", ("validUntil",)),
    ("score", ("credentialSubject", "result", 0, "value")),
    ("pass_mark", ("credentialSubject", "achievement", "resultDescription", 0, "requiredValue")),
)


def credential_differences(signed: dict, record: dict) -> tuple[Difference, ...]:
    """The facts (id, name, course, title, dates, score, pass mark) where a signed credential and the one
    freshly built from the record disagree; empty when they agree. Any JSON is accepted."""
    differences = []
    for fact, path in _FACTS:
        ours, theirs = _pick(signed, *path), _pick(record, *path)
        if ours != theirs:
            differences.append(Difference(fact, ours, theirs))
    return tuple(differences)
