"""Public URLs of certificates (all derived from SITE_URL): the verification page, evidence pages, status lists."""
from __future__ import annotations

from flask import current_app

from ..credentials.statuslist import STATUS_PATH


def site_url() -> str:
    """This issuer's base URL (the issuer id; credential, key and status list URLs start with it)."""
    return current_app.config["SITE_URL"]


def verify_url(cert_id: str) -> str:
    """The public verification URL printed on the certificate and encoded in its QR code."""
    return f"{site_url()}/verify/{cert_id}"


def evidence_url(cert_id: str, number: int) -> str:
    """The public page of one approved assignment on a certificate (the Evidence id in the credential)."""
    return f"{verify_url(cert_id)}/evidence/{number}"


def status_list_url(number: int) -> str:
    """The URL of status list `number` (the `statusListCredential` of the certificates in it)."""
    return f"{site_url()}{STATUS_PATH}{number}"
