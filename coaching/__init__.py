"""coaching: a learning platform on which affiliates learn their trade from their affiliate managers."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, Config, ConfigError

from . import sqlitedb
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .i18n import BADGE_LABELS, select_language
from .inputs import install_input_guard
from .logs import configure_logging
from .services.db import database_unavailable
from .startup import check_settings


def create_app(config_class: type = Config) -> Flask:
    """Build the application: config, extensions, blueprints, CLI. No network, no schema changes."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=os.environ.get("COACHING_INSTANCE") or str(BASE_DIR / "instance"),
    )
    app.config.from_object(config_class)
    _configure_instance(app)
    _configure_proxy(app)
    _configure_extensions(app)
    _configure_content(app)
    _register_blueprints(app)
    _configure_security(app)
    _configure_logging(app)
    _configure_templates(app)
    from .cli import register_cli
    from .errors import register_error_handlers

    register_error_handlers(app)
    register_cli(app)
    return app


def _configure_instance(app: Flask) -> None:
    """Refuse unsafe or malformed settings (coaching/startup.py); fill in those that live in the instance folder."""
    check_settings(app.config)
    instance = Path(app.instance_path)
    production = app.config.get("PRODUCTION")
    if not app.config.get("SECRET_KEY") and not production:
        instance.mkdir(parents=True, exist_ok=True)
        key_file = instance / "secret_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'coaching.db'}"
    if not app.config.get("SIGNING_KEY_FILE") and not production:
        app.config["SIGNING_KEY_FILE"] = str(instance / "signing-keys.json")
    if production and not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["SITE_URL"]).hostname]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    editing = app.config.get("CONTENT_EDITING", "off")
    if editing not in ("on", "off", True, False):
        raise ConfigError("CONTENT_EDITING must be 'on' or 'off'")
    app.config["CONTENT_EDITING"] = editing in ("on", True)


def _configure_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* only from the configured number of proxies; /healthz answers any Host header."""
    from .routing import HealthCheckHost

    app.wsgi_app = HealthCheckHost(app.wsgi_app, app.config)  # type: ignore[method-assign]
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _configure_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_language)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself; no flash on every redirect
    login_manager.session_protection = app.config.get("SESSION_PROTECTION", "strong")
    login_manager.user_loader(_load_user)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sqlitedb.configure(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _load_user(user_id: str) -> Any:
    """Flask-Login loader: the id carries the session token, so ended sessions no longer load."""
    from .services.accounts import session_user

    raw_id, _, token = user_id.partition(":")
    if not raw_id.isascii() or not raw_id.isdigit() or not token or len(raw_id) > 12:
        return None
    return session_user(int(raw_id), token)


def _configure_content(app: Flask) -> None:
    """One content store per process; it reloads the Markdown tree when the files change. With browser
    editing on, every check first writes newer published revisions from the database into the folder."""
    from .content import ContentStore, Renderer, shared_renderer
    from .services.publishing import hook_for

    root = Path(app.config["CONTENT_DIR"])
    setting = app.config.get("RENDER_CACHE_FILE") or str(Path(app.instance_path) / "render-cache.sqlite3")
    app.extensions["coaching.content"] = ContentStore(
        root, reload_seconds=app.config["CONTENT_RELOAD_SECONDS"],
        renderer=Renderer() if setting == "off" else shared_renderer(setting),
        before_check=hook_for(app, root) if app.config["CONTENT_EDITING"] else None,
    )


def _register_blueprints(app: Flask) -> None:
    """Register every area of the site."""
    from .routing import IdConverter

    app.url_map.converters["dbid"] = IdConverter  # every id in a URL: bounded and ASCII-only
    from .auth import bp as auth_bp
    from .certificates import bp as certificates_bp
    from .learn import bp as learn_bp
    from .manage import bp as manage_bp
    from .site import bp as site_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(learn_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(manage_bp, url_prefix="/manage")


def _configure_security(app: Flask) -> None:
    """The input rule first of all; security headers on every response; writes take SQLite's write lock first."""
    install_input_guard(app)

    @app.before_request
    def _begin_write_transaction() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS") or db.engine.dialect.name != "sqlite":
            return
        if getattr(app.view_functions.get(request.endpoint or ""), "late_write_lock", False):
            return  # the view's service takes the lock itself, just before it writes (services/db.late_write_lock)
        db.session.connection(execution_options={"sqlite_immediate": True})

    @app.after_request
    def _headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("PRODUCTION"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint not in _NO_USER_LOOKUP and not g.get("cacheable") and _signed_in():
            headers["Cache-Control"] = "no-store"
            headers["Vary"] = "Cookie"
        return response


# Answers that are the same for everyone: no user lookup (they work while the database is away, too).
_NO_USER_LOOKUP = frozenset({"static", "site.healthz"})


def _signed_in() -> bool:
    """Whether the request comes from a signed-in person; True when that cannot be told (the database is away).

    Runs after the response is made, also for error pages: it must not fail, or the response would be lost.
    """
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception as error:
        if not database_unavailable(error):
            raise
        g._login_user = login_manager.anonymous_user()
        return True  # a signed-in person's page must not be cached: assume one


def _configure_logging(app: Flask) -> None:
    """Every log record as one JSON line on stderr (coaching/logs.py)."""
    configure_logging(app)


def _configure_templates(app: Flask) -> None:
    """Values and filters every template may use."""
    from flask_babel import format_date, format_datetime, format_timedelta, get_locale

    app.jinja_env.globals["badge_labels"] = BADGE_LABELS

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_language": str(get_locale() or "en")}

    @app.template_filter("format_date_local")
    def _format_date(value: Any) -> str:
        return format_date(value, format="medium") if value else "–"

    @app.template_filter("format_datetime_local")
    def _format_datetime(value: Any) -> str:
        return format_datetime(value, format="medium") if value else "–"

    @app.template_filter("format_timedelta_local")
    def _format_timedelta(value: Any) -> str:
        return format_timedelta(value, threshold=1.0) if value is not None else "–"

    from .usertext import as_html, link_html

    app.add_template_filter(as_html, "usertext")  # a person's text: escaped, line breaks kept, links nofollow
    app.add_template_filter(link_html, "userlink")
