"""The by-hand openssl recipe in docs/certificates.md works, verbatim, on a real token.

The recipe fetches the key its ``kid`` names with curl; here ``curl`` is a stub first on PATH that serves
``/.well-known/jwks/<thumbprint>`` from the key ring (what the web route serves) and reaches no network.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path

import jwt as pyjwt
import pytest

from coaching.credentials.signing import KeyRing, build_credential, init_key_file, key_url, sign_credential

from .conftest import make_snapshot, require_tool

DOC = Path(__file__).resolve().parents[2] / "docs" / "certificates.md"
SITE = "https://academy.example"
CURL_STUB = """#!/bin/bash
# Test stand-in for curl: answers only GET {site}/.well-known/jwks/<thumbprint> from $SERVED.
out=""; url=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift 2;; -*) shift;; *) url="$1"; shift;; esac
done
prefix="{site}/.well-known/jwks/"
case "$url" in "$prefix"*) file="$SERVED/${{url#"$prefix"}}";; *) echo "stub: no network for $url" >&2; exit 6;; esac
[ -f "$file" ] || {{ echo "stub: 404 for $url" >&2; exit 22; }}
cp "$file" "$out"
echo "$url" >> "$SERVED/requests.log"
"""


def recipe() -> str:
    """Return the shell block that follows the recipe marker in the doc."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- recipe: openssl-verify.*?-->\s*```sh\n(.*?)```", text, re.S)
    assert match, "the openssl recipe block is missing from docs/certificates.md"
    return match.group(1)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    """A key ring with two keys, so the recipe must pick the key by kid."""
    path = tmp_path_factory.mktemp("recipe-keys") / "keys.json"
    init_key_file(path, key_size=2048)
    init_key_file(path, rotate=True, key_size=2048)
    return KeyRing.load(path)


def run_recipe(folder: Path, token: str, keyring: KeyRing, site: str = SITE) -> subprocess.CompletedProcess:
    """Put the token in ``folder``, serve the keys through the curl stub, and run the doc's commands."""
    for tool in ("openssl", "python3", "base64", "awk", "bash"):
        require_tool(tool)
    served, stubs = folder / "served", folder / "bin"
    served.mkdir()
    stubs.mkdir()
    for thumbprint in keyring.keys:
        (served / thumbprint).write_text(json.dumps(keyring.public_jwk(thumbprint, SITE)))
    (stubs / "curl").write_text(CURL_STUB.format(site=SITE))
    (stubs / "curl").chmod(0o755)
    work = folder / "work"
    work.mkdir()
    (work / "credential.jwt").write_text(token + "\n")
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "SITE": site, "SERVED": str(served)}
    return subprocess.run(["bash", "-c", recipe()], cwd=work, capture_output=True, text=True, timeout=60,
                          env=env)


def requests_made(folder: Path) -> list[str]:
    """The URLs the stubbed curl answered."""
    log = folder / "served" / "requests.log"
    return log.read_text().split() if log.exists() else []


def test_recipe_verifies_a_genuine_token(rotated, tmp_path):
    """The commands fetch the key at the kid URL and print "Verified OK" for a genuine token."""
    token = sign_credential(build_credential(make_snapshot()), rotated, issuer_url=SITE)
    result = run_recipe(tmp_path, token, rotated)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Verified OK")
    assert requests_made(tmp_path) == [key_url(SITE, rotated.current)]
    payload = json.loads((tmp_path / "work" / "payload.json").read_text(encoding="utf-8"))
    assert payload["credentialSubject"]["name"] == "Zoë Müller-Lüdenscheidt Ñúñez"


def test_recipe_verifies_a_token_with_the_old_bare_kid(rotated, tmp_path):
    """A certificate signed before key URLs (bare thumbprint kid) is checked with the same commands."""
    token = sign_credential(build_credential(make_snapshot()), rotated)
    result = run_recipe(tmp_path, token, rotated)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Verified OK")


def test_recipe_rejects_a_tampered_token(rotated, tmp_path):
    """The same commands report "Verification failure" when the payload was changed."""
    token = sign_credential(build_credential(make_snapshot()), rotated, issuer_url=SITE)
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["credentialSubject"]["name"] = "Mallory"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    result = run_recipe(tmp_path, f"{head}.{forged_body}.{sig}", rotated)
    assert result.returncode != 0
    assert "Verification failure" in result.stdout + result.stderr


def test_recipe_refuses_a_key_on_another_site(rotated, other_keyring, tmp_path):
    """A token signed by a stranger whose kid points to their own host is refused before any fetch."""
    claims = pyjwt.decode(sign_credential(build_credential(make_snapshot()), rotated),
                          options={"verify_signature": False})
    forged = pyjwt.encode(claims, other_keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url("https://evil.example", other_keyring.current)})
    result = run_recipe(tmp_path, forged, rotated)
    assert result.returncode != 0 and "Verified OK" not in result.stdout
    assert "is not a key of https://academy.example" in result.stderr
    assert requests_made(tmp_path) == []


def test_recipe_refuses_another_issuer(rotated, tmp_path):
    """Run with the site one expects, a token of another site is refused."""
    token = sign_credential(build_credential(make_snapshot()), rotated, issuer_url=SITE)
    result = run_recipe(tmp_path, token, rotated, site="https://other.example")
    assert result.returncode != 0 and "not by https://other.example" in result.stderr
