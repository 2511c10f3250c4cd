"""Friendly error pages (and JSON for JSON clients) for every status the app returns."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .inputs import InputRefused, reason_text
from .logs import log_event

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
INPUT_MESSAGE = _l("“%(name)s” contains characters that are not allowed: %(reason)s. Please remove them and try again.")
INPUT_MESSAGE_UNNAMED = _l("The request contains characters that are not allowed: %(reason)s. "
                           "Please remove them and try again.")
CSRF_MESSAGE = _l("Your form expired or was sent from another page. Please reload the page and submit it again.")


def _wants_json() -> bool:
    """True for API-style requests (JSON endpoints and clients that ask for JSON only)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.endswith((".json", ".jwt")) or best == "application/json"


def render_error(code: int, message: Any = None) -> tuple[Any, int]:
    """Render the error page (or JSON) for a status code."""
    title, default = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    text = message or default
    if _wants_json():
        return jsonify(error=str(title), message=str(text), status=code), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=text), code
    except Exception:
        return f"{code} {title}\n{text}\n", code, {"Content-Type": "text/plain; charset=utf-8"}


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
        app.logger.exception("Unhandled exception on %s", request.path)
        from .extensions import db

        db.session.rollback()
        return render_error(500)
