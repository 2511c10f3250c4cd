"""One rule for every text a request brings, applied once per request before any query.

Refused: NUL and the other C0 control characters (tab is allowed everywhere; CR and LF only in fields that
allow several lines, where the form stores CRLF as LF), lone surrogates (a JSON "\\ud800") and bytes that
are not UTF-8. PostgreSQL refuses NUL in text (a DataError: a 500 when unguarded) while SQLite stores it;
refusing such text before any query makes both databases behave alike.

Where the rule applies (`install_input_guard` registers the check as the app's first before_request):
- the path: a URL with such characters names nothing here, so it is a 404;
- the query string and JSON bodies: a 400 page (or JSON) that names the parameter;
- form bodies (urlencoded and the text parts of multipart; file parts are not text and are left alone):
  a field that a form of the app declares becomes a field error on the page, status 400 (`coaching.forms`
  reads `problems_of_request()`); any other field is refused here with a 400.

Query strings and urlencoded bodies are checked in their raw bytes: Werkzeug keeps invalid UTF-8 escapes
like `%FF` as literal text, and a raw non-UTF-8 byte in the query string would otherwise end in a
UnicodeDecodeError (a 500). Werkzeug's multipart parser replaces invalid UTF-8 with U+FFFD before anyone
sees it, so in multipart text parts U+FFFD counts as invalid UTF-8.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, NotFound

# Control characters refused in every text; single-line text refuses CR and LF as well. Tab is always fine.
_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_SINGLE_LINE = re.compile("[\x00-\x08\x0a-\x1f\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLACEMENT = "\ufffd"

# What each problem is called in messages to the person who sent it.
REASONS = {
    "control": _l("control characters such as a NUL byte"),
    "newline": _l("line breaks"),
    "surrogate": _l("text that is not valid UTF-8"),
    "encoding": _l("text that is not valid UTF-8"),
    "json": _l("JSON that cannot be read"),
}

# Field names declared by the app's forms (filled by coaching.forms.Form subclasses as they are defined):
# a refused value there is left to the form, which shows it as a field error.
FORM_FIELDS: set[str] = set()
# Prefixes of field names a form reads by pattern (a review's `comment-<criterion id>`), declared the same way.
FORM_FIELD_PREFIXES: set[str] = set()


def declared(name: str) -> bool:
    """True when a form of the app judges this field (by its name or a declared prefix)."""
    return name in FORM_FIELDS or any(name.startswith(prefix) for prefix in FORM_FIELD_PREFIXES)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text is refused ("control", "newline", "surrogate"), or None when it is acceptable."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "surrogate"
    return "newline" if char in "\r\n" else "control"


def reason_text(problem: str) -> str:
    """The problem in words, in the reader's language."""
    return str(REASONS.get(problem, REASONS["control"]))


def _decode(raw: bytes) -> tuple[str | None, str | None]:
    """A percent-encoded query part as text, or (None, "encoding") when its bytes are not UTF-8."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8"), None
    except UnicodeDecodeError:
        return None, "encoding"


def urlencoded_problems(raw: bytes) -> Iterator[tuple[str | None, str]]:
    """(name, problem) for each refused name or value of a query string or urlencoded body.

    The name is None when the name itself is refused. A line break is reported as "newline": query
    values are single-line, while form fields that may hold several lines are the forms' business.
    """
    for pair in raw.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name, problem = _decode(raw_name)
        if name is None or (problem := text_problem(name)):
            yield None, problem or "encoding"
            continue
        value, problem = _decode(raw_value)
        if value is None:
            yield name, problem or "encoding"
        elif problem := text_problem(value):
            yield name, problem


def json_problem(document: Any) -> str | None:
    """The first refused text anywhere in a decoded JSON document (keys included), or None.

    Iterative: a deeply nested document must not exhaust the interpreter's recursion limit.
    """
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if problem := text_problem(value, multiline=True):
                return problem
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


class InputRefused(BadRequest):
    """A request whose text breaks the input rule: 400, with a message naming where."""

    def __init__(self, where: str, field: str | None, problem: str) -> None:
        super().__init__(f"{where} {field!r}: {problem}")
        self.where, self.field, self.problem = where, field, problem


def problems_of_request() -> dict[str, str]:
    """Form fields of this request whose value the rule refuses (name -> problem), left to the forms."""
    return g.get("input_problems") or {}


def _check_path(environ: dict[str, Any]) -> None:
    """A path with control characters or invalid UTF-8 names nothing: 404."""
    path = environ.get("PATH_INFO") or ""
    if path.isascii() and not _SINGLE_LINE.search(path):
        return
    try:
        text = path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise NotFound() from None
    if text_problem(text):
        raise NotFound()


def _check_query(environ: dict[str, Any]) -> None:
    """Every name and value of the query string, checked in its raw bytes (query values are single-line)."""
    raw = (environ.get("QUERY_STRING") or "").encode("latin-1", "replace")
    if not raw or (raw.isascii() and b"%" not in raw and not _SINGLE_LINE.search(raw.decode("ascii"))):
        return
    for name, problem in urlencoded_problems(raw):
        raise InputRefused("query", name, problem)


def _check_form(fields: Iterator[tuple[str | None, str]]) -> None:
    """Refused names and undeclared fields stop the request; a declared field's problem goes to its form.

    A line break in a declared field is left to the form alone: it knows whether the field is multi-line.
    """
    deferred: dict[str, str] = {}
    for name, problem in fields:
        if name is None or not declared(name):
            raise InputRefused("form", name, problem)
        if problem != "newline":
            deferred.setdefault(name, problem)
    if deferred:
        g.input_problems = deferred


def _multipart_fields() -> Iterator[tuple[str | None, str]]:
    """Refused names and values among the text parts of a multipart body (file parts are not looked at)."""
    for name, value in request.form.items(multi=True):
        if problem := text_problem(name) or (REPLACEMENT in name and "encoding"):
            yield None, problem
        elif problem := text_problem(value) or (REPLACEMENT in value and "encoding"):
            yield name, problem


def _check_body() -> None:
    """Form bodies and JSON bodies."""
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        _check_form(urlencoded_problems(request.get_data(cache=True)))
    elif mimetype == "multipart/form-data":
        _check_form(_multipart_fields())
    elif request.is_json:
        raw = request.get_data(cache=True)
        try:
            document = json.loads(raw.decode("utf-8")) if raw else None
        except UnicodeDecodeError:
            raise InputRefused("json", None, "encoding") from None
        except (ValueError, RecursionError):
            raise InputRefused("json", None, "json") from None
        if problem := json_problem(document):
            raise InputRefused("json", None, problem)


def check_request() -> None:
    """The input rule for the current request: path, query string, body. Raises NotFound or InputRefused."""
    environ = request.environ
    _check_path(environ)
    _check_query(environ)
    if request.method in _BODY_METHODS:
        _check_body()


def install_input_guard(app: Flask) -> None:
    """Run the rule before every other before_request function (CSRF, rate limits, the write transaction)."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
