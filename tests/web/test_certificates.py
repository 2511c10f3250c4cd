"""Certificates on the web: issuing once, PDF access, public verification, signed credential, lifecycle."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coaching.extensions import db
from coaching.models import Certificate, User, utcnow
from tests.conftest import Auth
from tests.web.helpers import certificate_id, finish_demo_course


@pytest.fixture
def certified(client, logged_in):
    """The signed-in affiliate finished the demo course; returns the certificate id."""
    finish_demo_course(client)
    return certificate_id(client)


def count_certificates(app) -> int:
    """Number of certificate rows."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Certificate))


def test_finishing_course_issues_one_certificate(app, client, certified):
    """Completing the last lesson issues a certificate once, with a snapshot and an unguessable id."""
    assert len(certified.replace("-", "")) >= 16
    with app.app_context():
        cert = db.session.get(Certificate, certified)
        assert cert.recipient_name == "Alex Affiliate" and cert.course_title == "Demo course"
        assert cert.language == "en" and len(cert.content_fingerprint) >= 16
        assert cert.valid_until.year == cert.issued_at.year + 2
    finish_demo_course(client)  # completing again while valid changes nothing
    assert count_certificates(app) == 1
    body = client.get("/dashboard").get_data(as_text=True)
    assert "linkedin.com/profile/add" in body and f"certId={certified}" in body


