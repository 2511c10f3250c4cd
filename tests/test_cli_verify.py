"""`flask credentials verify FILE [--keys JWKS_FILE] [--status STATUS_FILE]`: a line per check, exit 0 only for a
valid certificate; with both files no network and no database."""
from __future__ import annotations

import pytest

from coaching.credentials.signing import KeyRing, init_key_file
from tests.web.credential_helpers import forge, issue, payload, pdf_of, revoke


@pytest.fixture
def saved(app, tmp_path):
    """A valid certificate's PDF, the key set and status list 0 saved from the site, and the JWT."""
    cert_id = issue(app, "Clara Command")
    client = app.test_client()
    files = {"pdf": tmp_path / "certificate.pdf", "jwt": tmp_path / "credential.jwt",
             "keys": tmp_path / "jwks.json", "status": tmp_path / "status-0.jwt"}
    files["pdf"].write_bytes(pdf_of(app, cert_id))
    files["jwt"].write_bytes(client.get(f"/verify/{cert_id}.jwt").data)
    files["keys"].write_bytes(client.get("/.well-known/jwks.json").data)
    files["status"].write_bytes(client.get("/credentials/status/0").data)
    return cert_id, files


def run(app, *args: object):
    """Invoke `flask credentials verify` on this app."""
    return app.test_cli_runner().invoke(args=["credentials", "verify", *map(str, args)])


def test_valid_pdf_with_the_sites_own_keys_and_records(app, saved):
    """Without options: the installation's keys and database; every check ok, the record matches, exit 0."""
    cert_id, files = saved
    result = run(app, files["pdf"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "outcome: valid"
    for name in ("file", "format", "algorithm", "key", "signature", "issuer", "claims", "validity", "status",
                 "record"):
        assert any(line.split()[:2] == ["ok", name] for line in lines), name
    assert f"matches certificate {cert_id}" in result.output


def test_offline_with_keys_and_status_needs_no_database(app, app_factory, saved, tmp_path):
    """With --keys and --status the command runs on an app whose database cannot even be opened."""
    _cert_id, files = saved
    offline = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}",
                          SIGNING_KEY_FILE=str(tmp_path / "no-key-file.json"))
    for source in ("pdf", "jwt"):
        result = run(offline, files[source], "--keys", files["keys"], "--status", files["status"])
        assert result.exit_code == 0, result.output
        assert "ok       status     not revoked (position 0 of http://localhost/credentials/status/0)" in result.output
    assert not (tmp_path / "no-such-folder").exists() and not (tmp_path / "no-key-file.json").exists()


def test_revoked_says_so_with_the_database_and_with_a_fresh_status_file(app, saved):
    """After revocation: exit 1 from the database, and from a status list saved after the revocation."""
    cert_id, files = saved
    revoke(app, cert_id)
    result = run(app, files["pdf"])
    assert result.exit_code == 1 and result.output.startswith("outcome: revoked")
    result = run(app, files["pdf"], "--keys", files["keys"])  # keys from a file, status from the database
    assert result.exit_code == 1 and "failed   status     revoked or withdrawn" in result.output
    files["status"].write_bytes(app.test_client().get("/credentials/status/0").data)
    result = run(app, files["pdf"], "--keys", files["keys"], "--status", files["status"])
    assert result.exit_code == 1 and result.output.startswith("outcome: revoked")


def test_another_issuers_keys_or_token_are_not_issued_here(app, saved, tmp_path):
    """A key set of another issuer, or a token signed by another key: exit 1, not issued here."""
    _cert_id, files = saved
    init_key_file(tmp_path / "other.json", key_size=2048)
    other = KeyRing.load(tmp_path / "other.json")
    (tmp_path / "other-jwks.json").write_text(__import__("json").dumps(other.jwks()))
    result = run(app, files["jwt"], "--keys", tmp_path / "other-jwks.json", "--status", files["status"])
    assert result.exit_code == 1 and result.output.startswith("outcome: not_issued_here")
    forged = tmp_path / "forged.jwt"
    forged.write_text(forge(payload(files["jwt"].read_text()), other.current_key, kid=other.current))
    result = run(app, forged)
    assert result.exit_code == 1 and "failed   key" in result.output


@pytest.mark.parametrize("content", [b"", b"garbage", b"%PDF-1.4\n%%EOF", b"\x89PNG\r\n\x1a\n"])
def test_files_that_carry_no_credential(app, tmp_path, content):
    """Anything that is not a certificate: outcome invalid, the file check failed, exit 1, no traceback."""
    path = tmp_path / "file.bin"
    path.write_bytes(content)
    result = run(app, path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # sys.exit(1), not a traceback
    assert result.output.startswith("outcome: invalid") and "failed   file" in result.output


def test_bad_arguments_give_a_message_and_exit_1(app, saved, tmp_path):
    """A missing file, a folder, a key file that is no JWK Set, a binary status file: a message, exit 1."""
    _cert_id, files = saved
    result = run(app, tmp_path / "missing.pdf")
    assert result.exit_code == 1 and "cannot read the file" in result.output
    result = run(app, tmp_path)
    assert result.exit_code == 1 and "cannot read the file" in result.output
    result = run(app, files["pdf"], "--keys", files["pdf"])
    assert result.exit_code == 1 and "not JSON" in result.output
    binary = tmp_path / "status.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    result = run(app, files["pdf"], "--keys", files["keys"], "--status", binary)
    assert result.exit_code == 1 and "not a status list" in result.output
    result = run(app, files["pdf"], "--keys", files["keys"], "--status", files["keys"])
    assert result.exit_code == 1 and "failed   status" in result.output


def test_documented_in_help(app):
    """`flask credentials verify --help` names both options."""
    result = app.test_cli_runner().invoke(args=["credentials", "verify", "--help"])
    assert result.exit_code == 0 and "--keys" in result.output and "--status" in result.output


def test_without_options_an_unreachable_database_is_a_message(app_factory, saved, tmp_path):
    """Without --keys/--status the database is needed; when it cannot be read: a message naming the way out."""
    _cert_id, files = saved
    offline = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
    for args in ((files["pdf"],), (files["pdf"], "--keys", files["keys"])):
        result = run(offline, *args)
        assert result.exit_code == 1 and "pass --keys JWKS_FILE and --status STATUS_FILE" in result.output
