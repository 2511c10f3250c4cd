"""Key files, the JWKS, and VC-JWT signing checked with an independent JOSE library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet, RSAKey

from coaching.credentials.signing import (
    CredentialVerificationError,
    KeyFileError,
    KeyRing,
    UnknownKeyError,
    build_credential,
    init_key_file,
    sign_credential,
    verify_credential_jwt,
)

from .conftest import make_snapshot


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj: dict) -> str:
    """Base64url of compact JSON."""
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def unverified(token: str) -> tuple[dict, dict]:
    """Decode header and payload without checking anything."""
    head, body, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(head))),
            json.loads(base64.urlsafe_b64decode(pad(body))))


@pytest.fixture(scope="module")
def token(keyring):
    """A credential signed with the test key ring."""
    return sign_credential(build_credential(make_snapshot()), keyring)


# --- key files ------------------------------------------------------------------------------


def test_key_file_is_private_and_well_formed(key_file, keyring):
    """The key file is mode 0600 JSON with current, and kid/created/private_pem per key."""
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    data = json.loads(key_file.read_text())
    assert data["current"] == keyring.current
    (entry,) = data["keys"]
    assert set(entry) == {"kid", "created", "private_pem"}
    assert entry["private_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    datetime.fromisoformat(entry["created"].replace("Z", "+00:00"))


def test_kid_is_the_rfc7638_thumbprint(keyring):
    """The kid equals the JWK thumbprint computed by joserfc."""
    (jwk,) = keyring.jwks()["keys"]
    assert RSAKey.import_key(jwk).thumbprint() == keyring.current == jwk["kid"]


def test_jwks_holds_public_keys_only(keyring):
    """The JWKS has kty, n, e, kid, alg and use, and no private member."""
    (jwk,) = keyring.jwks()["keys"]
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["alg"], jwk["use"], jwk["e"]) == ("RSA", "RS256", "sig", "AQAB")
    assert json.loads(json.dumps(keyring.jwks())) == keyring.jwks()


def test_init_refuses_to_overwrite(key_file):
    """A second init without rotate raises and leaves the file untouched."""
    before = key_file.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        init_key_file(key_file, key_size=2048)
    assert key_file.read_bytes() == before
    assert not [p for p in key_file.parent.iterdir() if p.name.startswith(".signing-key-")]


def test_rotation_keeps_old_credentials_verifying(tmp_path):
    """After rotation new tokens use the new kid and old tokens still verify."""
    path = tmp_path / "keys.json"
    old_kid = init_key_file(path, key_size=2048)
    credential = build_credential(make_snapshot())
    old_token = sign_credential(credential, KeyRing.load(path))

    new_kid = init_key_file(path, rotate=True, key_size=2048)
    ring = KeyRing.load(path)
    assert new_kid != old_kid and ring.current == new_kid
    assert {k["kid"] for k in ring.jwks()["keys"]} == {old_kid, new_kid}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    new_token = sign_credential(credential, ring)
    assert unverified(new_token)[0]["kid"] == new_kid
    for tok in (old_token, new_token):
        assert verify_credential_jwt(tok, ring.jwks())["jti"] == credential["id"]
        jose_jwt.decode(tok, KeySet.import_key_set(ring.jwks()), algorithms=["RS256"])


def test_rotate_needs_an_existing_file(tmp_path):
    """Rotating a missing key file is an error, not a silent create."""
    with pytest.raises(KeyFileError, match="does not exist"):
        init_key_file(tmp_path / "missing.json", rotate=True, key_size=2048)


def test_load_refuses_a_key_file_others_can_read(tmp_path):
    """A group- or world-readable key file is refused with a chmod hint."""
    path = tmp_path / "keys.json"
    init_key_file(path, key_size=2048)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        KeyRing.load(path)


def test_load_rejects_a_kid_that_does_not_match_its_key(tmp_path):
    """An edited kid is detected on load."""
    path = tmp_path / "keys.json"
    init_key_file(path, key_size=2048)
    data = json.loads(path.read_text())
    data["keys"][0]["kid"] = data["current"] = "forged"
    path.write_text(json.dumps(data))
    with pytest.raises(KeyFileError, match="does not match"):
        KeyRing.load(path)


@pytest.mark.parametrize("content", ["", "{}", "[]", '{"keys": []}', "not json",
                                     '{"current": "x", "keys": [{"kid": "x"}]}'])
def test_load_rejects_malformed_files(tmp_path, content):
    """Broken key files give KeyFileError, never a traceback from deep inside."""
    path = tmp_path / "keys.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        KeyRing.load(path)


def test_load_or_create_creates_once_then_reuses(tmp_path):
    """Development convenience: the first call creates a 3072-bit key, later calls load it."""
    path = tmp_path / "instance" / "keys.json"
    first = KeyRing.load_or_create(path)
    second = KeyRing.load_or_create(path)
    assert first.current == second.current
    assert first.current_key.key_size == 3072
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- tokens ---------------------------------------------------------------------------------


def test_token_verifies_with_joserfc_against_the_jwks(token, keyring):
    """An independent JOSE library accepts the token with the published key."""
    decoded = jose_jwt.decode(token, KeySet.import_key_set(keyring.jwks()), algorithms=["RS256"])
    assert decoded.header == {"alg": "RS256", "kid": keyring.current, "typ": "JWT"}
    claims = decoded.claims
    assert claims["iss"] == claims["issuer"]["id"] == "https://academy.example"
    assert claims["jti"] == claims["id"]
    assert claims["sub"] == claims["credentialSubject"]["id"]
    assert claims["nbf"] == int(datetime(2026, 11, 25, 10, 30, 15, tzinfo=UTC).timestamp())
    assert "exp" not in claims and "vc" not in claims
    jose_jwt.JWTClaimsRegistry(iss={"essential": True, "value": "https://academy.example"}).validate(claims)


def test_exp_claim_follows_valid_until(keyring):
    """validUntil becomes exp, and an expired credential fails unless dates are not checked."""
    past = datetime.now(UTC) - timedelta(days=2)
    snap = make_snapshot(issued_at=past - timedelta(days=365), valid_until=past)
    tok = sign_credential(build_credential(snap), keyring)
    assert unverified(tok)[1]["exp"] == int(past.replace(microsecond=0).timestamp())
    with pytest.raises(CredentialVerificationError, match="expired"):
        verify_credential_jwt(tok, keyring.jwks())
    assert verify_credential_jwt(tok, keyring.jwks(), check_dates=False)["validUntil"]


def test_verify_returns_the_credential(token, keyring):
    """The verified payload is the credential plus the registered claims."""
    payload = verify_credential_jwt(token, keyring.jwks())
    credential = build_credential(make_snapshot())
    assert {k: payload[k] for k in credential} == credential


def test_signing_is_deterministic(keyring):
    """The same credential and key give the same token (so PDFs stay byte-identical)."""
    credential = build_credential(make_snapshot())
    assert sign_credential(credential, keyring) == sign_credential(credential, keyring)


def test_tampered_payload_fails(token, keyring):
    """Changing the recipient's name in the payload breaks the signature."""
    head, _, sig = token.split(".")
    payload = unverified(token)[1]
    payload["credentialSubject"]["name"] = "Mallory"
    forged = f"{head}.{b64url_json(payload)}.{sig}"
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(forged, keyring.jwks())


