"""Site-wide pages: health check, language switcher, privacy and imprint."""
from flask import Blueprint

bp = Blueprint("site", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
