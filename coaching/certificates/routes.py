"""Views: certificate PDF (owner or manager), public verification page and upload check, the credential (.jwt,
.json), its status, evidence pages, the status lists and the issuer's keys."""
from __future__ import annotations

import hashlib
import io
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from ..access import public, signed_in
from ..credentials.files import MAX_FILE_BYTES
from ..credentials.ids import normalize_certificate_id
from ..credentials.openbadges import format_percent
from ..errors import render_error
from ..extensions import limiter
from ..i18n import current_language
from ..logs import log_event
from ..routing import attachment
from ..services import certificates as issuing
from ..services import credentials, links, verification
from ..services import evidence as evidence_service
from . import bp
from .forms import VerifyUploadForm

SUFFIXES = (".jwt", ".json", ".pdf")
# The upload route alone accepts a 5 MB file (plus the multipart envelope); the app-wide limit stays 1 MB.
UPLOAD_LIMIT = MAX_FILE_BYTES + 64 * 1024
MACHINE_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-cache",
                   "Access-Control-Allow-Origin": "*"}

OUTCOMES = {  # outcome: (banner class, headline)
    "valid": ("status-valid", _l("Valid: this certificate was issued here and has not been revoked.")),
    "expired": ("status-expired", _l("Expired: this certificate was issued here, but its end date has passed.")),
    "revoked": ("status-revoked", _l("Revoked: this certificate was issued here and has been revoked.")),
    "withdrawn": ("status-withdrawn", _l("Withdrawn: the holder has withdrawn this certificate.")),
    "not_issued_here": ("status-revoked", _l("Not issued here: this site did not issue this certificate.")),
    "altered": ("status-revoked", _l("Altered: what this file states differs from our record of the certificate.")),
    "invalid": ("status-revoked", _l("Not valid: this file does not carry a genuine certificate of this site.")),
}
CHECK_LABELS = {
    "file": _l("File"), "format": _l("Format"), "algorithm": _l("Signature algorithm"), "key": _l("Issuer key"),
    "signature": _l("Signature"), "issuer": _l("Issuer"), "claims": _l("Content"), "validity": _l("Validity dates"),
    "status": _l("Revocation list"), "record": _l("Our record"),
}
STATES = {"ok": _l("passed"), "failed": _l("failed"), "skipped": _l("not checked")}
FILE_ERRORS = {
    "too_large": _l("The file is larger than 5 MB."),
    "not_pdf": _l("The file is neither a PDF nor a signed credential (.jwt)."),
    "damaged": _l("The PDF is damaged or truncated and cannot be read."),
    "encrypted": _l("The PDF is encrypted. Certificates from this site never are."),
    "no_credential": _l("The PDF has no signed credential attached. Certificates from this site always carry one."),
    "several_credentials": _l("The PDF carries more than one signed credential, so it cannot be a certificate "
                              "from this site."),
    "attachment_too_large": _l("The credential attached to the PDF is far larger than any certificate's."),
    "bad_attachment": _l("The credential attached to the PDF is not a signed credential."),
}
FACTS = {"credential_id": _l("Certificate id"), "recipient_name": _l("Name"), "course": _l("Course"),
         "certificate_title": _l("Title"), "issued": _l("Issued"), "valid_until": _l("Valid until"),
         "score": _l("Score"), "pass_mark": _l("Pass mark")}


def _split(name: str) -> tuple[str, str]:
    """Split `K7QF-....jwt` into the id part and the suffix ('' for the page)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def _public_certificate(raw: str, endpoint: str, **values: Any) -> Any:
    """The certificate of a public URL, a 301 to its canonical id, or a 404."""
    cert = issuing.find_certificate(raw)
    if cert is None:
        abort(404)
    if raw != cert.id:  # a mistyped or lower-case id: one canonical address
        abort(redirect(url_for(endpoint, name=cert.id, **values), 301))
    g.cacheable = True
    return cert


def _machine(response: Any) -> Any:
    """Headers of the machine-readable public documents: never indexed, revalidated, readable cross-origin."""
    response.headers.update(MACHINE_HEADERS)
    return response


@bp.get("/certificates/<name>")
@signed_in
def download(name: str) -> Any:
    """The certificate PDF: for its holder and for managers; anyone else gets a 404."""
    raw, suffix = _split(name)
    cert = issuing.downloadable_certificate(current_user, raw) if suffix == ".pdf" else None
    if cert is None:
        abort(404)
    pdf = credentials.certificate_pdf(cert)
    filename = f"certificate-{cert.id}.pdf"
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(filename)
    return response


# --- /verify: look up an id, or upload a certificate -------------------------------------------------------

def _memory_stream(*_args: Any, **_kwargs: Any) -> io.BytesIO:
    """Where an uploaded file is parsed into: memory (Werkzeug spools files over 500 KB to a file on disk)."""
    return io.BytesIO()


class _InMemoryFormDataParser(FormDataParser):
    """A form parser that never writes an uploaded file to disk (the upload route caps the size first)."""

    def __init__(self, **kwargs: Any) -> None:
        """Use the in-memory stream whatever the request offers."""
        super().__init__(**{**kwargs, "stream_factory": _memory_stream})


@bp.url_value_preprocessor
def _upload_limits(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The upload route reads up to 5 MB, in memory. Set here because URL value preprocessors run before every
    before-request hook, and CSRF protection reads (so parses) the form in one of those."""
    if endpoint == "certificates.upload":
        request.max_content_length = UPLOAD_LIMIT
        request.form_data_parser_class = _InMemoryFormDataParser


