"""Settings, read from environment variables with safe defaults.

Every setting an operator may change is listed in README.md ("Configuration"). Values that depend on the
instance folder (the default SQLite file, the development secret key, the development signing key) are
filled in by `create_app`, which knows where that folder is.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Malformed values found while reading the environment. Reading never raises (a traceback at import would
# hide the message); `create_app` refuses to start with the first of these as one line (coaching/startup.py).
ENVIRONMENT_ERRORS: list[str] = []


class ConfigError(Exception):
    """Settings that stop the app from starting: one line per problem, each saying what to change."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _env(name: str, default: str | None = None) -> str | None:
    """Return an environment variable, treating an empty value as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    """Return an integer environment variable; a malformed value stops the start with a clear error."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        ENVIRONMENT_ERRORS.append(f"{name} must be a whole number, got {raw!r}")
        return default


def _env_float(name: str, default: float) -> float:
    """Return a decimal environment variable; a malformed value is recorded like in `_env_int`."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        ENVIRONMENT_ERRORS.append(f"{name} must be a number, got {raw!r}")
        return default


def _env_list(name: str) -> list[str] | None:
    """Return a comma-separated environment variable as a list, or None when unset."""
    raw = _env(name)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else None


class Config:
    """Production-safe defaults; development conveniences switch on only when COACHING_ENV != production."""

    ENV_NAME = _env("COACHING_ENV", "development")
    PRODUCTION = ENV_NAME == "production"

    SITE_NAME = _env("SITE_NAME", "Affiliate Academy")
    SITE_URL = (_env("SITE_URL", "http://127.0.0.1:5000") or "").rstrip("/")
    ISSUER_NAME = _env("ISSUER_NAME") or SITE_NAME

    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")  # None: SQLite file in instance/ (see create_app)
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 10_000)
    CONTENT_DIR = _env("CONTENT_DIR", str(BASE_DIR / "content" / "lessons"))
    PAGES_DIR = _env("PAGES_DIR", str(BASE_DIR / "content" / "pages"))
    CONTENT_RELOAD_SECONDS = _env_float("CONTENT_RELOAD_SECONDS", 2.0)
    # Renderings shared by this server's workers and kept across restarts (coaching/content/render_cache.py):
    # a file path, "off", or unset for instance/render-cache.sqlite3.
    RENDER_CACHE_FILE = _env("RENDER_CACHE_FILE")
    # Managers write lessons in the browser ("on"/"off"). Off by default in production: there the content
    # folder must live outside the release on every server first (docs/deployment.md, "Where the truth lives").
    CONTENT_EDITING = _env("CONTENT_EDITING", "off" if PRODUCTION else "on")
    REDIS_URL = _env("REDIS_URL")
    REGISTRATION = _env("REGISTRATION", "open")  # "open" or "invite"
    SIGNING_KEY_FILE = _env("SIGNING_KEY_FILE")  # None in development: instance/signing-keys.json
    RETENTION_DAYS = _env_int("RETENTION_DAYS", 730)  # inactive accounts kept this long
    DEMO_ACCOUNTS = not PRODUCTION
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)  # argon2id, RFC 9106 low-memory profile
    ARGON2_MEMORY_KIB = _env_int("ARGON2_MEMORY_KIB", 65536)

    # Mail leaves through the outbox table, drained by `flask mail worker` (which `make run` starts).
    # MAIL_BACKEND: smtp (MAIL_SERVER...), file (each mail as a .eml file under instance/mail/, for
    # development: reset and confirmation links are found there) or log (recipient hash and subject only).
    # Production refuses to serve with neither a MAIL_SERVER nor an explicit MAIL_BACKEND=log/file (mails would
    # vanish); see coaching/startup.py.
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _env("MAIL_USE_TLS", "true") == "true"
    MAIL_SENDER = _env("MAIL_SENDER", "no-reply@localhost")
    MAIL_BACKEND = _env("MAIL_BACKEND") or ("smtp" if MAIL_SERVER or PRODUCTION else "file")
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)  # then the mail is marked failed (and logged)
    MAIL_KEEP_DAYS = _env_int("MAIL_KEEP_DAYS", 30)  # the record of a sent mail (no body) is kept this long
    MAIL_WORKER_INTERVAL = float(_env("MAIL_WORKER_INTERVAL", "5") or 5)  # seconds between outbox polls

    # Sessions and cookies (SECURITY.md: HttpOnly, SameSite=Lax, Secure in production, short remember).
    SESSION_COOKIE_NAME = "coaching_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    # "basic": the per-user session token already ends stolen sessions; "strong" would rewrite the cookie of
    # every anonymous response (static files included) and clear remember cookies.
    SESSION_PROTECTION = "basic"

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session; expiry is handled by the session
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS")
    PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)  # trust X-Forwarded-* only behind this many proxies

    # Rate limits: memory storage counts per worker; REDIS_URL shares them between workers and servers.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or (_env("REDIS_URL") or "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in this worker's memory (with a logged warning) instead of failing every login; the
    # storage is tried again with back-off. docs/deployment.md "When Redis is down" explains the choice.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # A Redis that does not answer must not hold a request for long (redis-py waits forever by default).
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # How long a client is asked to wait (Retry-After) when the database does not answer.
    DATABASE_RETRY_AFTER_SECONDS = _env_int("DATABASE_RETRY_AFTER_SECONDS", 5)
    LOGIN_FAILURES_PER_MINUTE = _env_int("LOGIN_FAILURES_PER_MINUTE", 10)
    VERIFY_UPLOADS_PER_MINUTE = _env_int("VERIFY_UPLOADS_PER_MINUTE", 20)  # certificate files checked on /verify
    # Registrations and reset requests (each sends a mail): per address and per IP, counted for an hour.
    ACCOUNT_MAILS_PER_HOUR = _env_int("ACCOUNT_MAILS_PER_HOUR", 5)
    ACCOUNT_MAILS_PER_IP_PER_HOUR = _env_int("ACCOUNT_MAILS_PER_IP_PER_HOUR", 20)
    RATELIMIT_ENABLED = True

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "coaching" / "translations")
    LANGUAGES = ("en", "de")

    # A network database may drop idle connections: test each one as it leaves the pool. A SQLite file
    # cannot drop them, so create_app leaves the ping out there (it costs a statement per request).
    # hide_parameters: an error's text (logged on a 500) never carries the bound values (emails, names).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}


class TestConfig(Config):
    """Per-test settings: the fixtures set the database, content and key paths; mail stays in the outbox table."""

    TESTING = True
    PRODUCTION = False
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = None  # set per test by tests/conftest.py
    MAIL_SERVER = None
    MAIL_BACKEND = "log"
    RATELIMIT_STORAGE_URI = "memory://"
    CONTENT_RELOAD_SECONDS = 0.0
    DEMO_ACCOUNTS = False
    ARGON2_TIME_COST = 1  # still argon2id; cheaper parameters keep the suite fast
    ARGON2_MEMORY_KIB = 8192
    SITE_URL = "http://localhost"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    TRUSTED_HOSTS = None
