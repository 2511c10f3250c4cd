"""The by-hand openssl recipe in docs/certificates.md works, verbatim, on a real token."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest

from coaching.credentials.signing import KeyRing, build_credential, init_key_file, sign_credential

from .conftest import make_snapshot, require_tool

DOC = Path(__file__).resolve().parents[2] / "docs" / "certificates.md"


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


def run_recipe(folder: Path, token: str, jwks: dict) -> subprocess.CompletedProcess:
    """Write the two downloads into ``folder`` and run the doc's commands there with bash."""
    for tool in ("openssl", "python3", "base64", "awk", "bash"):
        require_tool(tool)
    (folder / "credential.jwt").write_text(token + "\n")
    (folder / "jwks.json").write_text(json.dumps(jwks))
    return subprocess.run(["bash", "-c", recipe()], cwd=folder, capture_output=True, text=True,
                          timeout=60)


def test_recipe_verifies_a_genuine_token(rotated, tmp_path):
    """The commands print "Verified OK" for a token signed with the current key."""
    token = sign_credential(build_credential(make_snapshot()), rotated)
    result = run_recipe(tmp_path, token, rotated.jwks())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Verified OK")
    payload = json.loads((tmp_path / "payload.json").read_text(encoding="utf-8"))
    assert payload["credentialSubject"]["name"] == "Zoë Müller-Lüdenscheidt Ñúñez"


def test_recipe_rejects_a_tampered_token(rotated, tmp_path):
    """The same commands report "Verification failure" when the payload was changed."""
    token = sign_credential(build_credential(make_snapshot()), rotated)
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["credentialSubject"]["name"] = "Mallory"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    result = run_recipe(tmp_path, f"{head}.{forged_body}.{sig}", rotated.jwks())
    assert result.returncode != 0
    assert "Verification failure" in result.stdout + result.stderr
