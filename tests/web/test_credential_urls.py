"""The credential's public addresses: the kid URL that dereferences to the key, the JWK Set across a rotation,
/verify/<id>.jwt as text/plain, /verify/<id>.json as the credential itself, /verify/<id>/status.json."""
from __future__ import annotations

from pathlib import Path

import pytest
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from coaching.credentials.signing import KeyRing, init_key_file, is_thumbprint, sign_credential
from coaching.extensions import db
from coaching.models import Certificate
from tests.web.credential_helpers import SITE, forge, header, issue, payload, revoke, update_row, withdraw


def fetch_key_by_kid(client, kid: str) -> dict:
    """Dereference a kid URL of this site through the test client (what any verifier does over HTTP)."""
    assert kid.startswith(f"{SITE}/.well-known/jwks/")
    response = client.get(kid.removeprefix(SITE))
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_kid_is_a_key_url_that_a_second_jose_library_follows(app):
    """joserfc (not the library the app signs with) verifies the served JWT with the key its kid URL returns."""
    cert_id = issue(app)
    client = app.test_client()
    response = client.get(f"/verify/{cert_id}.jwt")
    token = response.get_data(as_text=True)
    protected = jws.extract_compact(token.encode()).protected
    assert protected["alg"] == "RS256" and protected["typ"] == "JWT"
    kid = protected["kid"]
    thumbprint = kid.rsplit("/", 1)[1]
    assert is_thumbprint(thumbprint)
    jwk = fetch_key_by_kid(client, kid)
    assert jwk["kid"] == kid and jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
    key = RSAKey.import_key(jwk)
    assert key.thumbprint() == thumbprint  # RFC 7638, computed by joserfc
    decoded = jwt.decode(token, key, algorithms=["RS256"])
    assert decoded.claims["jti"] == f"{SITE}/verify/{cert_id}" and decoded.claims["iss"] == SITE
    assert decoded.claims["credentialSubject"]["name"] == "Alex Affiliate"
    head, body, signature = token.split(".")
    forged = ".".join([head, body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB"), signature])
    with pytest.raises(JoseError):
        jwt.decode(forged, key, algorithms=["RS256"])


def test_key_url_for_an_unknown_key_is_404(app):
    """Only this issuer's keys are served; anything else under /.well-known/jwks/ is a 404."""
    client = app.test_client()
    for name in ("A" * 43, "not-a-thumbprint", "..%2F..%2Fsecret", "x" * 500):
        assert client.get(f"/.well-known/jwks/{name}").status_code == 404


def test_jwks_lists_every_key_under_its_url_and_its_thumbprint(app):
    """The JWK Set names each key by its key URL (new tokens) and by its bare thumbprint (older tokens)."""
    with app.app_context():
        from coaching.services.credentials import keyring

        current = keyring().current
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    kids = {key["kid"] for key in response.json["keys"]}
    assert kids == {current, f"{SITE}/.well-known/jwks/{current}"}
    assert all("d" not in key for key in response.json["keys"])


def test_rotation_keeps_old_keys_published_and_old_tokens_verifying(app):
    """After `init-key --rotate`: new tokens name the new key, the old key stays at its URL and in the set,
    and a token handed out before verifies with joserfc through either."""
    cert_id = issue(app)
    client = app.test_client()
    old_token = client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)
    old_kid = header(old_token)["kid"]
    new_thumbprint = init_key_file(Path(app.config["SIGNING_KEY_FILE"]), rotate=True, key_size=2048)
    new_token = client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)
    assert header(new_token)["kid"] == f"{SITE}/.well-known/jwks/{new_thumbprint}" != old_kid
    assert payload(new_token) == payload(old_token)  # frozen facts: only the signature changed
    for token in (old_token, new_token):
        key = RSAKey.import_key(fetch_key_by_kid(client, header(token)["kid"]))
        assert jwt.decode(token, key, algorithms=["RS256"]).claims["jti"].endswith(cert_id)
        jwt.decode(token, KeySet.import_key_set(client.get("/.well-known/jwks.json").json), algorithms=["RS256"])
    assert len(client.get("/.well-known/jwks.json").json["keys"]) == 4


def test_a_token_with_the_old_bare_thumbprint_kid_still_verifies(app):
    """Certificates signed before key URLs (bare thumbprint kid) verify with joserfc and by upload."""
    cert_id = issue(app)
    with app.app_context():
        from coaching.services.credentials import credential_of, keyring

        token = sign_credential(credential_of(db.session.get(Certificate, cert_id)), keyring())
    assert is_thumbprint(header(token)["kid"])
    client = app.test_client()
    jwt.decode(token, KeySet.import_key_set(client.get("/.well-known/jwks.json").json), algorithms=["RS256"])
    with app.app_context():
        from coaching.services.verification import verify_certificate_file

        assert verify_certificate_file(token.encode()).outcome == "valid"


