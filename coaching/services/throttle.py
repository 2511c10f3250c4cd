"""Abuse limits on the limiter's storage (memory, or Redis when REDIS_URL is set, so that every worker and
server counts together): failed logins per IP and per account, and the requests that mail an address
(registration, forgotten password) per IP and per address.

The mail limits count every request that would send a mail, whether or not the address has an account,
so being blocked tells nothing about who has one. Key names hold no email: the account part is a keyed hash
(HMAC with SECRET_KEY), so a look at Redis shows no address and cannot be matched against a list of
addresses either. When the storage (Redis) fails, the counts continue in this worker's memory with a logged
warning, like Flask-Limiter's own fallback for the route limits: a login never fails because Redis is away
(docs/deployment.md, "When Redis is down").
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from ..extensions import limiter

T = TypeVar("T")
WARNING_INTERVAL_SECONDS = 60.0  # one warning a minute per worker while the storage stays away
_fallback_lock = threading.Lock()
Checks = list[tuple[RateLimitItem, str, str]]  # (limit, kind, key)


def _enabled() -> bool:
    """Limits can be switched off (RATELIMIT_ENABLED=False), e.g. for the bench."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def account_key(account: str) -> str:
    """The account's name in the storage: an HMAC of the normalised email under SECRET_KEY (no email in keys)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, account.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


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
        current_app.logger.warning("rate-limit storage unreachable (%s): limits count per worker for now",
                                   type(error).__name__)


def _with_storage(action: Callable[[RateLimiter], T]) -> T:
    """Run against the limiter's storage; on a storage error, against this worker's memory instead."""
    try:
        return action(limiter.limiter)
    except _storage_errors() as error:
        _warn_storage_down(error)
        return action(_fallback())


def _blocked(checks: Checks) -> bool:
    """True when any (limit, kind, key) used up its allowance."""
    if not _enabled():
        return False
    return _with_storage(lambda strategy: any(not strategy.test(item, kind, key) for item, kind, key in checks))


def _hit(checks: Checks) -> None:
    """Count one event against every (limit, kind, key)."""
    if not _enabled():
        return

    def hit(strategy: RateLimiter) -> None:
        for item, kind, key in checks:
            strategy.hit(item, kind, key)

    _with_storage(hit)


# --- failed logins ------------------------------------------------------------------------------------------------

def _login_checks(ip: str, account: str) -> Checks:
    """Failures count for the address and for the account, so rotating IPs does not help."""
    item = RateLimitItemPerMinute(current_app.config["LOGIN_FAILURES_PER_MINUTE"])
    return [(item, "login-ip", ip), (item, "login-account", account_key(account))]


def login_blocked(ip: str, account: str) -> bool:
    """True when the IP or the account used up its failed attempts for this minute."""
    return _blocked(_login_checks(ip, account))


def record_login_failure(ip: str, account: str) -> None:
    """Count one failed login against the IP and the account."""
    _hit(_login_checks(ip, account))


# --- requests that send a mail to an address ------------------------------------------------------------------------

def _mail_checks(ip: str, address: str) -> Checks:
    """Per address (nobody gets flooded with mails) and per IP (nobody mails the world from one place)."""
    config = current_app.config
    return [(RateLimitItemPerHour(config["ACCOUNT_MAILS_PER_IP_PER_HOUR"]), "account-mail-ip", ip),
            (RateLimitItemPerHour(config["ACCOUNT_MAILS_PER_HOUR"]), "account-mail-address", account_key(address))]


def account_mail_blocked(ip: str, address: str) -> bool:
    """True when this IP or this address had its mails (registrations, reset requests) for the hour."""
    return _blocked(_mail_checks(ip, address))


def record_account_mail(ip: str, address: str) -> None:
    """Count one registration or reset request (a mail to `address`) from `ip`."""
    _hit(_mail_checks(ip, address))
