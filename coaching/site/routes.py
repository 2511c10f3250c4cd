"""Views: /healthz, the language switcher, privacy and imprint pages."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, redirect, render_template, session, url_for
from flask_login import current_user

from ..access import public, safe_next_url
from ..extensions import db, limiter
from ..i18n import current_language
from ..services import accounts, health
from ..services.pages import load_page
from . import bp
from .forms import LanguageForm


@bp.get("/healthz")
@limiter.exempt
@public
def healthz() -> Any:
    """Each dependency's state as JSON; 503 while the database or the signing key is unavailable.

    Redis down gives "degraded" with 200: the rate limits then count per worker (docs/deployment.md §10), and
    since every app server shares the one Redis, a 503 would take them all out of the load balancer at once.
    `mail` says how many mails wait in the outbox and how old the oldest is, in seconds (the worker's lag).
    Answered for any Host header (a load balancer asks by IP address), see coaching/__init__.py.
    """
    state = health.check()
    mail = health.mail_backlog() if state.checks.get("database") == "ok" else None
    body = jsonify(status=state.status, **state.checks, courses=state.courses, mail=mail)
    body.headers["Cache-Control"] = "no-store"
    return (body, 200) if state.serving else (body, 503)


@bp.post("/language")
@public
def set_language() -> Any:
    """Switch the interface language; signed-in users keep it in their profile."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        accounts.set_language(current_user, form.language.data)
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
    page = load_page(current_app.config["PAGES_DIR"], name, current_language())
    if page is None:
        abort(404)
    return render_template("site/page.html", page=page)
