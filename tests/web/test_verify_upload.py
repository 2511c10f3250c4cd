"""Verify by upload: /verify takes a certificate PDF or .jwt (multipart, CSRF), reads it in memory, and answers
valid / expired / revoked / withdrawn / not issued here / altered / not valid with the checks made. Every bad file
gets a clear verdict, never a 500, and nothing is stored."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import MetaData, func, select

from coaching.credentials.files import MAX_FILE_BYTES
from coaching.credentials.signing import KeyRing, init_key_file, key_url
from coaching.extensions import db
from tests.conftest import csrf_token
from tests.web.credential_helpers import (
    SITE,
    evidence_json,
    expire,
    files_under,
    forge,
    header,
    issue,
    payload,
    pdf_of,
    pdf_with_attachments,
    pypdf_written,
    revoke,
    unsigned,
    update_row,
    withdraw,
)


class Verdict(HTMLParser):
    """The outcome, the checks (name -> state) and the upload error of a /verify answer page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.outcome, self.checks, self.labels, self.error = None, {}, {}, ""
        self._check, self._in_error, self._in_label = None, False, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-outcome" in attributes:
            self.outcome = attributes["data-outcome"]
        if "data-check" in attributes:
            self._check = attributes["data-check"]
            self.checks[self._check] = attributes["class"].split("check-")[-1]
        if attributes.get("class") == "check-label":
            self._in_label = True
        if attributes.get("class") == "field-error" and attributes.get("role") == "alert":
            self._in_error = True

    def handle_endtag(self, tag):
        self._in_label = self._in_error = False if tag in ("span", "p") else (self._in_label or self._in_error)

    def handle_data(self, data):
        if self._in_label and self._check:
            self.labels[self._check] = data.strip()
        if self._in_error:
            self.error += data


def upload(client, data: bytes, filename: str = "certificate.pdf", **headers) -> tuple[int, Verdict, str]:
    """Post a file through the form (with the page's CSRF token); status, parsed verdict, html."""
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    response = post_file(client, {"csrf_token": token, "file": (io.BytesIO(data), filename)}, headers)
    html = response.get_data(as_text=True)
    return response.status_code, Verdict(html), html


def post_file(client, form: dict, headers: dict | None = None):
    """POST multipart form data; then close the body the test client spooled to a temporary file (Werkzeug's
    client only closes it when following redirects)."""
    response = client.post("/verify", data=form, content_type="multipart/form-data", headers=headers or {})
    response.request.environ["wsgi.input"].close()
    return response


def table_counts(app) -> dict[str, int]:
    """Rows per table: nothing may change by checking a file."""
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(db.engine)
        return {name: db.session.scalar(select(func.count()).select_from(table))
                for name, table in metadata.tables.items()}


@pytest.fixture
def other_ring(tmp_path) -> KeyRing:
    """Another issuer's keys."""
    init_key_file(tmp_path / "other.json", key_size=2048)
    return KeyRing.load(tmp_path / "other.json")


@pytest.fixture
def our_key(app):
    """This site's current private key (to forge an 'altered' credential that still carries our signature)."""
    with app.app_context():
        from coaching.services.credentials import keyring

        ring = keyring()
        return ring.current_key, ring.current


def token_of(client, cert_id: str) -> str:
    """The certificate's JWT as served."""
    return client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)


def test_a_genuine_certificate_pdf_is_valid_with_every_check(app):
    """The PDF as downloaded: valid, each check passed (status from the record), a link to the page."""
    cert_id = issue(app, "Zoë Müller")
    update_row(app, cert_id, exam_name="Exam", exam_pass_mark=80, exam_score=92, evidence=[evidence_json()])
    client = app.test_client()
    status, verdict, html = upload(client, pdf_of(app, cert_id), filename="whatever.txt")
    assert status == 200 and verdict.outcome == "valid"
    assert verdict.checks == {name: "ok" for name in ("file", "format", "algorithm", "key", "signature", "issuer",
                                                      "claims", "validity", "status", "record")}
    assert "Zoë Müller" in html and f'href="/verify/{cert_id}"' in html
    status, verdict, _html = upload(client, token_of(client, cert_id).encode(), filename="credential.jwt")
    assert verdict.outcome == "valid"


