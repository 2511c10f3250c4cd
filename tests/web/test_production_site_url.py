"""In production the issuer's ids are https: a SITE_URL that is not https:// refuses to start with one message."""
from __future__ import annotations

import pytest

from coaching import create_app
from coaching.extensions import db
from config import ConfigError
from tests.conftest import make_config


@pytest.mark.parametrize("site", ["http://academy.example", "academy.example", "", "https://", "ftp://academy.example"])
def test_production_refuses_a_site_url_that_is_not_https(tmp_path, signing_key_file, monkeypatch, site):
    """COACHING_ENV=production with SITE_URL not https://<host>: the start is refused with one line naming SITE_URL
    (issuer, credential, subject and key ids all derive from it; coaching/startup.py holds every such check)."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    config = make_config(tmp_path, signing_key_file, PRODUCTION=True, SITE_URL=site, TRUSTED_HOSTS=["localhost"],
                         MAIL_BACKEND="log")
    with pytest.raises(ConfigError, match=r"SITE_URL must be the public https:// address in production"):
        create_app(config)


def test_production_starts_with_an_https_site_url_and_signs_with_it(tmp_path, signing_key_file, monkeypatch):
    """With https:// the app starts, and the credential's issuer and kid are https URLs."""
    monkeypatch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
    app = create_app(make_config(tmp_path, signing_key_file, PRODUCTION=True, SITE_URL="https://academy.example",
                                 TRUSTED_HOSTS=["academy.example"], MAIL_BACKEND="log"))
    try:
        with app.app_context():
            from coaching.services.credentials import sign

            db.create_all()
            token = sign({"@context": [], "id": "https://academy.example/verify/X", "type": ["VerifiableCredential"],
                          "issuer": {"id": "https://academy.example"}, "validFrom": "2026-11-25T10:00:00Z",
                          "credentialSubject": {"id": "https://academy.example/verify/X#recipient"}})
        import jwt

        assert jwt.get_unverified_header(token)["kid"].startswith("https://academy.example/.well-known/jwks/")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_development_accepts_http(app):
    """Outside production http://localhost is fine (the tests and `make run` use it)."""
    assert app.config["SITE_URL"] == "http://localhost"
