"""Build the Open Badges 3.0 ``OpenBadgeCredential`` for a certificate snapshot."""

from __future__ import annotations

from datetime import datetime, timezone

from coaching.credentials.snapshot import CertificateSnapshot

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}

_TEXTS = {
    "en": {
        "description": "Awarded for completing the course “{course}” at {issuer}.",
        "criteria": "Completed every lesson and passed every quiz of the course “{course}”.",
    },
    "de": {
        "description": "Verliehen für den Abschluss des Kurses „{course}“ bei {issuer}.",
        "criteria": "Alle Lektionen des Kurses „{course}“ abgeschlossen und alle Quizze bestanden.",
    },
}


def iso_z(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with a Z, to the second."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def achievement_id(snapshot: CertificateSnapshot) -> str:
    """Return the stable URL of the course's achievement (its public course page)."""
    return f"{snapshot.issuer_url.rstrip('/')}/courses/{snapshot.course_slug}#achievement"


def subject_id(snapshot: CertificateSnapshot) -> str:
    """Return the recipient's id: a fragment of the public verification page."""
    # OB 3.0 wants credentialSubject.id to equal the JWT `sub`; we know no DID or email worth
    # publishing, so the recipient is "the person this verification page names".
    return f"{snapshot.verify_url}#recipient"


def _achievement(snapshot: CertificateSnapshot) -> dict:
    """Describe what was achieved, in the certificate's language."""
    texts = _TEXTS[snapshot.language]
    fields = {"course": snapshot.course_title, "issuer": snapshot.issuer_name}
    achievement = {
        "id": achievement_id(snapshot),
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": snapshot.course_title,
        "description": texts["description"].format(**fields),
        "criteria": {"narrative": texts["criteria"].format(**fields)},
        "inLanguage": snapshot.language,
    }
    if snapshot.content_fingerprint:
        # The course content the learner completed; changes whenever the lessons change.
        achievement["version"] = snapshot.content_fingerprint
    return achievement


def _subject(snapshot: CertificateSnapshot) -> dict:
    """Describe the recipient: by display name and as an unhashed name IdentityObject."""
    return {
        "id": subject_id(snapshot),
        "type": ["AchievementSubject"],
        "name": snapshot.recipient_name,
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": snapshot.recipient_name,
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": _achievement(snapshot),
    }


def build_credential(snapshot: CertificateSnapshot) -> dict:
    """Return the unsigned OpenBadgeCredential (a JSON-ready dict) for a snapshot."""
    credential = {
        "@context": list(CONTEXTS),
        "id": snapshot.verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": snapshot.issuer_url, "type": ["Profile"], "name": snapshot.issuer_name},
        "name": snapshot.certificate_title,
        "validFrom": iso_z(snapshot.issued_at),
    }
    if snapshot.valid_until is not None:
        credential["validUntil"] = iso_z(snapshot.valid_until)
    credential["credentialSubject"] = _subject(snapshot)
    credential["credentialSchema"] = [dict(SCHEMA)]
    return credential