def _lookup_page(form: VerifyUploadForm, *, raw: str = "", invalid: bool = False, result: Any = None,
                 upload_error: str | None = None) -> str:
    """The /verify page: the id lookup, the upload form, and the answer to an upload."""
    return render_template("certificates/lookup.html", form=form, raw=raw[:60], invalid=invalid, result=result,
                           upload_error=upload_error, outcomes=OUTCOMES, check_labels=CHECK_LABELS, states=STATES,
                           facts=FACTS, max_mb=MAX_FILE_BYTES // (1024 * 1024))


@bp.get("/verify")
@public
def lookup() -> Any:
    """The "verify another id" form and the upload form: an id sends the visitor to that certificate's page."""
    raw = (request.args.get("id") or "").strip()
    cert_id = normalize_certificate_id(raw) if raw else None
    if cert_id:
        return redirect(url_for("certificates.verify", name=cert_id))
    return _lookup_page(VerifyUploadForm(formdata=None), raw=raw, invalid=bool(raw)), 400 if raw else 200


def _upload_rate() -> str:
    """Uploads per minute and client (parsing a PDF costs more than a page view)."""
    return f"{current_app.config.get('VERIFY_UPLOADS_PER_MINUTE', 20)} per minute"


@bp.post("/verify")
@limiter.limit(_upload_rate, methods=["POST"])
@public
def upload() -> Any:
    """Check an uploaded certificate PDF or .jwt: signature, issuer, dates, status, and our record. Nothing is
    stored; every file, however broken, gets a verdict."""
    form = VerifyUploadForm()
    if not form.validate_on_submit():
        return _lookup_page(form), 400
    data = form.file.data.stream.read(MAX_FILE_BYTES + 1)
    result = verification.verify_certificate_file(data)
    log_event("certificate_upload_checked", outcome=result.outcome, file_error=result.file_error)
    upload_error = FILE_ERRORS.get(result.file_error or "")
    return _lookup_page(form, result=_upload_answer(result), upload_error=upload_error)


def _upload_answer(result: Any) -> dict[str, Any]:
    """What the page shows of a verdict: the outcome, the checks, the facts as signed, the differences."""
    credential = result.credential or {}
    subject = credential.get("credentialSubject") if isinstance(credential.get("credentialSubject"), dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    cert = result.certificate
    shown = result.outcome in ("valid", "expired", "revoked", "altered") and credential
    return {
        "outcome": result.outcome, "checks": result.checks, "differences": result.differences,
        "certificate_id": cert.id if cert is not None else None,
        "name": subject.get("name") if shown else None, "course": achievement.get("name") if shown else None,
        "valid_from": credential.get("validFrom") if shown else None,
        "valid_until": credential.get("validUntil") if shown else None,
        "revoked_at": cert.revoked_at if cert is not None and result.outcome == "revoked" else None,
    }


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Any:
    """Beyond 5 MB the upload page says so (413); elsewhere the usual error page."""
    if request.endpoint != "certificates.upload":
        return render_error(413)
    return _lookup_page(VerifyUploadForm(formdata=None), upload_error=FILE_ERRORS["too_large"]), 413


# --- the public certificate pages and documents ----------------------------------------------------------

@bp.get("/verify/<name>")
@public
def verify(name: str) -> Any:
    """Public verification page, the signed credential (.jwt, text/plain) or the credential itself (.json)."""
    raw, suffix = _split(name)
    cert = issuing.find_certificate(raw)
    if cert is None or suffix == ".pdf":
        abort(404)
    if raw != cert.id:  # a mistyped or lower-case id: one canonical address
        return redirect(url_for("certificates.verify", name=cert.id + suffix), 301)
    g.cacheable = True
    status = issuing.status_of(cert)
    if suffix in (".jwt", ".json"):
        if status == "withdrawn":
            abort(410)  # the holder withdrew it: the credential is no longer published (status.json says so)
        if suffix == ".jwt":
            response = current_app.response_class(credentials.credential_jwt(cert), mimetype="text/plain")
        else:
            response = jsonify(credentials.credential_of(cert))
        return _machine(response)
    show = status != "withdrawn"
    response = current_app.make_response(render_template(
        "certificates/verify.html", cert=cert, status=status, verify_url=links.verify_url(cert.id),
        qr_svg=credentials.qr_svg(links.verify_url(cert.id)), wording=_certificate_wording(cert.language),
        exam=credentials.exam_of(cert) if show else None, percent=_percent,
        criteria=credentials.criteria_of(cert) if show else None,
        evidence=[entry for entry in evidence_service.evidence_for(cert) if entry.shown],
        status_list=credentials.status_document(cert)["status_list"]))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _percent(value: float) -> str:
    """A percentage in the reader's language (92.5% or 92,5 %)."""
    return format_percent(value, current_language())


def _certificate_wording(language: str) -> dict[str, str]:
    """The certificate's own sentences in the certificate's language (the page around it follows the viewer)."""
    with force_locale(language):
        return {"intro": _("This certifies that"), "completed": _("has successfully completed the course")}


@bp.get("/verify/<name>/status.json")
@public
def status_json(name: str) -> Any:
    """The certificate's current status, revocation time and reason, and its status list entry."""
    cert = _public_certificate(name, "certificates.status_json")
    return _machine(jsonify(credentials.status_document(cert)))


@bp.get("/verify/<name>/evidence/<dbid:number>")
@public
def evidence(name: str, number: int) -> Any:
    """One approved assignment the holder shows on the certificate; 404 without their consent."""
    cert = _public_certificate(name, "certificates.evidence", number=number)
    entry = evidence_service.shown_evidence(cert, number)
    if entry is None:
        abort(404)
    response = current_app.make_response(render_template(
        "certificates/evidence.html", cert=cert, entry=entry,
        task_html=evidence_service.evidence_task_html(cert, entry)))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/credentials/status/<number>")
@public
def status_list(number: str) -> Any:
    """Status list `number`: a signed BitstringStatusListCredential (VC-JWT as text/plain), built per request so
    a revocation or withdrawal shows at once; 404 for a list that holds no certificate."""
    list_number = credentials.parse_list_number(number)
    token = credentials.status_list_jwt(list_number) if list_number is not None else None
    if token is None:
        abort(404)
    g.cacheable = True
    response = current_app.response_class(token, mimetype="text/plain")
    response.set_etag(hashlib.sha256(token.encode("ascii")).hexdigest())
    return _machine(response.make_conditional(request))


@bp.get("/.well-known/jwks.json")
@public
def jwks() -> Any:
    """The issuer's public keys (old keys stay listed after rotation), under key URL and bare thumbprint."""
    g.cacheable = True
    response = jsonify(credentials.site_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/jwks/<thumbprint>")
@public
def jwk(thumbprint: str) -> Any:
    """One public key: what a credential's `kid` URL dereferences to (OB 3.0); 404 for an unknown key."""
    key = credentials.public_jwk(thumbprint)
    if key is None:
        abort(404)
    g.cacheable = True
    response = jsonify(key)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def linkedin_url(cert: Any) -> str:
    """LinkedIn's public add-to-profile link for a certificate."""
    params = {
        "startTask": "CERTIFICATION_NAME", "name": cert.certificate_title,
        "organizationName": current_app.config["ISSUER_NAME"], "issueYear": cert.issued_at.year,
        "issueMonth": cert.issued_at.month, "certUrl": links.verify_url(cert.id), "certId": cert.id,
    }
    if cert.valid_until:
        params.update(expirationYear=cert.valid_until.year, expirationMonth=cert.valid_until.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


@bp.app_template_global()
def linkedin_add_url(cert: Any) -> str:
    """Template helper for the dashboard."""
    return linkedin_url(cert)
