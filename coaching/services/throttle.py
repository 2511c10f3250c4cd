"""Abuse limits on the limiter's storage (memory, or Redis when REDIS_URL is set, so that every worker and
server counts together): failed logins per IP and per account, and the requests that mail an address
(registration, forgotten password) per IP and per address.

The mail limits count every request that would send a mail, whether or not the address has an account,
so being blocked tells nothing about who has one.
"""
from __future__ import annotations

from flask import current_app
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute

from ..extensions import limiter


def _enabled() -> bool:
    """Limits can be switched off (RATELIMIT_ENABLED=False), e.g. for the bench."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _blocked(checks: list[tuple[RateLimitItem, str, str]]) -> bool:
    """True when any (limit, kind, key) used up its allowance."""
    if not _enabled():
        return False
    strategy = limiter.limiter
    return any(not strategy.test(item, kind, key) for item, kind, key in checks)


def _hit(checks: list[tuple[RateLimitItem, str, str]]) -> None:
    """Count one event against every (limit, kind, key)."""
    if not _enabled():
        return
    for item, kind, key in checks:
        limiter.limiter.hit(item, kind, key)


# --- failed logins ------------------------------------------------------------------------------------------------

def _login_checks(ip: str, account: str) -> list[tuple[RateLimitItem, str, str]]:
    """Failures count for the address and for the account, so rotating IPs does not help."""
    item = RateLimitItemPerMinute(current_app.config["LOGIN_FAILURES_PER_MINUTE"])
    return [(item, "login-ip", ip), (item, "login-account", account)]


def login_blocked(ip: str, account: str) -> bool:
    """True when the IP or the account used up its failed attempts for this minute."""
    return _blocked(_login_checks(ip, account))


def record_login_failure(ip: str, account: str) -> None:
    """Count one failed login against the IP and the account."""
    _hit(_login_checks(ip, account))


# --- requests that send a mail to an address ------------------------------------------------------------------------

def _mail_checks(ip: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
    """Per address (nobody gets flooded with mails) and per IP (nobody mails the world from one place)."""
    config = current_app.config
    return [(RateLimitItemPerHour(config["ACCOUNT_MAILS_PER_IP_PER_HOUR"]), "account-mail-ip", ip),
            (RateLimitItemPerHour(config["ACCOUNT_MAILS_PER_HOUR"]), "account-mail-address", address)]


def account_mail_blocked(ip: str, address: str) -> bool:
    """True when this IP or this address had its mails (registrations, reset requests) for the hour."""
    return _blocked(_mail_checks(ip, address))


def record_account_mail(ip: str, address: str) -> None:
    """Count one registration or reset request (a mail to `address`) from `ip`."""
    _hit(_mail_checks(ip, address))
