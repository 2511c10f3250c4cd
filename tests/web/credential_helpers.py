"""Helpers for the certificate web tests: issue certificates through the services, put synthetic evidence on
a row, read tokens and status lists, build hostile files."""
from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
from fpdf import FPDF
from pypdf import PdfWriter

from coaching.credentials.statuslist import decode_list
from coaching.extensions import db
from coaching.models import Certificate, User, utcnow

SITE = "http://localhost"
PASSWORD = "a good passphrase"


def new_user(app: Any, name: str = "Alex Affiliate", language: str | None = None) -> int:
    """Create an affiliate through the accounts service; returns the id."""
    from coaching.services.accounts import create_user

    with app.app_context():
        user = create_user(email=f"u-{uuid.uuid4().hex[:10]}@example.com", name=name, password=PASSWORD,
                           language=language)
        db.session.commit()
        return user.id


def right_answers(quiz: Any, wrong: int = 0) -> dict[str, list[str]]:
    """Answers to a quiz in the service's format, the first `wrong` questions answered wrongly."""
    answers = {}
    for number, question in enumerate(quiz.questions):
        if number < wrong:
            answers[question.id] = (["no idea"] if question.kind == "text"
                                    else [next(o.id for o in question.options if not o.correct)])
        else:
            answers[question.id] = ([question.accepted[0]] if question.kind == "text"
                                    else [o.id for o in question.options if o.correct])
    return answers


def take_quiz(app: Any, user_id: int, *, wrong: int = 0, language: str = "en") -> Any:
    """One quiz attempt at the demo course's headlines lesson through the quiz service."""
    from coaching.services import catalog, quizzes

    with app.app_context():
        user = db.session.get(User, user_id)
        course = catalog.catalog().course("demo")
        lesson = course.lesson("headlines")
        text = lesson.texts["en"]
        attempt, _ = quizzes.submit_quiz(user, course, lesson, text, right_answers(text.quiz, wrong),
                                         uuid.uuid4().hex, language)
        db.session.commit()
        return attempt.percent, attempt.passed


def complete_demo(app: Any, user_id: int, *, wrong: int = 0, language: str = "en") -> str:
    """Read the welcome lesson and pass the quiz (with `wrong` wrong answers): the real issuing path."""
    from coaching.services import catalog, progress
    from coaching.services.certificates import current_certificate

    with app.app_context():
        user = db.session.get(User, user_id)
        course = catalog.catalog().course("demo")
        welcome = course.lesson("welcome")
        progress.mark_complete(user, course, welcome, welcome.texts["en"].content_hash, language)
        db.session.commit()
    take_quiz(app, user_id, wrong=wrong, language=language)
    with app.app_context():
        cert = current_certificate(user_id, "demo")
        assert cert is not None, "the course was not completed"
        return cert.id


def issue(app: Any, name: str = "Alex Affiliate", *, evidence: tuple = (), language: str = "en") -> str:
    """Issue a demo certificate straight through issue_certificate (no lessons needed); returns its id."""
    from coaching.services.catalog import catalog
    from coaching.services.certificates import issue_certificate

    user_id = new_user(app, name)
    with app.app_context():
        user = db.session.get(User, user_id)
        cert = issue_certificate(user, catalog().course("demo"), language, evidence=evidence)
        db.session.commit()
        return cert.id


def update_row(app: Any, cert_id: str, **values: Any) -> None:
    """Change columns of a certificate row directly (synthetic states: expired, old, evidence...)."""
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        for key, value in values.items():
            setattr(cert, key, value)
        db.session.commit()


def row(app: Any, cert_id: str) -> dict[str, Any]:
    """The columns of a certificate row."""
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        return {column.key: getattr(cert, column.key) for column in Certificate.__table__.columns}


def expire(app: Any, cert_id: str) -> None:
    """Make a certificate expired: issued 800 days ago, ended 70 days ago."""
    update_row(app, cert_id, issued_at=utcnow() - timedelta(days=800), valid_until=utcnow() - timedelta(days=70))


def revoke(app: Any, cert_id: str, reason: str = "Issued by mistake") -> None:
    """Revoke through the certificates service, as the manager action does."""
    from coaching.services.certificates import revoke as revoke_certificate

    with app.app_context():
        assert revoke_certificate(db.session.get(Certificate, cert_id), reason)
        db.session.commit()


def withdraw(app: Any, cert_id: str) -> None:
    """The holder deletes their account and withdraws their certificates (the privacy service)."""
    from coaching.services.privacy import delete_account

    with app.app_context():
        user = db.session.get(User, db.session.get(Certificate, cert_id).user_id)
        delete_account(user, actor=None, withdraw_certificates=True, via="self")
        db.session.commit()


def evidence_json(*, consent: bool = True, text: str = "Save 3 hours a week\n\nStart your free trial",
                  name: str = "Headline and call to action", link: str | None = None) -> dict[str, Any]:
    """One synthetic approved assignment as the coaching feature will store it."""
    return {"name": name, "task": "Write a **headline** (at most 70 characters) and a call to action.",
            "text": text, "reviewer_comment": "Concrete benefit; labelled as advertising.",
            "approved_at": "2026-11-20T09:15:00+00:00", "link": link, "consent": consent}


def pdf_of(app: Any, cert_id: str) -> bytes:
    """The certificate PDF as the download route renders it."""
    from coaching.services.credentials import certificate_pdf

    with app.app_context():
        return certificate_pdf(db.session.get(Certificate, cert_id))


def payload(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified."""
    return pyjwt.decode(token, options={"verify_signature": False})


def header(token: str) -> dict[str, Any]:
    """A JWT's header."""
    return pyjwt.get_unverified_header(token)


def forge(claims: dict[str, Any], key: Any, **headers: Any) -> str:
    """Sign claims with any RSA private key (another issuer, or ours for a re-signed altered credential)."""
    return pyjwt.encode(claims, key, algorithm="RS256", headers=headers)


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    """A token with alg none (empty signature)."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def status_bits(client: Any, number: int = 0) -> set[int]:
    """The set positions of status list `number` as served (payload read without verifying)."""
    response = client.get(f"/credentials/status/{number}")
    assert response.status_code == 200, response.status_code
    return set(decode_list(payload(response.get_data(as_text=True))["credentialSubject"]["encodedList"]).positions())


def pdf_with_attachments(*files: tuple[str, bytes], padding: int = 0) -> bytes:
    """A one-page PDF (fpdf2) with attachments, and optionally an uncompressed filler attachment."""
    pdf = FPDF()
    pdf.add_page()
    for name, content in files:
        pdf.embed_file(bytes=content, basename=name, compress=True)
    if padding:
        pdf.embed_file(bytes=bytes(range(256)) * (padding // 256 + 1), basename="filler.bin", compress=False)
    return bytes(pdf.output())


def pypdf_written(builder: Any) -> bytes:
    """A PDF written by pypdf after `builder(writer)`."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    builder(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def files_under(folder: Path) -> set[Path]:
    """Every file below a folder (nothing when it does not exist)."""
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def aware(days: int = 0) -> datetime:
    """Now plus `days`, aware UTC."""
    return datetime.now(UTC) + timedelta(days=days)
