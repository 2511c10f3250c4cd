"""Views: /healthz, the language switcher, privacy and imprint pages."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from ..access import public, safe_next_url
from ..extensions import db, limiter
from ..pages import load_page
from . import bp
from .forms import LanguageForm


@bp.get("/healthz")
@limiter.exempt
@public
def healthz() -> Any:
    """200 with a JSON body when the app and its database answer, 503 when the database does not."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as error:  # any driver error means "not healthy", never a 500
        current_app.logger.warning("health check failed: %s", type(error).__name__)
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    catalog = current_app.extensions["coaching.content"].catalog
    return jsonify(status="ok", database="ok", courses=len(catalog.published_courses()))


@bp.post("/language")
@public
def set_language() -> Any:
    """Switch the interface language; signed-in users keep it in their profile."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        current_user.language = form.language.data
        db.session.commit()
    session["lang"] = form.language.data
    return redirect(safe_next_url(form.next.data) or url_for("learn.catalog"))


@bp.get("/privacy")
@public
def privacy() -> Any:
    """The operator's privacy notice, from content/pages/privacy(.de).md."""
    return _page("privacy")


@bp.get("/imprint")
@public
def imprint() -> Any:
    """The operator's imprint, from content/pages/imprint(.de).md."""
    return _page("imprint")


def _page(name: str) -> Any:
    """Render an operator-edited Markdown page in the reader's language."""
    from flask_babel import get_locale

    page = load_page(current_app.config["PAGES_DIR"], name, str(get_locale()))
    if page is None:
        abort(404)
    return render_template("site/page.html", page=page)
