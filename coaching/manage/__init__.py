"""The manager area: overview, progress, affiliates, reviews, question analysis, exports, content, invites."""
from flask import Blueprint

bp = Blueprint("manage", __name__)  # ids use the app-wide `dbid` converter (coaching/routing.py)

# Importing the view modules registers their views on bp (privacy: personal-data export and deletion;
# reviews: the review queue, coaches and review mail; authoring and authoring_files: writing content in the browser).
from . import authoring, authoring_files, privacy, reviews, routes  # noqa: E402, F401
