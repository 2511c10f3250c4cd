"""Failed-login throttling per IP and per account, on the limiter's storage (memory or Redis).

Key names hold no email: the account part is a keyed hash (HMAC with SECRET_KEY), so a look at Redis shows
no address and cannot be matched against a list of addresses either. When the storage (Redis) fails, the
counts continue in this worker's memory with a logged warning, like Flask-Limiter's own fallback for the
route limits: a login never fails because Redis is away (docs/deployment.md, "When Redis is down").
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from ..extensions import limiter

T = TypeVar("T")
WARNING_INTERVAL_SECONDS = 60.0  # one warning a minute per worker while the storage stays away
_fallback_lock = threading.Lock()


def _item() -> RateLimitItemPerMinute:
    """The allowed number of failed logins per minute."""
    return RateLimitItemPerMinute(current_app.config["LOGIN_FAILURES_PER_MINUTE"])


def account_key(account: str) -> str:
    """The account's name in the storage: an HMAC of the normalised email under SECRET_KEY (no email in keys)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, account.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _keys(ip: str, account: str) -> list[tuple[str, str]]:
    """Failures count for the address and for the account, so rotating IPs does not help."""
    return [("login-ip", ip), ("login-account", account_key(account))]


def _fallback() -> RateLimiter:
    """This worker's in-memory limiter, used while the shared storage does not answer."""
    with _fallback_lock:
        state = current_app.extensions.setdefault("coaching.throttle", {})
        if "fallback" not in state:
            state["fallback"] = FixedWindowRateLimiter(MemoryStorage())
        return state["fallback"]


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What the configured storage raises when it cannot be reached."""
    errors = limiter.storage.base_exceptions
    return (StorageError, *(errors if isinstance(errors, tuple) else (errors,)))


def _warn_storage_down(error: BaseException) -> None:
    """Log that the storage failed, at most once a minute per worker."""
    state = current_app.extensions.setdefault("coaching.throttle", {})
    now = time.monotonic()
    if now - state.get("warned_at", -WARNING_INTERVAL_SECONDS) >= WARNING_INTERVAL_SECONDS:
        state["warned_at"] = now
        current_app.logger.warning("rate-limit storage unreachable (%s): failed logins count per worker for now",
                                   type(error).__name__)


def _with_storage(action: Callable[[RateLimiter], T]) -> T:
    """Run against the limiter's storage; on a storage error, against this worker's memory instead."""
    try:
        return action(limiter.limiter)
    except _storage_errors() as error:
        _warn_storage_down(error)
        return action(_fallback())


def login_blocked(ip: str, account: str) -> bool:
    """True when the IP or the account used up its failed attempts for this minute."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    item, keys = _item(), _keys(ip, account)
    return _with_storage(lambda strategy: any(not strategy.test(item, *key) for key in keys))


def record_login_failure(ip: str, account: str) -> None:
    """Count one failed login against the IP and the account."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    item, keys = _item(), _keys(ip, account)

    def hit(strategy: RateLimiter) -> None:
        for key in keys:
            strategy.hit(item, *key)

    _with_storage(hit)
