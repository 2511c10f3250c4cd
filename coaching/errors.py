"""Friendly error pages (and JSON for JSON clients) for every status the app returns."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .inputs import InputRefused, reason_text
from .logs import log_event, redact_url
from .services.db import database_unavailable

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("There is nothing at this address. It may have moved, or the link is mistyped.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"),
          _l("An unexpected error occurred on our side. It has been logged; please try again later.")),
    503: (_l("Temporarily unavailable"), _l("The service is briefly unavailable. Please try again in a moment.")),
}
DATABASE_AWAY_MESSAGE = _l("The database is not answering for a moment. Please try again in a few seconds.")
NOT_SAVED_MESSAGE = _l("The database is not answering for a moment, so what you sent has not been saved. "
                       "Go back with your browser's back button, check that your entries are still there, "
                       "and send it again in a few seconds.")
ANSWERS_KEPT_MESSAGE = _l("The database is not answering for a moment, so your answers have not been saved yet. "
                          "They are not lost: they are kept on this page. Send them again in a few seconds.")
# POST endpoints whose form can be sent again from the 503 page as it was (no password among the fields).
RESUBMITTABLE = frozenset({"learn.submit_quiz", "learn.complete"})
SECRET_FIELDS = ("password", "confirm", "current_password")
INPUT_MESSAGE = _l("“%(name)s” contains characters that are not allowed: %(reason)s. Please remove them and try again.")
INPUT_MESSAGE_UNNAMED = _l("The request contains characters that are not allowed: %(reason)s. "
                           "Please remove them and try again.")
CSRF_MESSAGE = _l("Your form expired or was sent from another page. Please reload the page and submit it again.")


def _wants_json() -> bool:
    """True for API-style requests (JSON endpoints and clients that ask for JSON only)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.endswith((".json", ".jwt")) or best == "application/json"


def _load_user_or_anonymous() -> None:
    """Load the signed-in person for the page's header, or treat the visitor as anonymous when the database is
    away: an error page (a 404 during an outage, say) must render without it."""
    try:
        current_user.is_authenticated  # noqa: B018  (loads the user now, inside this try)
    except Exception as error:
        if not database_unavailable(error):
            raise
        try:
            db.session.rollback()
        except Exception:
            db.session.remove()
        g._login_user = current_app.login_manager.anonymous_user()


def render_error(code: int, message: Any = None) -> tuple[Any, int]:
    """Render the error page (or JSON) for a status code."""
    _load_user_or_anonymous()
    title, default = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    text = message or default
    if _wants_json():
        return jsonify(error=str(title), message=str(text), status=code), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=text), code
    except Exception:
        return f"{code} {title}\n{text}\n", code, {"Content-Type": "text/plain; charset=utf-8"}


def database_away() -> Any:
    """503 with Retry-After while the database cannot be reached; a quiz keeps its answers on the page.

    No query may run from here: the session is rolled back (or dropped with a dead connection), the page is
    rendered for an anonymous visitor, and a quiz or completion form is offered again with the same fields,
    CSRF token and submission id included, so sending it again later records it once.
    """
    try:
        db.session.rollback()
    except Exception:  # the connection died under the session: let the pool replace it
        db.session.remove()
    g._login_user = current_app.login_manager.anonymous_user()  # base.html must not load the user
    retry = str(current_app.config.get("DATABASE_RETRY_AFTER_SECONDS", 5))
    headers = {"Retry-After": retry, "Cache-Control": "no-store"}
    resubmit = request.method == "POST" and request.endpoint in RESUBMITTABLE and not _wants_json()
    if resubmit:
        fields = [(name, value) for name, value in request.form.items(multi=True) if name not in SECRET_FIELDS]
        try:
            page = render_template("errors/resubmit.html", code=503, title=MESSAGES[503][0],
                                   message=ANSWERS_KEPT_MESSAGE, fields=fields, action=request.path)
            return page, 503, headers
        except Exception:
            current_app.logger.warning("the resubmit page could not be rendered", exc_info=True)
    message = NOT_SAVED_MESSAGE if request.method == "POST" else DATABASE_AWAY_MESSAGE
    body, code = render_error(503, message)[:2]
    return body, code, headers


def register_error_handlers(app: Flask) -> None:
    """Install handlers: CSRF failures say to reload; unexpected exceptions never show a traceback."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        log_event("csrf_failure", path=request.path, reason=error.description)
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(InputRefused)
    def _input(error: InputRefused) -> Any:
        log_event("input_refused", path=request.path, where=error.where, problem=error.problem)
        if error.where == "query":  # the page must not read (or echo) the refused query string again
            request.query_string = b""
            request.__dict__.pop("args", None)
        reason = reason_text(error.problem)
        name = (error.field or "")[:60]
        message = INPUT_MESSAGE % {"name": name, "reason": reason} if name else \
            INPUT_MESSAGE_UNNAMED % {"reason": reason}
        return render_error(400, message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if error.code == 429:
            log_event("rate_limited", path=request.path)
        response = render_error(error.code or 500)
        if error.code == 405 and getattr(error, "valid_methods", None):
            body, code = response
            return body, code, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return _http(error)
        if database_unavailable(error):
            # Expected during a database restart: one warning line, no traceback, no SQL parameters.
            app.logger.warning("database unavailable on %s %s: %s", request.method, redact_url(request.path),
                               type(getattr(error, "orig", None) or error).__name__)
            return database_away()
        # The engine runs with hide_parameters: the traceback shows the statement, never the values bound to it.
        app.logger.exception("Unhandled exception on %s %s", request.method, redact_url(request.path))
        try:
            db.session.rollback()
        except Exception:
            db.session.remove()
        if "_login_user" not in g:  # the error came before the user was loaded: render the page without loading
            g._login_user = current_app.login_manager.anonymous_user()
        return render_error(500)
