"""The manager area: overview, progress, affiliates, question analysis, exports, content, invites."""
from flask import Blueprint

bp = Blueprint("manage", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
