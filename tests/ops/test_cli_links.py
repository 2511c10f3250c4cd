"""Links built by CLI commands come from SITE_URL (no request, no SERVER_NAME); a failing command saves nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from coaching.extensions import db
from coaching.models import PasswordReset
from coaching.routing import external_url
from tests.ops.helpers import production_env, python, run


def resets(app: Any) -> int:
    """How many password-reset rows exist."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PasswordReset))


def test_reset_link_with_trusted_hosts_and_no_server_name(app_factory: Any, make_user: Any) -> None:
    """With TRUSTED_HOSTS set and no SERVER_NAME (production) the command prints an https link under SITE_URL."""
    app = app_factory(TRUSTED_HOSTS=["academy.example"], SITE_URL="https://academy.example")
    make_user()
    result = app.test_cli_runner().invoke(args=["users", "reset-link", "aff@example.com"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("https://academy.example/auth/reset/") and resets(app) == 1
    opened = app.test_client().get(result.output.strip().removeprefix("https://academy.example"),
                                   headers={"Host": "academy.example"}, follow_redirects=True)
    assert opened.status_code == 200 and opened.request.path == "/auth/reset"


def test_failed_reset_link_saves_nothing(app_factory: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the link cannot be built the command fails and no reset row is left behind."""
    app = app_factory()
    make_user()

    def broken(*_args: Any, **_kwargs: Any) -> str:
        raise RuntimeError("cannot build")

    monkeypatch.setattr("coaching.cli.external_url", broken)
    result = app.test_cli_runner().invoke(args=["users", "reset-link", "aff@example.com"])
    assert result.exit_code != 0 and resets(app) == 0


def test_external_url_without_a_request(app_factory: Any) -> None:
    """external_url builds from SITE_URL alone, keeping a path prefix and the scheme."""
    app = app_factory(SITE_URL="https://example.org/academy")
    with app.app_context():
        assert external_url("auth.open_reset_link", token="abc") == "https://example.org/academy/auth/reset/abc"
        assert external_url("auth.register", invite="x y") == "https://example.org/academy/auth/register?invite=x+y"


def test_reset_link_command_in_a_production_shell(tmp_path: Path, signing_key_file: Path) -> None:
    """As an operator runs it: `flask users create` then `flask users reset-link` under production settings."""
    env = production_env(tmp_path, signing_key_file, TRUSTED_HOSTS="academy.example")
    env["FLASK_APP"] = "wsgi"
    assert run(python("-m", "flask", "db", "upgrade"), env).returncode == 0
    created = run(python("-m", "flask", "users", "create", "ops@example.com", "--name", "Ops Person",
                         "--password", "a long enough passphrase"), env)
    assert created.returncode == 0, created.stderr
    done = run(python("-m", "flask", "users", "reset-link", "ops@example.com"), env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("https://academy.example/auth/reset/") and "Traceback" not in done.stderr
