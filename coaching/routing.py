"""URL helpers shared by every blueprint: the id converter, absolute links from SITE_URL, the health-check host."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # the range of an INTEGER column on PostgreSQL


class IdConverter(BaseConverter):
    """A database id: ASCII digits only, within the column's range; anything else is a 404, never a 500.

    Werkzeug's own `int` converter matches any Unicode digit (Arabic-Indic, full-width) and unbounded numbers.
    """

    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        """The id as an int; out of range is no match."""
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        """The id as digits."""
        return str(int(value))


class HealthCheckHost:
    """WSGI middleware: /healthz answers whatever the Host header, so a load balancer may ask by IP address.

    With TRUSTED_HOSTS set Flask refuses unknown Host headers with 400; a health check sent to
    `http://10.0.0.5:8000/healthz` carries that address. For this one path (its answer does not depend on the
    host) the request is handled as if sent to the first trusted host. Installed inside ProxyFix, so a
    forwarded host cannot undo it.
    """

    def __init__(self, wsgi_app: Any, config: Any, path: str = "/healthz") -> None:
        self.wsgi_app = wsgi_app
        self.config = config
        self.path = path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Rewrite the Host of health checks only; pass every request on."""
        hosts = self.config.get("TRUSTED_HOSTS")
        if hosts and environ.get("PATH_INFO") == self.path:
            environ["HTTP_HOST"] = hosts[0].lstrip(".")
        return self.wsgi_app(environ, start_response)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under SITE_URL, with or without a request (CLI commands, mails, workers).

    Built from the URL map alone: no request context, no SERVER_NAME, no Host header check.
    """
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(site.netloc or "localhost", script_name=site.path or "/",
                                       url_scheme=site.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def attachment(filename: str) -> str:
    """A Content-Disposition for a download (RFC 6266): a plain ASCII `filename` for old clients and the exact
    name as `filename*` in UTF-8; quotes, backslashes and control characters never reach the header."""
    plain = "".join(ch for ch in filename if 32 <= ord(ch) < 127 and ch not in '"\\') or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
