"""Start-up checks: every setting that must be right before the app serves, in one place.

Each problem is one line that says what to change. Malformed values stop every start. The production
requirements (secret key, signing key file, https SITE_URL, a way to send mail) stop a start that will serve
requests (gunicorn, `flask run`, any WSGI server importing `wsgi:app`), while the `flask` commands that set a
server up (`flask db upgrade`, `flask credentials init-key`, `flask users create-manager`, ...) still run and
print them as warnings. gunicorn.conf.py runs the same check in the master process before any worker starts.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from config import ENVIRONMENT_ERRORS, ConfigError

from .credentials.signing import KeyFileError, KeyRing

__all__ = ["ConfigError", "check_settings", "production_problems", "running_setup_command", "setting_errors",
           "settings_of"]

MAIL_BACKENDS = ("smtp", "log", "file")


def settings_of(config: Mapping[str, Any] | type) -> dict[str, Any]:
    """The upper-case settings of a config mapping or of a config class (gunicorn checks the class)."""
    if isinstance(config, Mapping):
        return dict(config)
    return {name: getattr(config, name) for name in dir(config) if name.isupper()}


def setting_errors(settings: Mapping[str, Any]) -> list[str]:
    """Values no start can use, in development as in production (malformed numbers, unknown choices)."""
    errors = list(ENVIRONMENT_ERRORS)
    if settings.get("REGISTRATION") not in ("open", "invite"):
        errors.append(f"REGISTRATION must be 'open' or 'invite', got {settings.get('REGISTRATION')!r}")
    return errors


def production_problems(settings: Mapping[str, Any]) -> list[str]:
    """What COACHING_ENV=production needs before it may serve; an empty list when all is in place."""
    if not settings.get("PRODUCTION"):
        return []
    problems = []
    if not settings.get("SECRET_KEY"):
        problems.append("SECRET_KEY is not set (64 random hex characters, the same on every app server)")
    site_url = settings.get("SITE_URL") or ""
    if urlsplit(site_url).scheme != "https" or not urlsplit(site_url).hostname:
        problems.append(f"SITE_URL must be the public https:// address in production, got {site_url!r}")
    key_file = settings.get("SIGNING_KEY_FILE")
    if not key_file:
        problems.append("SIGNING_KEY_FILE is not set (create the file with `flask credentials init-key`)")
    else:
        try:
            KeyRing.load(Path(key_file))
        except KeyFileError as error:
            problems.append(f"SIGNING_KEY_FILE: {error}")
    problems.extend(_mail_problems(settings))
    return problems


def _mail_problems(settings: Mapping[str, Any]) -> list[str]:
    """Password-reset mails must go somewhere: an SMTP server, or the log/file backend chosen on purpose."""
    backend = settings.get("MAIL_BACKEND") or "smtp"
    if backend not in MAIL_BACKENDS:
        return [f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, got {backend!r}"]
    if backend == "smtp" and not settings.get("MAIL_SERVER"):
        return ["MAIL_SERVER is not set, so password-reset mails would vanish "
                "(set MAIL_SERVER, or MAIL_BACKEND=log to write them to the log on purpose)"]
    return []


def running_setup_command() -> bool:
    """True while a `flask` command other than `flask run` loads the app (it sets a server up, it serves nothing)."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return False
    context = click.get_current_context(silent=True)
    return context is None or context.command.name != "run"


def check_settings(config: Mapping[str, Any] | type, *, serving: bool | None = None) -> None:
    """Raise ConfigError (one line per problem) when the app must not start; warn on stderr in setup commands."""
    settings = settings_of(config)
    errors = setting_errors(settings)
    if errors:
        raise ConfigError(*errors)
    problems = production_problems(settings)
    if not problems:
        return
    if serving is None:
        serving = not running_setup_command()
    if serving:
        raise ConfigError(*problems)
    for line in problems:
        click.echo(f"coaching: warning (the server will refuse to start): {line}", err=True)


def main() -> int:
    """Check the environment as a server would (gunicorn.conf.py runs this in a child process): 0, or 1 and one
    line per problem on stderr."""
    from config import Config

    try:
        check_settings(Config, serving=True)
    except ConfigError as error:
        for line in error.lines:
            click.echo(f"coaching: cannot start: {line}", err=True)
        return 1
    return 0
