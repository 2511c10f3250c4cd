"""The Open Badges 3.0 credential built from a snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from coaching.credentials.signing import build_credential

from .conftest import CERT_ID, make_snapshot


def test_credential_has_the_ob3_envelope(snapshot):
    """Contexts, types, id, issuer, name and validFrom follow OB 3.0 / VC 2.0."""
    cred = build_credential(snapshot)
    assert cred["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["id"] == f"https://academy.example/verify/{CERT_ID}"
    assert cred["issuer"] == {
        "id": "https://academy.example",
        "type": ["Profile"],
        "name": "Affiliate Academy",
    }
    assert cred["name"] == "Certificate of Completion"
    assert cred["validFrom"] == "2026-11-25T10:30:15Z"
    assert "validUntil" not in cred
    assert "proof" not in cred  # the VC-JWT is the proof
    assert cred["credentialSchema"][0]["type"] == "1EdTechJsonSchemaValidator2019"


def test_credential_subject_and_achievement(snapshot):
    """The subject names the recipient and carries the course as an Achievement."""
    subject = build_credential(snapshot)["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"] == f"https://academy.example/verify/{CERT_ID}#recipient"
    assert subject["name"] == "Zoë Müller-Lüdenscheidt Ñúñez"
    assert subject["identifier"] == [{
        "type": "IdentityObject",
        "identityHash": "Zoë Müller-Lüdenscheidt Ñúñez",
        "identityType": "name",
        "hashed": False,
    }]
    achievement = subject["achievement"]
    assert achievement["id"] == "https://academy.example/courses/copywriting#achievement"
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == "Copywriting that converts"
    assert "Copywriting that converts" in achievement["description"]
    assert achievement["criteria"]["narrative"].startswith("Completed every lesson and passed every quiz")
    assert achievement["version"] == "sha256:3f1c0a9e"


def test_valid_until_is_included_when_set():
    """A limited certificate carries validUntil in UTC with a Z."""
    snap = make_snapshot(valid_until=datetime(2028, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    assert build_credential(snap)["validUntil"] == "2028-11-25T10:00:00Z"


def test_german_certificate_has_german_texts():
    """Description and criteria follow the certificate's language."""
    achievement = build_credential(make_snapshot(language="de"))["credentialSubject"]["achievement"]
    assert achievement["description"].startswith("Verliehen für den Abschluss des Kurses")
    assert achievement["criteria"]["narrative"].startswith("Alle Lektionen")


def test_issuer_url_with_trailing_slash_gives_a_clean_achievement_id():
    """No double slash in the achievement URL."""
    cred = build_credential(make_snapshot(issuer_url="https://academy.example/"))
    assert cred["credentialSubject"]["achievement"]["id"] == (
        "https://academy.example/courses/copywriting#achievement"
    )


def test_credential_is_plain_json(snapshot):
    """The credential round-trips through JSON unchanged."""
    cred = build_credential(snapshot)
    assert json.loads(json.dumps(cred)) == cred


def test_snapshot_refuses_naive_datetimes_and_unknown_languages():
    """Naive dates and languages other than en/de are rejected when the snapshot is built."""
    with pytest.raises(ValueError):
        make_snapshot(issued_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        make_snapshot(valid_until=datetime(2027, 1, 1))
    with pytest.raises(ValueError):
        make_snapshot(language="fr")


def test_snapshot_stores_dates_in_utc():
    """An aware date in another zone is converted to UTC."""
    snap = make_snapshot(issued_at=datetime(2026, 11, 25, 12, 30, 15, tzinfo=timezone(timedelta(hours=2))))
    assert snap.issued_at.tzinfo == UTC and snap.issued_at.hour == 10
