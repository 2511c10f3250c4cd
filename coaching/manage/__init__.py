"""The manager area: overview, progress, affiliates, question analysis, exports, content, invites."""
from flask import Blueprint

bp = Blueprint("manage", __name__)  # ids use the app-wide `dbid` converter (coaching/routing.py)

from . import routes  # noqa: E402,F401  (registers the views on bp)
from . import privacy  # noqa: E402,F401  (personal data: export and deletion)
