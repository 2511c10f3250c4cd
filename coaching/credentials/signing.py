"""Issuer keys (one JSON key file), the JWKS, and VC-JWT signing and verification.

Tokens follow the Open Badges 3.0 "JSON Web Token Proof Format" (VC Data Model 2.0 era):
the JWT payload *is* the OpenBadgeCredential, with the registered claims ``iss`` (issuer.id),
``jti`` (id), ``sub`` (credentialSubject.id), ``nbf`` (validFrom) and ``exp`` (validUntil,
only when set) added beside it. There is no ``vc`` wrapper claim (that was the VCDM 1.1 form)
and no ``iat`` (the spec defines none). Header: ``{"alg": "RS256", "kid": <key URL>, "typ": "JWT"}``.

OB 3.0 wants ``kid`` to be a URI that dereferences to the JWK: ``{issuer}/.well-known/jwks/{thumbprint}``,
the RFC 7638 thumbprint being the last path segment. Tokens signed before that carry the bare thumbprint
and keep verifying: keys are found by that last segment.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from coaching.credentials.openbadges import build_credential, iso_z

__all__ = [
    "CredentialVerificationError",
    "KeyFileError",
    "KeyRing",
    "UnknownKeyError",
    "build_credential",
    "find_public_key",
    "init_key_file",
    "is_thumbprint",
    "jwk_thumbprint",
    "key_url",
    "kid_thumbprint",
    "sign_credential",
    "verify_credential_jwt",
]

ALGORITHM = "RS256"
KEY_SIZES = (2048, 3072)
DEFAULT_KEY_SIZE = 3072  # NIST's choice for keys meant to outlive 2030
CLOCK_LEEWAY_SECONDS = 60
JWKS_PATH = "/.well-known/jwks/"
# A SHA-256 thumbprint is 32 bytes: 43 base64url characters without padding.
_THUMBPRINT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class KeyFileError(Exception):
    """The key file is missing, unreadable, too open, malformed, or would be overwritten."""


class CredentialVerificationError(Exception):
    """A credential token is not a valid credential signed by one of the issuer's keys."""


class UnknownKeyError(CredentialVerificationError):
    """The token names a key id that the given JWKS does not contain."""


# --- keys -----------------------------------------------------------------------------------


def _b64url_uint(value: int) -> str:
    """Encode a positive integer as unpadded base64url big-endian bytes (RFC 7518 6.3.1)."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk_members(public_key: rsa.RSAPublicKey) -> dict:
    """Return the required RSA JWK members e, kty, n of a public key."""
    numbers = public_key.public_numbers()
    return {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}


def _members_thumbprint(members: dict) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of RSA JWK members (e, kty, n as strings)."""
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwk_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """Return the RFC 7638 SHA-256 JWK thumbprint, base64url without padding."""
    return _members_thumbprint(public_jwk_members(public_key))


def is_thumbprint(text: object) -> bool:
    """Whether ``text`` has the shape of a SHA-256 JWK thumbprint (43 base64url characters)."""
    return isinstance(text, str) and len(text) == 43 and set(text) <= _THUMBPRINT_CHARS


def key_url(issuer_url: str, thumbprint: str) -> str:
    """Return the URL a key is published at, which is also its ``kid`` in new tokens."""
    return f"{issuer_url.rstrip('/')}{JWKS_PATH}{thumbprint}"


def kid_thumbprint(kid: object, issuer_url: str | None = None) -> str | None:
    """Return the thumbprint a ``kid`` names (a bare thumbprint or a key URL), or None.

    With ``issuer_url``, a key URL counts only when it is exactly this issuer's key URL
    (``{issuer_url}/.well-known/jwks/{thumbprint}``): a kid on another host is not our key.
    """
    if is_thumbprint(kid):
        return kid  # type: ignore[return-value]
    if not isinstance(kid, str) or JWKS_PATH not in kid:
        return None
    prefix, _, thumbprint = kid.rpartition(JWKS_PATH)
    if not is_thumbprint(thumbprint) or not prefix.startswith(("https://", "http://")):
        return None
    if issuer_url is not None and prefix != issuer_url.rstrip("/"):
        return None
    return thumbprint


def _new_key_entry(key_size: int) -> dict:
    """Generate one RSA key and return its key-file entry."""
    if key_size not in KEY_SIZES:
        raise ValueError(f"key_size must be one of {KEY_SIZES}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "kid": jwk_thumbprint(key.public_key()),
        "created": iso_z(datetime.now(UTC)),
        "private_pem": pem.decode("ascii"),
    }


