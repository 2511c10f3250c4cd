"""Verifying a certificate PDF or a VC-JWT: every bad file and token gets a clear, typed answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import statistics
import time
from datetime import datetime, timedelta

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from fpdf import FPDF
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject

from coaching.credentials.files import (
    MAX_CREDENTIAL_BYTES,
    CredentialFileError,
    parse_jwks,
    read_credential_file,
    read_credential_from_pdf,
)
from coaching.credentials.openbadges import build_credential
from coaching.credentials.pdf import render_certificate_pdf
from coaching.credentials.signing import key_url, sign_credential
from coaching.credentials.snapshot import ExamResult
from coaching.credentials.statuslist import LIST_SIZE, build_status_list_credential
from coaching.credentials.verify import (
    CHECK_NAMES,
    credential_differences,
    exit_code,
    format_verdict,
    verify_file,
    verify_token,
)

from .conftest import ISSUED_AT, make_snapshot

SITE = "https://academy.example"
NOW = ISSUED_AT + timedelta(days=10)


def b64url_json(obj: object) -> str:
    """Base64url of compact JSON."""
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    """The payload, unverified."""
    return pyjwt.decode(token, options={"verify_signature": False})


def sign(keyring, issuer_url: str | None = SITE, **facts) -> str:
    """A certificate token for a snapshot with ``facts``."""
    return sign_credential(build_credential(make_snapshot(**facts)), keyring, issuer_url=issuer_url)


def states(verdict) -> dict[str, str]:
    """Check name -> state."""
    return {check.name: check.state for check in verdict.checks}


def detail(verdict, name: str) -> str:
    """The detail of one check."""
    return next(check.detail for check in verdict.checks if check.name == name)


@pytest.fixture(scope="module")
def jwks(keyring):
    """The site's JWK Set as jwks.json will serve it."""
    return keyring.jwks(SITE)


@pytest.fixture(scope="module")
def certificate_pdf(keyring):
    """A real certificate PDF with a status entry."""
    snap = make_snapshot(status_index=5, exam=ExamResult(pass_mark=80, score=92))
    return render_certificate_pdf(snap, credential_jwt=sign(keyring, status_index=5,
                                                            exam=ExamResult(pass_mark=80, score=92)))


def verify(token, jwks, **options):
    """verify_token with this site and NOW."""
    return verify_token(token, jwks=jwks, issuer_url=SITE, now=options.pop("now", NOW), **options)


# --- tokens ---------------------------------------------------------------------------------------------


def test_a_good_token_is_valid_with_every_check_reported(keyring, jwks):
    """Every check is ok, status skipped without a status source; the credential is returned."""
    verdict = verify(sign(keyring), jwks)
    assert verdict.outcome == "valid" and exit_code(verdict) == 0
    assert [check.name for check in verdict.checks] == list(CHECK_NAMES[1:])
    assert states(verdict) == {name: "ok" for name in CHECK_NAMES[1:-1]} | {"status": "skipped"}
    assert verdict.credential["credentialSubject"]["name"] == "Zoë Müller-Lüdenscheidt Ñúñez"
    assert "carries no status entry" in detail(verdict, "status")


def test_a_token_with_the_old_bare_kid_still_verifies(keyring, jwks):
    """Certificates signed before key URLs keep verifying (also against the plain JWKS)."""
    token = sign(keyring, issuer_url=None)
    assert verify(token, jwks).outcome == "valid"
    assert verify(token, keyring.jwks()).outcome == "valid"


def test_a_token_signed_by_another_key_is_not_issued_here(other_keyring, jwks):
    """Another key, named by its own kid (bare or as a URL on our site): none of our keys."""
    for issuer_url in (None, SITE):
        verdict = verify(sign(other_keyring, issuer_url=issuer_url), jwks)
        assert verdict.outcome == "not_issued_here" and verdict.credential is None
        assert states(verdict)["key"] == "failed" and states(verdict)["signature"] == "skipped"