def test_the_form_is_on_the_verify_page_with_csrf_and_multipart(app):
    """GET /verify shows the id lookup and the upload form (multipart, CSRF token, field `file`)."""
    html = app.test_client().get("/verify").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and 'name="file"' in html
    assert 'name="csrf_token"' in html and 'name="id"' in html


def test_upload_without_csrf_token_or_file_is_refused(app):
    """No CSRF token: 400 and no check; no file: 400 with a message; GET never checks anything."""
    client = app.test_client()
    response = client.post("/verify", data={"file": (io.BytesIO(b"%PDF-1.4"), "c.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "data-outcome" not in response.get_data(as_text=True)
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    response = client.post("/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose the certificate file to check." in response.get_data(as_text=True)


@pytest.mark.parametrize("case", ["no attachment", "only credential.json", "two credentials", "garbage attachment",
                                  "encrypted", "truncated", "zip bomb", "not a pdf", "png", "empty",
                                  "html claiming pdf", "lzw attachment"])
def test_bad_files_get_a_clear_verdict(app, case):
    """Each broken or hostile file: 200 with outcome 'not valid' and the reason in words; nothing stored."""
    cert_id = issue(app)
    client = app.test_client()
    genuine = pdf_of(app, cert_id)
    token = token_of(client, cert_id).encode()
    files = {
        "no attachment": (lambda: pdf_with_attachments(), "no signed credential attached"),
        "only credential.json": (lambda: pdf_with_attachments(("credential.json", b"{}")),
                                 "no signed credential attached"),
        "two credentials": (lambda: pypdf_written(lambda w: (w.add_attachment("credential.jwt", token),
                                                             w.add_attachment("credential.jwt", token))),
                            "more than one signed credential"),
        "garbage attachment": (lambda: pdf_with_attachments(("credential.jwt", b"\x00\xff garbage")),
                               "is not a signed credential"),
        "encrypted": (lambda: pypdf_written(lambda w: (w.append(io.BytesIO(genuine)),
                                                       w.encrypt("", "owner", algorithm="AES-256"))),
                      "The PDF is encrypted"),
        "truncated": (lambda: genuine[: len(genuine) // 2], "damaged or truncated"),
        "zip bomb": (lambda: pdf_with_attachments(("credential.jwt", b"A" * (64 * 1024 * 1024))),
                     "far larger than any certificate"),
        "not a pdf": (lambda: b"Just some text, not a certificate.", "neither a PDF nor a signed credential"),
        "png": (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "neither a PDF nor a signed credential"),
        "empty": (lambda: b"", "neither a PDF nor a signed credential"),
        "html claiming pdf": (lambda: b"<html>%PDF-1.4</html>", "neither a PDF nor a signed credential"),
        "lzw attachment": (lambda: pdf_with_attachments(("credential.jwt", token)).replace(
            b"/Filter /FlateDecode", b"/Filter /LZWDecode  "), "is not a signed credential"),
    }
    build, message = files[case]
    before = table_counts(app)
    status, verdict, _html = upload(client, build())
    assert status == 200 and verdict.outcome == "invalid", (status, verdict.outcome)
    assert message in verdict.error
    assert verdict.checks["file"] == "failed" and verdict.checks["signature"] == "skipped"
    assert table_counts(app) == before


def test_tokens_from_elsewhere_and_forged_algorithms(app, other_ring):
    """Another issuer, another key under our kid, alg none, HS256 with our public key: never valid."""
    cert_id = issue(app)
    client = app.test_client()
    claims = payload(token_of(client, cert_id))
    public_pem = serialization.load_pem_public_key(serialization.load_pem_public_key(
        _public_pem(app)).public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header(token_of(client, cert_id))["kid"]}))
    hs_body = _b64(json.dumps(claims))
    hs_signature = _b64(hmac.new(public_pem, f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest(), raw=True)
    other_site = {**claims, "iss": "https://evil.example",
                  "issuer": {**claims["issuer"], "id": "https://evil.example"}}
    cases = {
        "their key, their kid URL": (forge(claims, other_ring.current_key,
                                           kid=key_url("https://evil.example", other_ring.current)), "not_issued_here"),
        "their key, a thumbprint we do not have": (forge(claims, other_ring.current_key, kid=other_ring.current),
                                                   "not_issued_here"),
        "their key under our kid": (forge(claims, other_ring.current_key, kid=header(token_of(client, cert_id))["kid"]),
                                    "invalid"),
        "another issuer": (forge(other_site, other_ring.current_key,
                                 kid=key_url("https://evil.example", other_ring.current)), "not_issued_here"),
        "alg none": (unsigned(claims), "invalid"),
        "HS256 with our public key": (f"{hs_header}.{hs_body}.{hs_signature}", "invalid"),
    }
    for name, (token, outcome) in cases.items():
        for data in (token.encode(), pdf_with_attachments(("credential.jwt", token.encode()))):
            status, verdict, _html = upload(client, data)
            assert (status, verdict.outcome) == (200, outcome), name
            assert "failed" in verdict.checks.values(), name


def _public_pem(app) -> bytes:
    """Our current public key as PEM."""
    with app.app_context():
        from coaching.services.credentials import keyring

        return keyring().current_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(text: str | bytes, raw: bool = False) -> str:
    """base64url without padding."""
    import base64

    data = text if raw else text.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tampered_pdf_attachment_is_not_valid(app):
    """A PDF whose attached credential was edited (another name) fails the signature check."""
    cert_id = issue(app, "Alex Affiliate")
    client = app.test_client()
    head, body, signature = token_of(client, cert_id).split(".")
    claims = payload(f"{head}.{body}.{signature}")
    claims["credentialSubject"]["name"] = "Mallory Forger"
    forged = f"{head}.{_b64(json.dumps(claims))}.{signature}"
    status, verdict, html = upload(client, pdf_with_attachments(("credential.jwt", forged.encode())))
    assert verdict.outcome == "invalid" and verdict.checks["signature"] == "failed"
    assert "Mallory" not in html  # nothing from an unverified credential is shown


def test_signed_facts_that_differ_from_the_record_are_altered(app, our_key):
    """Our signature over facts our record does not hold (a re-signed, edited credential): altered, with the
    differences listed."""
    key, thumbprint = our_key
    cert_id = issue(app, "Alex Affiliate")
    client = app.test_client()
    claims = payload(token_of(client, cert_id))
    claims["credentialSubject"]["name"] = "Alexandra Affiliate-Smith"
    claims["credentialSubject"]["identifier"][0]["identityHash"] = "Alexandra Affiliate-Smith"
    token = forge(claims, key, kid=key_url(SITE, thumbprint), typ="JWT")
    status, verdict, html = upload(client, pdf_with_attachments(("credential.jwt", token.encode())))
    assert status == 200 and verdict.outcome == "altered" and verdict.checks["record"] == "failed"
    assert verdict.checks["signature"] == "ok"
    assert "Alexandra Affiliate-Smith" in html and "Alex Affiliate" in html and "What differs" in html


def test_unknown_id_signed_with_our_key_is_not_issued_here(app, our_key):
    """A credential our key signed whose id names no certificate of ours (e.g. a test installation sharing a key)."""
    key, thumbprint = our_key
    cert_id = issue(app)
    claims = payload(token_of(app.test_client(), cert_id))
    other = f"{SITE}/verify/ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZ"
    claims.update(id=other, jti=other)
    claims["credentialSubject"]["id"] = claims["sub"] = f"{other}#recipient"
    status, verdict, _html = upload(app.test_client(), forge(claims, key, kid=key_url(SITE, thumbprint)).encode())
    assert verdict.outcome == "not_issued_here" and verdict.checks["record"] == "failed"


def test_expired_revoked_and_withdrawn(app):
    """The PDF a holder kept: expired after its end date, revoked after a manager revoked it, withdrawn after the
    holder withdrew it - the PDF itself never changes."""
    expired, revoked, withdrawn = issue(app, "Exp"), issue(app, "Rev"), issue(app, "Xaver Quist")
    pdfs = {cert_id: pdf_of(app, cert_id) for cert_id in (revoked, withdrawn)}
    expire(app, expired)
    pdfs[expired] = pdf_of(app, expired)
    revoke(app, revoked)
    withdraw(app, withdrawn)
    client = app.test_client()
    status, verdict, _html = upload(client, pdfs[expired])
    assert verdict.outcome == "expired" and verdict.checks["validity"] == "failed"
    status, verdict, html = upload(client, pdfs[revoked])
    assert verdict.outcome == "revoked" and verdict.checks["status"] == "failed"
    status, verdict, html = upload(client, pdfs[withdrawn])
    assert verdict.outcome == "withdrawn" and "Xaver Quist" not in html  # the holder withdrew: no name


def test_revoked_old_certificate_without_status_entry_is_revoked(app):
    """A certificate from before status lists (no credentialStatus) revoked later: the record says revoked."""
    cert_id = issue(app)
    update_row(app, cert_id, status_index=None)
    pdf = pdf_of(app, cert_id)
    revoke(app, cert_id)
    status, verdict, _html = upload(app.test_client(), pdf)
    assert verdict.outcome == "revoked" and verdict.checks["status"] == "skipped"


def test_a_2_mb_pdf_is_accepted_while_the_app_limit_stays_1_mb(app):
    """The upload route reads up to 5 MB; any other route still answers 413 beyond 1 MB."""
    cert_id = issue(app)
    big = pdf_with_attachments(("credential.jwt", token_of(app.test_client(), cert_id).encode()),
                               padding=2 * 1024 * 1024)
    assert 2 * 1024 * 1024 < len(big) < MAX_FILE_BYTES
    client = app.test_client()
    status, verdict, _html = upload(client, big)
    assert status == 200 and verdict.outcome == "valid"
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"csrf_token": token, "email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_over_5_mb_gets_a_clear_413_page(app):
    """Beyond the route's limit: 413 with the upload page saying the file is larger than 5 MB."""
    client = app.test_client()
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    response = post_file(client, {"csrf_token": token,
                                  "file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024)), "a.pdf")})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "The file is larger than 5 MB." in html and 'enctype="multipart/form-data"' in html
    status, verdict, _html = upload(client, b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES)  # just over 5 MB, under the cap
    assert status == 200 and verdict.outcome == "invalid" and "larger than 5 MB" in verdict.error


def test_uploads_are_parsed_in_memory_and_nothing_is_kept(app, monkeypatch, tmp_path):
    """Werkzeug spools uploads over 500 KB to a temporary file; this route must not: the spooling classes are
    made to fail, and a 2 MB upload still works. No file appears in the instance folder, no row anywhere."""
    import werkzeug.formparser

    def no_disk(*_args, **_kwargs):
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_disk)
    with pytest.raises(AssertionError):  # the default path would have used it
        werkzeug.formparser.default_stream_factory(total_content_length=2_000_000, content_type=None, filename="x")
    cert_id = issue(app)
    big = pdf_with_attachments(("credential.jwt", token_of(app.test_client(), cert_id).encode()),
                               padding=2 * 1024 * 1024)
    before, files = table_counts(app), files_under(Path(app.instance_path))
    status, verdict, _html = upload(app.test_client(), big)
    assert status == 200 and verdict.outcome == "valid"
    assert table_counts(app) == before and files_under(Path(app.instance_path)) == files


def test_uploads_are_rate_limited(app_factory):
    """More uploads per minute than VERIFY_UPLOADS_PER_MINUTE from one address: 429."""
    app = app_factory(VERIFY_UPLOADS_PER_MINUTE=3)
    client = app.test_client()
    for _ in range(3):
        assert upload(client, b"not a certificate")[0] == 200
    assert upload(client, b"not a certificate")[0] == 429
    assert client.get("/verify").status_code == 200  # looking up ids is not limited by uploads


def test_check_labels_are_translated(app):
    """A German reader sees the outcome and the check labels in German."""
    cert_id = issue(app)
    client = app.test_client()
    status, verdict, html = upload(client, pdf_of(app, cert_id), **{"Accept-Language": "de"})
    assert verdict.outcome == "valid" and verdict.labels["signature"] == "Signatur"
    assert "Gültig" in html and "bestanden" in html
    status, verdict, html = upload(client, b"garbage", **{"Accept-Language": "de"})
    assert "weder ein PDF" in verdict.error


def test_links_in_the_answer_never_carry_uploaded_text(app):
    """The answer shows names only from a verified credential and escapes them."""
    cert_id = issue(app, "<b>Bold</b> & Co")
    status, verdict, html = upload(app.test_client(), pdf_of(app, cert_id))
    assert verdict.outcome == "valid" and "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html and "<b>Bold" not in html
    assert not re.search(r'href="[^"]*<', html)