def _write_private_temp(directory: Path, data: dict) -> Path:
    """Write JSON to a new 0600 temp file in ``directory`` (fsynced) and return its path."""
    fd, name = tempfile.mkstemp(prefix=".signing-key-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; say so explicitly against odd umasks
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _publish_new(temp: Path, path: Path) -> None:
    """Move a finished temp file to ``path`` only if nothing is there (atomic, no overwrite)."""
    try:
        # link() fails if the target exists, unlike rename(): two racing workers cannot both win.
        os.link(temp, path)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; use rotate to add a new key") from None
    except OSError:
        _create_exclusive(path, temp.read_bytes())  # a mount without hard links
    finally:
        temp.unlink(missing_ok=True)


def _create_exclusive(path: Path, content: bytes) -> None:
    """Create ``path`` with mode 0600 and write ``content``, failing if it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; use rotate to add a new key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def init_key_file(path: str | os.PathLike, *, rotate: bool = False,
                  key_size: int = DEFAULT_KEY_SIZE) -> str:
    """Create the key file (mode 0600), or with ``rotate`` add a new current key; return its kid."""
    path = Path(path)
    entry = _new_key_entry(key_size)
    if rotate:
        data = _read_key_file(path)
        data["keys"].append(entry)
        data["current"] = entry["kid"]
        # Old keys stay in the file so credentials signed with them keep verifying.
        os.replace(_write_private_temp(path.parent, data), path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {"current": entry["kid"], "keys": [entry]}
        _publish_new(_write_private_temp(path.parent, data), path)
    return entry["kid"]


def _read_key_file(path: Path) -> dict:
    """Read and shape-check the key file, refusing one that others may read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(
            f"signing key file {path} does not exist; create it with `flask credentials init-key`"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} is readable by others; run `chmod 600 {path}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise KeyFileError(f"{path} is not a signing key file (no keys)")
    return data


def _load_entry(entry: object, path: Path) -> tuple[str, rsa.RSAPrivateKey]:
    """Parse one key-file entry and check that its kid is its thumbprint."""
    if not isinstance(entry, dict) or not isinstance(entry.get("private_pem"), str):
        raise KeyFileError(f"{path}: malformed key entry")
    try:
        key = serialization.load_pem_private_key(entry["private_pem"].encode("ascii"), None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise KeyFileError(f"{path}: unreadable private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < min(KEY_SIZES):
        raise KeyFileError(f"{path}: keys must be RSA of at least {min(KEY_SIZES)} bits")
    kid = jwk_thumbprint(key.public_key())
    if entry.get("kid") != kid:
        raise KeyFileError(f"{path}: kid {entry.get('kid')!r} does not match its key")
    return kid, key


@dataclass(frozen=True)
class KeyRing:
    """The issuer's RSA keys by kid; ``current`` signs, all of them verify."""

    keys: dict[str, rsa.RSAPrivateKey]
    current: str

    @classmethod
    def load(cls, path: str | os.PathLike) -> KeyRing:
        """Load the key file written by :func:`init_key_file`."""
        path = Path(path)
        data = _read_key_file(path)
        keys = dict(_load_entry(entry, path) for entry in data["keys"])
        if data.get("current") not in keys:
            raise KeyFileError(f"{path}: current key {data.get('current')!r} is not in the file")
        return cls(keys=keys, current=data["current"])

    @classmethod
    def load_or_create(cls, path: str | os.PathLike) -> KeyRing:
        """Load the key file, creating it first if missing (development convenience)."""
        if not Path(path).exists():
            with contextlib.suppress(KeyFileError):  # another worker created it a moment ago: load theirs
                init_key_file(path)
        return cls.load(path)

    @property
    def current_key(self) -> rsa.RSAPrivateKey:
        """Return the private key that signs new credentials."""
        return self.keys[self.current]

    def public_jwk(self, thumbprint: str, issuer_url: str | None = None) -> dict | None:
        """Return one public JWK by thumbprint (for ``/.well-known/jwks/<thumbprint>``), or None.

        With ``issuer_url`` its ``kid`` is the key URL, the ``kid`` new tokens carry.
        """
        key = self.keys.get(thumbprint) if isinstance(thumbprint, str) else None
        if key is None:
            return None
        kid = key_url(issuer_url, thumbprint) if issuer_url else thumbprint
        return {**public_jwk_members(key.public_key()), "kid": kid, "alg": ALGORITHM, "use": "sig"}

    def jwks(self, issuer_url: str | None = None) -> dict:
        """Return the public JWK Set of every key, for ``/.well-known/jwks.json``.

        Without ``issuer_url`` each key is listed once under its thumbprint. With it, each key is
        listed under its key URL (the ``kid`` of new tokens) and again under its bare thumbprint (the
        ``kid`` of tokens signed before), so any JOSE library that picks keys by ``kid`` verifies both.
        """
        thumbprints = list(self.keys)
        if not issuer_url:
            return {"keys": [self.public_jwk(kid) for kid in thumbprints]}
        return {"keys": [self.public_jwk(kid, issuer_url) for kid in thumbprints]
                + [self.public_jwk(kid) for kid in thumbprints]}


# --- tokens ---------------------------------------------------------------------------------


def _numeric_date(iso: str) -> int:
    """Convert an ISO 8601 ``...Z`` timestamp to a JWT NumericDate."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def jwt_claims(credential: dict) -> dict:
    """Return the registered JWT claims OB 3.0 derives from a credential."""
    claims = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": _numeric_date(credential["validFrom"]),
    }
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"])
    return claims


def sign_credential(credential: dict, keyring: KeyRing, *, issuer_url: str | None = None) -> str:
    """Sign a credential as a compact VC-JWT (RS256) with the keyring's current key.

    With ``issuer_url`` (which must be the credential's issuer) the header's ``kid`` is the key URL
    ``{issuer_url}/.well-known/jwks/{thumbprint}``; without it, the bare thumbprint of tokens before
    issue 17. Pass it once ``/.well-known/jwks/<thumbprint>`` and ``jwks(issuer_url)`` are served.
    """
    payload = {**credential, **jwt_claims(credential)}
    kid = keyring.current
    if issuer_url is not None:
        if issuer_url.rstrip("/") != payload["iss"].rstrip("/"):
            raise ValueError(f"issuer_url {issuer_url!r} is not the credential's issuer {payload['iss']!r}")
        kid = key_url(issuer_url, keyring.current)
    headers = {"kid": kid, "typ": "JWT"}
    # RSASSA-PKCS1-v1_5 is deterministic: the same credential and key give the same token,
    # which keeps rendered PDFs byte-identical.
    return jwt.encode(payload, keyring.current_key, algorithm=ALGORITHM, headers=headers)


def _jwk_list(jwks: object) -> list[dict]:
    """Return the key objects of a JWK Set, ignoring anything malformed."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    return [key for key in keys if isinstance(key, dict)] if isinstance(keys, list) else []


def find_public_key(thumbprint: str, jwks: object) -> jwt.PyJWK:
    """Return the RS256 public key with this RFC 7638 thumbprint from a JWK Set.

    A key is taken when its ``kid`` names the thumbprint (bare or as a key URL) and its members
    really have that thumbprint, so a key listed under another key's kid is never used.
    """
    for jwk in _jwk_list(jwks):
        if kid_thumbprint(jwk.get("kid")) != thumbprint or jwk.get("kty") != "RSA":
            continue
        if jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        public = {name: jwk.get(name) for name in ("e", "kty", "n")}  # never private parts
        if not all(isinstance(value, str) for value in public.values()):
            raise CredentialVerificationError(f"key {thumbprint!r} is malformed")
        if _members_thumbprint(public) != thumbprint:
            raise CredentialVerificationError(f"key listed as {thumbprint!r} has another thumbprint")
        try:
            return jwt.PyJWK(public, algorithm=ALGORITHM)
        except (jwt.PyJWTError, ValueError) as exc:
            raise CredentialVerificationError(f"key {thumbprint!r} is malformed: {exc}") from None
    raise UnknownKeyError(f"no RSA key with thumbprint {thumbprint!r} in the key set")


def _public_key_for(token: str, jwks: dict) -> jwt.PyJWK:
    """Pick the RSA key named by the token's kid, refusing anything but RS256."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise CredentialVerificationError(f"not a JWT: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise CredentialVerificationError(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    thumbprint = kid_thumbprint(kid)
    if thumbprint is None:
        raise UnknownKeyError(f"kid {kid!r} names no key of this issuer")
    return find_public_key(thumbprint, jwks)


def _check_claims(payload: dict) -> None:
    """Apply the OB 3.0 rule that each registered claim matches the credential it carries."""
    try:
        expected = jwt_claims(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CredentialVerificationError("payload is not an OpenBadgeCredential") from None
    for claim, value in expected.items():
        if payload.get(claim) != value:
            raise CredentialVerificationError(f"claim {claim!r} does not match the credential")
    if "exp" in payload and "exp" not in expected:
        raise CredentialVerificationError("claim 'exp' does not match the credential")


def verify_credential_jwt(token: str, jwks: dict, *, check_dates: bool = True) -> dict:
    """Verify a VC-JWT against a JWK Set and return its payload (the credential plus claims).

    A ``kid`` that is a key URL must be on the token's own issuer (``iss``); :mod:`verify` compares
    the issuer with the expected one and reports each check.
    """
    if not isinstance(token, str):
        raise CredentialVerificationError("a credential token must be a string")
    key = _public_key_for(token, jwks)
    options = {
        "require": ["iss", "jti", "sub", "nbf"],
        "verify_aud": False,
        # check_dates=False lets a verification page prove the signature of an expired one.
        "verify_exp": check_dates,
        "verify_nbf": check_dates,
    }
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], options=options, leeway=CLOCK_LEEWAY_SECONDS
        )
    except jwt.ExpiredSignatureError:
        raise CredentialVerificationError("the credential has expired") from None
    except jwt.ImmatureSignatureError:
        raise CredentialVerificationError("the credential is not valid yet") from None
    except jwt.PyJWTError as exc:
        raise CredentialVerificationError(f"invalid credential token: {exc}") from None
    _check_claims(payload)
    kid = jwt.get_unverified_header(token).get("kid")
    if not isinstance(payload["iss"], str):
        raise CredentialVerificationError("claim 'iss' is not a URL")
    if not is_thumbprint(kid) and kid_thumbprint(kid, payload["iss"]) is None:
        raise UnknownKeyError(f"kid {kid!r} is not a key URL of the issuer {payload['iss']!r}")
    return payload