def test_another_key_claiming_our_kid_is_invalid(keyring, other_keyring, jwks):
    """A stranger's signature under our kid fails the signature check."""
    forged = pyjwt.encode(claims_of(sign(keyring)), other_keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url(SITE, keyring.current)})
    verdict = verify(forged, jwks)
    assert verdict.outcome == "invalid" and states(verdict)["signature"] == "failed"
    assert verdict.credential is None


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "RS512", "PS256", "ES256", None])
def test_algorithms_other_than_rs256_are_refused(keyring, jwks, alg):
    """alg none (unsigned) and every other algorithm are refused at the header."""
    header = {"alg": alg, "kid": key_url(SITE, keyring.current), "typ": "JWT"}
    forged = f"{b64url_json(header)}.{b64url_json(claims_of(sign(keyring)))}.c2ln"
    verdict = verify(forged, jwks)
    assert verdict.outcome == "invalid" and states(verdict)["algorithm"] == "failed"
    assert "only RS256" in detail(verdict, "algorithm")


def test_hs256_with_the_public_key_as_secret_is_refused(keyring, jwks):
    """The RS256/HS256 key-confusion attack fails, whatever form of the public key is the secret."""
    payload = claims_of(sign(keyring))
    public_pem = keyring.current_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (public_pem, json.dumps(jwks["keys"][0]).encode(), jwks["keys"][0]["n"].encode()):
        signing_input = f"{b64url_json({'alg': 'HS256', 'kid': key_url(SITE, keyring.current)})}." \
                        f"{b64url_json(payload)}"
        mac = base64.urlsafe_b64encode(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
        assert verify(f"{signing_input}.{mac.rstrip(b'=').decode()}", jwks).outcome == "invalid"


def test_an_expired_credential_is_expired_with_a_good_signature(keyring, jwks):
    """validUntil passed: outcome expired, signature reported ok, exit code 1."""
    token = sign(keyring, valid_until=ISSUED_AT + timedelta(days=365))
    verdict = verify(token, jwks, now=ISSUED_AT + timedelta(days=366))
    assert verdict.outcome == "expired" and exit_code(verdict) == 1
    assert verdict.signature_ok and states(verdict)["validity"] == "failed"
    assert "expired on 2027-11-25" in detail(verdict, "validity")
    assert verify(token, jwks, now=ISSUED_AT + timedelta(days=364)).outcome == "valid"


def test_a_credential_not_yet_valid_is_invalid(keyring, jwks):
    """nbf in the future (beyond the minute of leeway) is refused."""
    verdict = verify(sign(keyring), jwks, now=ISSUED_AT - timedelta(minutes=5))
    assert verdict.outcome == "invalid" and "not valid before" in detail(verdict, "validity")
    assert verify(sign(keyring), jwks, now=ISSUED_AT - timedelta(seconds=30)).outcome == "valid"


def test_a_credential_of_another_issuer_is_not_issued_here(other_keyring, jwks):
    """Another site's credential, signed with its key under its own key URL."""
    other = "https://other.example"
    token = sign_credential(build_credential(make_snapshot(issuer_url=other,
                                                           verify_url=f"{other}/verify/X")),
                            other_keyring, issuer_url=other)
    verdict = verify(token, jwks)
    assert verdict.outcome == "not_issued_here"
    assert "belongs to another site" in detail(verdict, "key")


def test_a_kid_url_of_another_host_is_not_issued_here(keyring, jwks):
    """Our own thumbprint under another host's key URL is not our key."""
    forged = pyjwt.encode(claims_of(sign(keyring)), keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url("https://evil.example", keyring.current)})
    assert verify(forged, jwks).outcome == "not_issued_here"


def test_our_key_with_another_iss_is_not_issued_here(keyring, jwks):
    """Even under our key, a credential naming another issuer is not ours."""
    payload = {**claims_of(sign(keyring)), "iss": "https://other.example"}
    payload["issuer"] = {**payload["issuer"], "id": "https://other.example"}
    forged = pyjwt.encode(payload, keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url(SITE, keyring.current)})
    verdict = verify(forged, jwks)
    assert verdict.outcome == "not_issued_here" and states(verdict)["issuer"] == "failed"


