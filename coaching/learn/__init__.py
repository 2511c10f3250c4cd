"""The learning area: catalog, courses, lessons, quizzes, dashboard, search."""
from flask import Blueprint

bp = Blueprint("learn", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
