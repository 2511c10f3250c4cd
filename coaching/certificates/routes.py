"""Views: certificate PDF (owner or manager), public verification page, VC-JWT, decoded JSON, JWKS."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from flask import abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..access import public, signed_in
from ..credentials.ids import normalize_certificate_id
from ..services import certificates as issuing
from . import bp

SUFFIXES = (".jwt", ".json", ".pdf")


def _split(name: str) -> tuple[str, str]:
    """Split `K7QF-....jwt` into the id part and the suffix ('' for the page)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


@bp.get("/certificates/<name>")
@signed_in
def download(name: str) -> Any:
    """The certificate PDF: for its holder and for managers; anyone else gets a 404."""
    raw, suffix = _split(name)
    cert = issuing.downloadable_certificate(current_user, raw) if suffix == ".pdf" else None
    if cert is None:
        abort(404)
    pdf = issuing.certificate_pdf(cert)
    filename = f"certificate-{cert.id}.pdf"
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return response


@bp.get("/verify")
@public
def lookup() -> Any:
    """The "verify another id" form: send the visitor to the page of that id."""
    raw = (request.args.get("id") or "").strip()
    cert_id = normalize_certificate_id(raw) if raw else None
    if cert_id:
        return redirect(url_for("certificates.verify", name=cert_id))
    return render_template("certificates/lookup.html", raw=raw[:60], invalid=bool(raw)), 400 if raw else 200


@bp.get("/verify/<name>")
@public
def verify(name: str) -> Any:
    """Public verification page, the signed credential (.jwt) or its decoded form (.json). Never indexed."""
    raw, suffix = _split(name)
    cert = issuing.find_certificate(raw)
    if cert is None:
        abort(404)
    if raw != cert.id:  # a mistyped or lower-case id: one canonical address
        return redirect(url_for("certificates.verify", name=cert.id + suffix), 301)
    g.cacheable = True
    status = issuing.status_of(cert)
    if suffix == ".pdf":
        abort(404)
    if suffix in (".jwt", ".json"):
        if status == "withdrawn":
            abort(410)
        response = (_jwt(cert) if suffix == ".jwt" else _json(cert, status))
    else:
        response = current_app.make_response(render_template(
            "certificates/verify.html", cert=cert, status=status, verify_url=issuing.verify_url(cert.id),
            qr_svg=issuing.qr_svg(issuing.verify_url(cert.id)), wording=_certificate_wording(cert.language)))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _certificate_wording(language: str) -> dict[str, str]:
    """The certificate's own sentences in the certificate's language (the page around it follows the viewer)."""
    with force_locale(language):
        return {"intro": _("This certifies that"), "completed": _("has successfully completed the course")}


def _jwt(cert: Any) -> Any:
    """The VC-JWT as text."""
    return current_app.response_class(issuing.credential_jwt(cert), mimetype="application/jwt")


def _json(cert: Any, status: str) -> Any:
    """The credential decoded, with its current status beside it (status is not part of the signature)."""
    body = {
        "credential": issuing.credential_of(cert),
        "status": status,
        "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
        "revocation_reason": cert.revoked_reason if cert.revoked_at else None,
        "jwt": url_for("certificates.verify", name=cert.id + ".jwt", _external=False),
        "jwks": url_for("certificates.jwks"),
    }
    return jsonify(body)


@bp.get("/.well-known/jwks.json")
@public
def jwks() -> Any:
    """The issuer's public keys (old keys stay listed after rotation)."""
    g.cacheable = True
    response = jsonify(issuing.keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def linkedin_url(cert: Any) -> str:
    """LinkedIn's public add-to-profile link for a certificate."""
    params = {
        "startTask": "CERTIFICATION_NAME", "name": cert.certificate_title,
        "organizationName": current_app.config["ISSUER_NAME"], "issueYear": cert.issued_at.year,
        "issueMonth": cert.issued_at.month, "certUrl": issuing.verify_url(cert.id), "certId": cert.id,
    }
    if cert.valid_until:
        params.update(expirationYear=cert.valid_until.year, expirationMonth=cert.valid_until.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


@bp.app_template_global()
def linkedin_add_url(cert: Any) -> str:
    """Template helper for the dashboard."""
    return linkedin_url(cert)