def test_a_tampered_payload_is_invalid(keyring, jwks):
    """Changing the name (or the score) breaks the signature."""
    token = sign(keyring, exam=ExamResult(pass_mark=80, score=81))
    head, _, sig = token.split(".")
    for change in ({"name": "Mallory"}, {"result": [{"type": ["Result"], "value": "100"}]}):
        payload = claims_of(token)
        payload["credentialSubject"].update(change)
        verdict = verify(f"{head}.{b64url_json(payload)}.{sig}", jwks)
        assert verdict.outcome == "invalid" and states(verdict)["signature"] == "failed"


def test_claims_that_differ_from_the_credential_are_invalid(keyring, jwks):
    """A token we signed whose jti is not the credential id fails the claims check."""
    payload = {**claims_of(sign(keyring)), "jti": f"{SITE}/verify/OTHER"}
    forged = pyjwt.encode(payload, keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url(SITE, keyring.current)})
    verdict = verify(forged, jwks)
    assert verdict.outcome == "invalid" and "jti" in detail(verdict, "claims")


def test_critical_header_extensions_are_refused(keyring, jwks):
    """A crit header parameter this verifier does not understand means no."""
    forged = pyjwt.encode(claims_of(sign(keyring)), keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url(SITE, keyring.current), "crit": ["exp"]})
    assert verify(forged, jwks).outcome == "invalid"


@pytest.mark.parametrize("garbage", [None, 7, b"a.b.c", "", "a.b", "a.b.c", "...", "eyJ.eyJ.x",
                                     f"{b64url_json([1])}.{b64url_json({})}.c2ln", "é.é.é"])
def test_garbage_tokens_are_invalid(garbage, jwks):
    """Anything that is not a JWT gets the verdict invalid, never an exception."""
    verdict = verify(garbage, jwks)
    assert verdict.outcome == "invalid" and states(verdict)["format"] == "failed"


@pytest.mark.parametrize("bad_jwks", [None, {}, {"keys": None}, {"keys": ["x", 1]}, []])
def test_a_broken_key_set_means_not_issued_here(keyring, bad_jwks):
    """Without usable keys nothing verifies."""
    assert verify(sign(keyring), bad_jwks).outcome == "not_issued_here"


def test_naive_now_is_a_programming_error(keyring, jwks):
    """The caller must pass an aware time."""
    with pytest.raises(ValueError):
        verify_token(sign(keyring), jwks=jwks, issuer_url=SITE, now=datetime(2027, 1, 1))


# --- status -------------------------------------------------------------------------------------------


def status_list(keyring, revoked, *, number=0, valid_until=None, signer=None) -> str:
    """A signed status list credential."""
    credential = build_status_list_credential(site=SITE, issuer_name="Academy", number=number,
                                              revoked=revoked, valid_from=ISSUED_AT, valid_until=valid_until)
    return sign_credential(credential, signer or keyring, issuer_url=SITE)


def test_status_lookup_revoked_valid_unknown(keyring, jwks):
    """The decoded lookup answers revoked (True), not revoked (False) or unknown (None)."""
    token = sign(keyring, status_index=LIST_SIZE + 3)
    asked = []

    def lookup(answer):
        def look(url, position):
            asked.append((url, position))
            return answer
        return look

    assert verify(token, jwks, status_lookup=lookup(True)).outcome == "revoked"
    assert asked[-1] == (f"{SITE}/credentials/status/1", 3)
    assert verify(token, jwks, status_lookup=lookup(False)).outcome == "valid"
    verdict = verify(token, jwks, status_lookup=lookup(None))
    assert verdict.outcome == "valid" and states(verdict)["status"] == "skipped"