def test_flipped_signature_fails(token, keyring):
    """A changed signature byte is refused."""
    head, body, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[10] ^= 1
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(f"{head}.{body}.{b64url(bytes(raw))}", keyring.jwks())


def test_token_from_another_issuer_has_an_unknown_kid(other_keyring, keyring):
    """Another key ring's token names a kid this JWKS does not have."""
    tok = sign_credential(build_credential(make_snapshot()), other_keyring)
    with pytest.raises(UnknownKeyError):
        verify_credential_jwt(tok, keyring.jwks())


def test_wrong_key_under_the_right_kid_fails(other_keyring, keyring):
    """A token signed by another key but claiming our kid fails the signature check."""
    payload = unverified(sign_credential(build_credential(make_snapshot()), keyring))[1]
    forged = pyjwt.encode(payload, other_keyring.current_key, algorithm="RS256",
                          headers={"kid": keyring.current, "typ": "JWT"})
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(forged, keyring.jwks())


def test_alg_none_fails(token, keyring):
    """An unsigned token (alg none) is refused."""
    payload = unverified(token)[1]
    for alg in ("none", "None", "NONE"):
        forged = f"{b64url_json({'alg': alg, 'kid': keyring.current})}.{b64url_json(payload)}."
        with pytest.raises(CredentialVerificationError):
            verify_credential_jwt(forged, keyring.jwks())


def test_hs256_with_the_public_key_as_secret_fails(token, keyring):
    """The RS256/HS256 confusion attack (public key used as an HMAC secret) is refused."""
    payload = unverified(token)[1]
    public_pem = keyring.current_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (jwk,) = keyring.jwks()["keys"]
    for secret in (public_pem, json.dumps(jwk).encode(), jwk["n"].encode()):
        head = b64url_json({"alg": "HS256", "kid": keyring.current, "typ": "JWT"})
        signing_input = f"{head}.{b64url_json(payload)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(CredentialVerificationError):
            verify_credential_jwt(f"{signing_input}.{b64url(mac)}", keyring.jwks())


def test_claims_must_match_the_credential(keyring):
    """A validly signed token whose jti differs from the credential id is refused."""
    credential = build_credential(make_snapshot())
    payload = unverified(sign_credential(credential, keyring))[1]
    payload["jti"] = "https://academy.example/verify/SOMETHING-ELSE"
    forged = pyjwt.encode(payload, keyring.current_key, algorithm="RS256",
                          headers={"kid": keyring.current, "typ": "JWT"})
    with pytest.raises(CredentialVerificationError, match="jti"):
        verify_credential_jwt(forged, keyring.jwks())


@pytest.mark.parametrize("garbage", ["", "not a token", "a.b.c", "...", "eyJ.eyJ.x", None, 7])
def test_garbage_is_refused_cleanly(garbage, keyring):
    """Malformed input raises CredentialVerificationError and nothing else."""
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(garbage, keyring.jwks())


def test_empty_jwks_means_unknown_key(token):
    """Without keys nothing verifies."""
    with pytest.raises(UnknownKeyError):
        verify_credential_jwt(token, {"keys": []})


@pytest.mark.parametrize("jwks", [None, {}, {"keys": None}, {"keys": ["x", 1]}, []])
def test_malformed_key_sets_mean_unknown_key(token, jwks):
    """A broken JWK Set is treated as having no keys."""
    with pytest.raises(UnknownKeyError):
        verify_credential_jwt(token, jwks)


def test_malformed_key_under_the_right_kid_fails_cleanly(token, keyring):
    """A key with the right kid but a broken modulus gives CredentialVerificationError."""
    (jwk,) = keyring.jwks()["keys"]
    with pytest.raises(CredentialVerificationError):
        verify_credential_jwt(token, {"keys": [{**jwk, "n": "!!"}]})


def test_create_without_hard_links_still_refuses_overwrite(tmp_path, monkeypatch):
    """On mounts without link(), creation falls back to an exclusive create (still 0600)."""
    import os

    def no_links(src, dst):
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "keys.json"
    init_key_file(path, key_size=2048)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.load(path).current
    with pytest.raises(KeyFileError, match="already exists"):
        init_key_file(path, key_size=2048)
