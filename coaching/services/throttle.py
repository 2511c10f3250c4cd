"""Failed-login throttling per IP and per account, on the limiter's storage (memory or Redis)."""
from __future__ import annotations

from flask import current_app
from limits import RateLimitItemPerMinute

from ..extensions import limiter


def _item() -> RateLimitItemPerMinute:
    """The allowed number of failed logins per minute."""
    return RateLimitItemPerMinute(current_app.config["LOGIN_FAILURES_PER_MINUTE"])


def _keys(ip: str, account: str) -> list[tuple[str, str]]:
    """Failures count for the address and for the account, so rotating IPs does not help."""
    return [("login-ip", ip), ("login-account", account)]


def login_blocked(ip: str, account: str) -> bool:
    """True when the IP or the account used up its failed attempts for this minute."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    strategy = limiter.limiter
    return any(not strategy.test(_item(), *key) for key in _keys(ip, account))


def record_login_failure(ip: str, account: str) -> None:
    """Count one failed login against the IP and the account."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for key in _keys(ip, account):
        limiter.limiter.hit(_item(), *key)
