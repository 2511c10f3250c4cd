"""The bench's WSGI app: the real app plus `/bench/bare`, a route that does nothing (the Flask baseline).

gunicorn bench.app:app - only the bench serves this module; the bare route never exists in production.
"""
from __future__ import annotations

from coaching import create_app
from coaching.access import public

app = create_app()


@public
def bare() -> str:
    """The cheapest possible response: Flask routing, hooks and headers, no template, no database."""
    return "ok"


app.add_url_rule("/bench/bare", "bench_bare", bare)