def test_jwt_is_text_plain_and_json_is_the_payload_without_jwt_claims(app):
    """.jwt is served as text/plain; .json is exactly the signed credential minus iss/jti/sub/nbf/exp."""
    cert_id = issue(app)
    client = app.test_client()
    response = client.get(f"/verify/{cert_id}.jwt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    claims = payload(response.get_data(as_text=True))
    document = client.get(f"/verify/{cert_id}.json")
    assert document.mimetype == "application/json" and document.headers["Access-Control-Allow-Origin"] == "*"
    assert document.json == {key: value for key, value in claims.items()
                             if key not in ("iss", "jti", "sub", "nbf", "exp")}


def test_status_json_for_valid_revoked_and_withdrawn(app):
    """status.json carries status, revocation time and reason, and the status list entry; it stays served after
    a withdrawal (without the name) while the credential itself is gone (410)."""
    valid, revoked, withdrawn = issue(app), issue(app, "Rita Revoked"), issue(app, "Wim Withdrawn")
    revoke(app, revoked, "Exam taken by someone else")
    withdraw(app, withdrawn)
    client = app.test_client()
    document = client.get(f"/verify/{valid}/status.json").json
    assert document["status"] == "valid" and document["revoked_at"] is None
    assert document["status_list"] == {"url": f"{SITE}/credentials/status/0", "index": 0, "set": False}
    document = client.get(f"/verify/{revoked}/status.json").json
    assert document["status"] == "revoked" and document["revocation_reason"] == "Exam taken by someone else"
    assert document["revoked_at"].startswith("20") and document["status_list"]["set"] is True
    response = client.get(f"/verify/{withdrawn}/status.json")
    assert response.status_code == 200 and response.json["status"] == "withdrawn"
    assert "Wim" not in response.get_data(as_text=True)
    assert client.get(f"/verify/{withdrawn}.json").status_code == 410
    assert client.get(f"/verify/{withdrawn}.jwt").status_code == 410


def test_sub_routes_redirect_odd_ids_and_refuse_unknown_ones(app):
    """A lower-case id redirects to the canonical address of status.json and evidence pages; unknown: 404."""
    cert_id = issue(app)
    client = app.test_client()
    response = client.get(f"/verify/{cert_id.lower()}/status.json")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/verify/{cert_id}/status.json")
    response = client.get(f"/verify/{cert_id.lower()}/evidence/1")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/verify/{cert_id}/evidence/1")
    for path in ("/verify/ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZ/status.json", "/verify/x/evidence/1",
                 f"/verify/{cert_id}/evidence/0", f"/verify/{cert_id}/evidence/٣", f"/verify/{cert_id}/evidence/-1"):
        assert client.get(path).status_code == 404, path


def test_verification_page_links_every_document(app):
    """The public page links the JWT, the credential, its status, the status list and the keys."""
    cert_id = issue(app)
    body = app.test_client().get(f"/verify/{cert_id}").get_data(as_text=True)
    for href in (f"/verify/{cert_id}.jwt", f"/verify/{cert_id}.json", f"/verify/{cert_id}/status.json",
                 f"{SITE}/credentials/status/0", "/.well-known/jwks.json"):
        assert f'href="{href}"' in body, href


def test_old_certificate_without_frozen_facts_renders_and_verifies(app):
    """A row from before this change (no index, results, criteria or evidence) keeps its page, credential and
    signature; the credential simply has no credentialStatus."""
    cert_id = issue(app)
    update_row(app, cert_id, status_index=None, criteria_narrative=None, exam_name=None, exam_pass_mark=None,
               exam_score=None, evidence=None)
    client = app.test_client()
    assert client.get(f"/verify/{cert_id}").status_code == 200
    credential = client.get(f"/verify/{cert_id}.json").json
    assert "credentialStatus" not in credential and "evidence" not in credential
    assert client.get(f"/verify/{cert_id}/status.json").json["status_list"] is None
    token = client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)
    jwt.decode(token, KeySet.import_key_set(client.get("/.well-known/jwks.json").json), algorithms=["RS256"])


def test_another_issuers_key_never_appears_in_our_key_set(app, tmp_path):
    """A stranger's key is neither served at a key URL nor accepted: their token is not issued here."""
    init_key_file(tmp_path / "other.json", key_size=2048)
    other = KeyRing.load(tmp_path / "other.json")
    cert_id = issue(app)
    client = app.test_client()
    assert client.get(f"/.well-known/jwks/{other.current}").status_code == 404
    forged = forge(payload(client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)), other.current_key,
                   kid=f"{SITE}/.well-known/jwks/{other.current}")
    with app.app_context():
        from coaching.services.verification import verify_certificate_file

        assert verify_certificate_file(forged.encode()).outcome == "not_issued_here"


def test_the_docs_openssl_recipe_verifies_a_served_token(app, tmp_path):
    """The openssl commands of docs/certificates.md, run verbatim, verify a token this app serves with the key
    this app serves at the token's kid URL (curl is a stub answering from the test client's responses)."""
    import os
    import subprocess

    from tests.credentials.conftest import require_tool
    from tests.credentials.test_docs_recipe import CURL_STUB, recipe

    for tool in ("openssl", "python3", "base64", "awk", "bash"):
        require_tool(tool)
    cert_id = issue(app, "Zoë Müller")
    client = app.test_client()
    token = client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)
    kid = header(token)["kid"]
    served, stubs, work = tmp_path / "served", tmp_path / "bin", tmp_path / "work"
    for folder in (served, stubs, work):
        folder.mkdir()
    (served / kid.rsplit("/", 1)[1]).write_bytes(client.get(kid.removeprefix(SITE)).data)
    (stubs / "curl").write_text(CURL_STUB.format(site=SITE))
    (stubs / "curl").chmod(0o755)
    (work / "credential.jwt").write_text(token + "\n")
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "SITE": SITE, "SERVED": str(served)}
    done = subprocess.run(["bash", "-c", recipe()], cwd=work, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("Verified OK")
    assert (served / "requests.log").read_text().split() == [kid]
