"""Access rules as decorators, and the safe `next` redirect check: one place for both."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user, login_required

from .logs import log_event


def manager_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Managers only: anonymous visitors go to the login page, affiliates get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_manager:
            log_event("access_denied", path=request.path)
            abort(403)
        return view(*args, **kwargs)

    wrapped.access = "manager"  # read by the route-audit test
    return wrapped


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a view as open to everyone (documentation for the route-audit test)."""
    view.access = "public"
    return view


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed-in users only (any role); anonymous visitors go to the login page."""
    wrapped = login_required(view)
    wrapped.access = "user"
    return wrapped


def safe_next_url(target: str | None) -> str | None:
    """A local path to redirect to after login, or None for anything that could leave the site."""
    if not target or len(target) > 2000:
        return None
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
