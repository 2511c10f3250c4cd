"""Certificates: PDF download, public verification, the signed credential and the issuer's keys."""
from flask import Blueprint

bp = Blueprint("certificates", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
