"""The ``kid`` is a key URL that dereferences to one public JWK; old bare-thumbprint kids keep verifying."""

from __future__ import annotations

import base64
import json

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet, RSAKey

from coaching.credentials.signing import (
    KeyRing,
    UnknownKeyError,
    build_credential,
    init_key_file,
    key_url,
    kid_thumbprint,
    sign_credential,
    verify_credential_jwt,
)

from .conftest import make_snapshot

SITE = "https://academy.example"


def header_of(token: str) -> dict:
    """The token's header, unverified."""
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def dereference(kid: str, keyring: KeyRing) -> dict:
    """What GET on the kid URL answers: the one public JWK (what the web route will serve)."""
    assert kid.startswith(f"{SITE}/.well-known/jwks/")
    jwk = keyring.public_jwk(kid.rsplit("/", 1)[1], SITE)
    assert jwk is not None
    return jwk


@pytest.fixture(scope="module")
def url_token(keyring):
    """A credential signed with a key-URL kid."""
    return sign_credential(build_credential(make_snapshot()), keyring, issuer_url=SITE)


def test_kid_is_the_key_url_with_the_thumbprint_last(url_token, keyring):
    """The header's kid is {site}/.well-known/jwks/{RFC 7638 thumbprint}."""
    kid = header_of(url_token)["kid"]
    assert kid == f"{SITE}/.well-known/jwks/{keyring.current}" == key_url(SITE + "/", keyring.current)
    assert header_of(url_token) == {"alg": "RS256", "kid": kid, "typ": "JWT"}


def test_joserfc_verifies_with_the_jwk_fetched_by_kid(url_token, keyring):
    """A second JOSE library verifies the token with the single JWK the kid URL serves."""
    jwk = dereference(header_of(url_token)["kid"], keyring)
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    key = RSAKey.import_key(jwk)
    assert key.thumbprint() == keyring.current
    decoded = jose_jwt.decode(url_token, key, algorithms=["RS256"])
    assert decoded.claims["iss"] == SITE
    assert decoded.claims["credentialSubject"]["name"] == "Zoë Müller-Lüdenscheidt Ñúñez"


def test_joserfc_verifies_old_and_new_tokens_with_the_jwks(url_token, keyring):
    """jwks(site) lists each key under its URL and its bare thumbprint: both kinds of token verify."""
    old_token = sign_credential(build_credential(make_snapshot()), keyring)
    assert header_of(old_token)["kid"] == keyring.current
    jwks = keyring.jwks(SITE)
    assert [k["kid"] for k in jwks["keys"]] == [key_url(SITE, keyring.current), keyring.current]
    for token in (old_token, url_token):
        jose_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
        assert verify_credential_jwt(token, jwks)["iss"] == SITE
        assert verify_credential_jwt(token, keyring.jwks())["iss"] == SITE


def test_public_jwk_of_an_unknown_thumbprint_is_none(keyring):
    """The route answers 404 for keys it does not have (including odd input)."""
    assert keyring.public_jwk("A" * 43, SITE) is None
    assert keyring.public_jwk("../jwks.json") is None
    assert keyring.public_jwk(None) is None  # type: ignore[arg-type]


def test_rotated_keys_are_all_served_by_thumbprint(tmp_path):
    """After rotation both keys are reachable at their URLs and listed in the JWKS."""
    path = tmp_path / "keys.json"
    old = init_key_file(path, key_size=2048)
    new = init_key_file(path, rotate=True, key_size=2048)
    ring = KeyRing.load(path)
    for thumbprint in (old, new):
        assert ring.public_jwk(thumbprint, SITE)["kid"] == key_url(SITE, thumbprint)
    assert len(ring.jwks(SITE)["keys"]) == 4 and len(ring.jwks()["keys"]) == 2


def test_signing_refuses_an_issuer_url_that_is_not_the_credentials(keyring):
    """The kid URL always sits on the credential's own issuer."""
    with pytest.raises(ValueError, match="issuer"):
        sign_credential(build_credential(make_snapshot()), keyring, issuer_url="https://evil.example")


def test_kid_url_on_another_host_is_not_our_key(keyring):
    """A token whose kid URL points elsewhere is refused even if the thumbprint is ours."""
    payload = {**build_credential(make_snapshot())}
    token = sign_credential(payload, keyring, issuer_url=SITE)
    claims = verify_credential_jwt(token, keyring.jwks())
    forged = pyjwt.encode(claims, keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url("https://evil.example", keyring.current), "typ": "JWT"})
    with pytest.raises(UnknownKeyError):
        verify_credential_jwt(forged, keyring.jwks())


def test_a_key_listed_under_another_keys_kid_is_not_used(keyring, other_keyring):
    """Keys are matched by their real thumbprint: relabelling another key with our kid does not help."""
    token = sign_credential(build_credential(make_snapshot()), other_keyring)
    (other,) = other_keyring.jwks()["keys"]
    relabelled = {"keys": [{**other, "kid": keyring.current}]}
    claims = pyjwt.decode(token, options={"verify_signature": False})
    forged = pyjwt.encode(claims, other_keyring.current_key, algorithm="RS256",
                          headers={"kid": keyring.current, "typ": "JWT"})
    with pytest.raises(Exception) as caught:
        verify_credential_jwt(forged, relabelled)
    assert "another thumbprint" in str(caught.value)


@pytest.mark.parametrize("kid, expected", [
    ("A" * 43, "A" * 43),
    (f"{SITE}/.well-known/jwks/{'A' * 43}", "A" * 43),
    (f"{SITE}/.well-known/jwks/{'A' * 42}", None),
    (f"{SITE}/.well-known/jwks/{'A' * 43}?x=1", None),
    (f"{SITE}/.well-known/jwks/{'A' * 43}#frag", None),
    (f"{SITE}/.well-known/jwks/../{'A' * 43}", None),
    ("https://evil.example/.well-known/jwks/" + "A" * 43, None),
    (f"{SITE}.evil.example/.well-known/jwks/{'A' * 43}", None),
    (f"{SITE}@evil.example/.well-known/jwks/{'A' * 43}", None),
    (f"javascript:{SITE}/.well-known/jwks/{'A' * 43}", None),
    ("", None), (None, None), (7, None), ("A" * 44, None), ("A" * 42 + "=", None),
])
def test_kid_thumbprint_for_this_issuer(kid, expected):
    """Only a bare thumbprint or exactly this site's key URL names one of our keys."""
    assert kid_thumbprint(kid, SITE) == expected
