"""Fixtures for the certificate core: a 2048-bit key ring, snapshots, external tools."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from coaching.credentials.signing import KeyRing, init_key_file
from coaching.credentials.snapshot import CertificateSnapshot

CERT_ID = "K7QF-2M9X-4HTA-W8PD-R3"
ISSUED_AT = datetime(2026, 11, 25, 10, 30, 15, tzinfo=UTC)


def require_tool(name: str) -> str:
    """Return the path of a command-line tool; skip loudly without it, fail on CI."""
    path = shutil.which(name)
    if path:
        return path
    message = f"!!! {name} IS NOT INSTALLED: this check did not run (apt-get install poppler-utils zbar-tools openssl) !!!"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def key_file(tmp_path_factory):
    """A key file with one 2048-bit key (3072 is the default; 2048 keeps tests quick)."""
    path = tmp_path_factory.mktemp("keys") / "signing-keys.json"
    init_key_file(path, key_size=2048)
    return path


@pytest.fixture(scope="session")
def keyring(key_file):
    """The key ring loaded from ``key_file``."""
    return KeyRing.load(key_file)


@pytest.fixture(scope="session")
def other_keyring(tmp_path_factory):
    """An unrelated issuer's key ring."""
    path = tmp_path_factory.mktemp("other") / "keys.json"
    init_key_file(path, key_size=2048)
    return KeyRing.load(path)


def make_snapshot(**overrides) -> CertificateSnapshot:
    """Build a realistic snapshot; keyword arguments replace fields."""
    base = CertificateSnapshot(
        id=CERT_ID,
        recipient_name="Zoë Müller-Lüdenscheidt Ñúñez",
        course_slug="copywriting",
        course_title="Copywriting that converts",
        certificate_title="Certificate of Completion",
        issued_at=ISSUED_AT,
        valid_until=None,
        content_fingerprint="sha256:3f1c0a9e",
        language="en",
        issuer_name="Affiliate Academy",
        issuer_url="https://academy.example",
        signer_name="Jana Becker",
        signer_role="Head of Partner Training",
        verify_url=f"https://academy.example/verify/{CERT_ID}",
        logo_path=None,
    )
    return replace(base, **overrides)


@pytest.fixture
def snapshot() -> CertificateSnapshot:
    """The default English snapshot."""
    return make_snapshot()