def test_signed_status_list_says_revoked_or_not(keyring, jwks):
    """A signed list with the bit set gives revoked; without it, valid."""
    token = sign(keyring, status_index=42)
    revoked = verify(token, jwks, status_list_jwt=status_list(keyring, [42]))
    assert revoked.outcome == "revoked" and revoked.signature_ok and exit_code(revoked) == 1
    assert "revoked or withdrawn" in detail(revoked, "status")
    assert verify(token, jwks, status_list_jwt=status_list(keyring, [41, 43])).outcome == "valid"


def test_expired_and_revoked_says_revoked(keyring, jwks):
    """Revocation is the stronger statement."""
    token = sign(keyring, status_index=1, valid_until=ISSUED_AT + timedelta(days=1))
    assert verify(token, jwks, status_lookup=lambda url, position: True).outcome == "revoked"


@pytest.mark.parametrize("problem", ["other key", "other list", "expired list", "garbage", "not a list"])
def test_a_status_list_that_does_not_verify_makes_the_verdict_invalid(keyring, other_keyring, jwks, problem):
    """A forged, foreign, stale or malformed status list is never taken as "not revoked"."""
    token = sign(keyring, status_index=7)
    status = {
        "other key": lambda: status_list(keyring, [], signer=other_keyring),
        "other list": lambda: status_list(keyring, [], number=1),
        "expired list": lambda: status_list(keyring, [], valid_until=NOW - timedelta(hours=1)),
        "garbage": lambda: "not.a.jwt",
        "not a list": lambda: sign(keyring),
    }[problem]()
    verdict = verify(token, jwks, status_list_jwt=status)
    assert verdict.outcome == "invalid" and states(verdict)["status"] == "failed"
    assert detail(verdict, "status").startswith("status list not verified")


def test_a_status_entry_pointing_elsewhere_is_invalid(keyring, jwks):
    """A credential (signed by us) whose status list is on another host cannot be checked."""
    payload = claims_of(sign(keyring, status_index=3))
    payload["credentialStatus"]["statusListCredential"] = "https://evil.example/credentials/status/0"
    forged = pyjwt.encode(payload, keyring.current_key, algorithm="RS256",
                          headers={"kid": key_url(SITE, keyring.current)})
    assert verify(forged, jwks, status_lookup=lambda url, position: False).outcome == "invalid"


# --- PDFs and files -------------------------------------------------------------------------------------


def pdf_with_attachments(*files: tuple[str, bytes]) -> bytes:
    """A one-page PDF with the given attachments (fpdf2, which refuses duplicate names)."""
    pdf = FPDF()
    pdf.add_page()
    for name, content in files:
        pdf.embed_file(bytes=content, basename=name, compress=True)
    return bytes(pdf.output())