def test_pdf_for_owner_and_manager_only(app, client, certified, manager_client, make_user):
    """The PDF is for its holder and managers; anyone else gets a 404."""
    response = client.get(f"/certificates/{certified}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="certificate-{certified}.pdf"' in response.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Alex Affiliate" in text and certified in text and f"http://localhost/verify/{certified}" in text
    assert manager_client.get(f"/certificates/{certified}.pdf").status_code == 200
    make_user(email="other@example.com")
    other = app.test_client()
    Auth(other).login("other@example.com")
    assert other.get(f"/certificates/{certified}.pdf").status_code == 404
    assert app.test_client().get(f"/certificates/{certified}.pdf").status_code == 302


def test_pdf_is_deterministic(client, certified):
    """The same certificate gives the same bytes."""
    assert client.get(f"/certificates/{certified}.pdf").data == client.get(f"/certificates/{certified}.pdf").data


def test_public_verification_page(app, certified):
    """Anyone can verify: valid, name, course, dates, issuer; never indexed."""
    anonymous = app.test_client()
    response = anonymous.get(f"/verify/{certified}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Valid" in body and "Alex Affiliate" in body and "Demo course" in body
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert "<svg" in body  # the QR code
    assert "Verify another certificate" in body


def test_unknown_and_odd_ids(app, certified):
    """Unknown ids are a plain 404; lower case or missing dashes redirect to the canonical id."""
    anonymous = app.test_client()
    assert anonymous.get("/verify/ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code == 404
    for odd in ("<script>", "AAAA", "ÄÖÜ", "x" * 300, "../../etc"):
        assert anonymous.get(f"/verify/{odd}").status_code == 404
    response = anonymous.get(f"/verify/{certified.lower()}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/verify/{certified}")
    response = anonymous.get(f"/verify/{certified.replace('-', '')}")
    assert response.status_code == 301


def test_lookup_form(app, certified):
    """The "verify another id" form sends to the id's page or explains what is wrong."""
    anonymous = app.test_client()
    assert anonymous.get(f"/verify?id={certified.lower()}").headers["Location"].endswith(certified)
    response = anonymous.get("/verify?id=not-an-id")
    assert response.status_code == 400 and "not a valid certificate id" in response.get_data(as_text=True)


def test_signed_credential_verifies_against_jwks(app, certified):
    """The VC-JWT verifies with an independent JOSE library against /.well-known/jwks.json."""
    anonymous = app.test_client()
    token = anonymous.get(f"/verify/{certified}.jwt").get_data(as_text=True)
    jwks = anonymous.get("/.well-known/jwks.json").json
    assert all("d" not in key for key in jwks["keys"])
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    vc = decoded.claims.get("vc", decoded.claims)
    assert "OpenBadgeCredential" in vc["type"]
    assert vc["credentialSubject"]["achievement"]["name"] == "Demo course"
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"] in {k["kid"] for k in jwks["keys"]}
    head, payload, signature = token.split(".")
    forged = ".".join([head, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    with pytest.raises(JoseError):
        jwt.decode(forged, KeySet.import_key_set(jwks), algorithms=["RS256"])


def test_json_is_the_credential_and_status_json_the_status(app, certified):
    """/verify/<id>.json is the credential itself (the JWT's payload without the JWT claims);
    /verify/<id>/status.json holds the status."""
    anonymous = app.test_client()
    response = anonymous.get(f"/verify/{certified}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert body["id"] == f"http://localhost/verify/{certified}" and "OpenBadgeCredential" in body["type"]
    assert body["credentialSubject"]["achievement"]["name"] == "Demo course"
    assert not {"status", "iss", "jti", "nbf"} & set(body)
    status = anonymous.get(f"/verify/{certified}/status.json")
    assert status.status_code == 200 and status.mimetype == "application/json"
    assert status.json["status"] == "valid" and status.json["revoked_at"] is None


def test_revocation_shown_and_idempotent(app, certified):
    """A revoked certificate says so with date and reason; revoking twice changes nothing."""
    from coaching.services.certificates import revoke

    with app.app_context():
        cert = db.session.get(Certificate, certified)
        assert revoke(cert, "Issued by mistake") is True
        first = cert.revoked_at
        assert revoke(cert, "Another reason") is False
        db.session.commit()
        assert db.session.get(Certificate, certified).revoked_at == first
    anonymous = app.test_client()
    body = anonymous.get(f"/verify/{certified}").get_data(as_text=True)
    assert "Revoked" in body and "Issued by mistake" in body and "Another reason" not in body
    status = anonymous.get(f"/verify/{certified}/status.json").json
    assert status["status"] == "revoked" and status["revocation_reason"] == "Issued by mistake"


def test_expiry_and_reissue_with_new_id(app, client, certified):
    """After expiry the page says expired, and completing again issues a new certificate with a new id."""
    with app.app_context():
        cert = db.session.get(Certificate, certified)
        cert.issued_at = utcnow() - timedelta(days=800)
        cert.valid_until = utcnow() - timedelta(days=70)
        db.session.commit()
    assert "Expired" in app.test_client().get(f"/verify/{certified}").get_data(as_text=True)
    finish_demo_course(client)
    with app.app_context():
        ids = set(db.session.scalars(select(Certificate.id)))
    assert len(ids) == 2 and certified in ids


def test_database_refuses_a_second_current_certificate(app, certified):
    """The unique index, not only Python, prevents two current certificates per person and course."""
    with app.app_context():
        cert = db.session.get(Certificate, certified)
        db.session.add(Certificate(id="TEST-0000-0000-0000-0000", user_id=cert.user_id, course_slug="demo",
                                   recipient_name="x", course_title="x", certificate_title="x", language="en",
                                   content_fingerprint="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_parallel_issuing_gives_one_certificate(app, logged_in):
    """Eight parallel issuing calls for one person and course end with one row and the same id."""
    from coaching.services.catalog import catalog
    from coaching.services.certificates import issue_certificate

    ids, errors = [], []
    barrier = threading.Barrier(8)

    def issue():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                # Like a POST request: the write transaction starts with the write lock on SQLite.
                db.session.connection(execution_options={"sqlite_immediate": True})
                user = db.session.get(User, logged_in.id)
                cert = issue_certificate(user, catalog().course("demo"), "en")
                db.session.commit()
                ids.append(cert.id)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(ids)) == 1 and len(ids) == 8
    assert count_certificates(app) == 1


def test_completing_again_after_revocation_issues_new_id(app, client, certified):
    """After revocation, passing the course's quiz again issues a new certificate with a new id."""
    from coaching.services.certificates import revoke

    with app.app_context():
        revoke(db.session.get(Certificate, certified), "Re-take required")
        db.session.commit()
    finish_demo_course(client)
    with app.app_context():
        rows = {c.id: c.revoked_at for c in db.session.scalars(select(Certificate))}
    assert len(rows) == 2 and rows[certified] is not None
    [new_id] = [cid for cid, revoked in rows.items() if revoked is None]
    assert "Valid" in app.test_client().get(f"/verify/{new_id}").get_data(as_text=True)


def test_pdf_is_the_same_on_every_download_and_kept_nowhere(app, client, certified):
    """Each download renders the PDF from the row (no worker keeps one): the bytes are the same every time,
    and nothing is written under the instance folder."""
    from pathlib import Path

    instance = Path(app.instance_path)
    before = sorted(p for p in instance.rglob("*") if p.is_file()) if instance.exists() else []
    first = client.get(f"/certificates/{certified}.pdf").data
    assert first.startswith(b"%PDF") and client.get(f"/certificates/{certified}.pdf").data == first
    after = sorted(p for p in instance.rglob("*") if p.is_file()) if instance.exists() else []
    assert after == before
