"""Views of the manager area (managers only)."""
from __future__ import annotations

from typing import Any

from flask import render_template

from ..access import manager_required
from . import bp


@bp.get("/")
@manager_required
def overview() -> Any:
    """The manager's overview."""
    return render_template("manage/overview.html")