def pypdf_written(builder) -> bytes:
    """A PDF written by pypdf after ``builder(writer)``."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    builder(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_credential_is_read_from_a_real_certificate(certificate_pdf, keyring):
    """The attachment credential.jwt of a rendered certificate is the signed token, byte for byte."""
    token = read_credential_from_pdf(certificate_pdf)
    assert token == sign(keyring, status_index=5, exam=ExamResult(pass_mark=80, score=92))
    assert read_credential_file(certificate_pdf) == token


def refusal(data: bytes) -> str:
    """The error code read_credential_from_pdf raises."""
    with pytest.raises(CredentialFileError) as caught:
        read_credential_from_pdf(data)
    assert str(caught.value)
    return caught.value.code


def test_a_pdf_without_attachment(certificate_pdf):
    """No credential.jwt: no_credential (the decoded credential.json alone does not count)."""
    assert refusal(pdf_with_attachments()) == "no_credential"
    assert refusal(pdf_with_attachments(("credential.json", b"{}"))) == "no_credential"


def test_a_pdf_with_two_credentials(keyring):
    """Two attachments named credential.jwt: which one would count? Refused."""
    token = sign(keyring).encode()
    data = pypdf_written(lambda w: (w.add_attachment("credential.jwt", token),
                                    w.add_attachment("credential.jwt", token)))
    assert refusal(data) == "several_credentials"


@pytest.mark.parametrize("content", [b"\x00\xff garbage", b"not a jwt", b"a.b", "ä.b.c".encode(), b" \n"])
def test_a_pdf_with_a_garbage_attachment(content):
    """An attachment that is not a compact JWT is refused as bad_attachment."""
    assert refusal(pdf_with_attachments(("credential.jwt", content))) == "bad_attachment"


def test_an_attachment_with_another_encoding_is_refused(keyring):
    """Only FlateDecode (or no filter) is inflated, by our bounded reader; LZW and friends are refused."""
    data = pdf_with_attachments(("credential.jwt", sign(keyring).encode()))
    assert data.count(b"/Filter /FlateDecode") >= 1
    data = data.replace(b"/Filter /FlateDecode", b"/Filter /LZWDecode  ")  # same length: offsets hold
    assert refusal(data) == "bad_attachment"


def test_an_encrypted_pdf(certificate_pdf):
    """Encrypted (even with an empty user password): refused before looking inside."""
    data = pypdf_written(lambda w: (w.append(io.BytesIO(certificate_pdf)),
                                    w.encrypt("", "owner", algorithm="AES-256")))
    assert refusal(data) == "encrypted"


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_pdf(certificate_pdf, keep):
    """A cut-off download is refused as damaged, also when an end marker is glued on."""
    cut = certificate_pdf[: int(len(certificate_pdf) * keep)]
    assert refusal(cut) == "damaged"
    assert refusal(cut + b"\n%%EOF\n") in {"damaged", "no_credential"}


def test_a_zip_bomb_like_attachment_is_not_inflated():
    """An attachment inflating to 64 MB is stopped at the cap without inflating it."""
    bomb = pdf_with_attachments(("credential.jwt", b"A" * (64 * 1024 * 1024)))
    assert len(bomb) < 1_000_000
    start = time.perf_counter()
    assert refusal(bomb) == "attachment_too_large"
    assert time.perf_counter() - start < 1.0
    assert refusal(pdf_with_attachments(("credential.jwt", b"A" * (MAX_CREDENTIAL_BYTES + 1)))) == \
        "attachment_too_large"


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + b"\0" * 100, b"", b"PK\x03\x04zip", b" %PDF-1.4",
                                  b"<html>%PDF-</html>"])
def test_a_file_that_is_not_a_pdf(data):
    """The content decides, not the name: anything not starting with %PDF- is not_pdf."""
    assert refusal(data) == "not_pdf"


def test_a_file_over_5_mb_is_refused_before_parsing():
    """Over 5 MB: too_large, whatever it is."""
    assert refusal(b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)) == "too_large"


def test_pdf_parser_errors_never_escape():
    """Broken PDF structure of every kind gives CredentialFileError."""
    for data in (b"%PDF-1.4\n%%EOF", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF",
                 b"%PDF-1.4\n" + b"[" * 10_000 + b"\n%%EOF", b"%PDF-" + bytes(range(256)) * 20 + b"%%EOF"):
        assert refusal(data) in {"damaged", "no_credential"}


def test_a_name_tree_that_loops_is_refused_quickly():
    """/Kids pointing back at their own node (twice per level) cannot make the reader walk forever."""
    def looping_tree(writer):
        node = DictionaryObject()
        ref = writer._add_object(node)
        node[NameObject("/Kids")] = ArrayObject([ref, ref])
        writer._root_object[NameObject("/Names")] = writer._add_object(
            DictionaryObject({NameObject("/EmbeddedFiles"): ref}))
    start = time.perf_counter()
    assert refusal(pypdf_written(looping_tree)) == "damaged"
    assert time.perf_counter() - start < 1.0


def test_read_credential_file_takes_a_jwt_text_file(keyring):
    """A .jwt download (with a trailing newline or BOM) is accepted; other text is not_pdf."""
    token = sign(keyring)
    assert read_credential_file(f"{token}\n".encode()) == token
    assert read_credential_file(b"\xef\xbb\xbf" + token.encode()) == token
    with pytest.raises(CredentialFileError) as caught:
        read_credential_file(b"hello world")
    assert caught.value.code == "not_pdf"


# --- the CLI core ---------------------------------------------------------------------------------------


def test_verify_file_with_a_pdf_and_a_status_file(certificate_pdf, keyring, jwks):
    """Offline: a PDF, the key set and a status list give a full verdict and exit code."""
    verdict = verify_file(certificate_pdf, jwks=jwks, issuer_url=SITE, now=NOW,
                          status_list_jwt=status_list(keyring, []))
    assert verdict.outcome == "valid" and exit_code(verdict) == 0
    assert [check.name for check in verdict.checks] == list(CHECK_NAMES)
    assert all(check.state == "ok" for check in verdict.checks)
    lines = format_verdict(verdict)
    assert lines[0] == "outcome: valid" and len(lines) == 1 + len(CHECK_NAMES)
    revoked = verify_file(certificate_pdf, jwks=jwks, issuer_url=SITE, now=NOW,
                          status_list_jwt=status_list(keyring, [5]))
    assert revoked.outcome == "revoked" and exit_code(revoked) == 1


def test_verify_file_with_an_unreadable_file(jwks):
    """A bad file fails the file check; everything else is skipped; exit code 1."""
    verdict = verify_file(b"GIF89a", jwks=jwks, issuer_url=SITE, now=NOW)
    assert verdict.outcome == "invalid" and exit_code(verdict) == 1
    assert states(verdict) == {"file": "failed"} | {name: "skipped" for name in CHECK_NAMES[1:]}


def test_parse_jwks(keyring):
    """--keys takes a JWK Set file; anything else is refused clearly."""
    assert parse_jwks(json.dumps(keyring.jwks(SITE)).encode()) == keyring.jwks(SITE)
    for data in (b"", b"[]", b'{"keys": 1}', b"\xff", b" " * 300_000):
        with pytest.raises(CredentialFileError):
            parse_jwks(data)


def test_verifying_a_pdf_is_fast(certificate_pdf, keyring, jwks, record_property):
    """Reading the attachment and verifying it (signature and status list) takes well under 50 ms."""
    status = status_list(keyring, [])
    timings = []
    for _ in range(25):
        start = time.perf_counter()
        verify_file(certificate_pdf, jwks=jwks, issuer_url=SITE, now=NOW, status_list_jwt=status)
        timings.append(time.perf_counter() - start)
    median_ms = statistics.median(timings) * 1000
    record_property("verify_pdf_median_ms", round(median_ms, 2))
    print(f"\nverify a certificate PDF (with status list): median {median_ms:.2f} ms")
    assert median_ms < 50


# --- comparing with the record ------------------------------------------------------------------------


def test_credential_differences_lists_the_facts_that_differ():
    """Name, course, dates and score are compared; equal credentials have no differences."""
    record = build_credential(make_snapshot(exam=ExamResult(pass_mark=80, score=92)))
    assert credential_differences(record, record) == ()
    signed = build_credential(make_snapshot(recipient_name="Mallory", exam=ExamResult(pass_mark=80, score=100),
                                            valid_until=ISSUED_AT + timedelta(days=30)))
    found = {difference.fact: (difference.signed, difference.record)
             for difference in credential_differences(signed, record)}
    assert found == {"recipient_name": ("Mallory", "Zoë Müller-Lüdenscheidt Ñúñez"), "score": ("100", "92"),
                     "valid_until": ("2026-12-25T10:30:15Z", None)}


def test_credential_differences_accepts_any_json():
    """Malformed documents are compared without exceptions."""
    assert credential_differences({"credentialSubject": []}, {"credentialSubject": {"name": "A"}})
    assert credential_differences({}, {}) == ()
