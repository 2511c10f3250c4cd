"""Helpers of the operator tests: a clean environment as a server would have it, and running commands in it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.scale.helpers import REPO

SETTINGS_PREFIXES = ("COACHING_", "DATABASE_URL", "REDIS_URL", "RATELIMIT_", "MAIL_", "SITE_", "SECRET_KEY",
                     "SIGNING_KEY_FILE", "TRUSTED_HOSTS", "FLASK_", "GUNICORN_", "REGISTRATION", "LOGIN_FAILURES")


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any coaching setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    env.update({"PYTHONPATH": str(REPO), "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content"), **settings})
    return env


def production_env(root: Path, signing_key_file: Path, **overrides: str | None) -> dict[str, str]:
    """A complete production environment (SQLite in `root`); an override of None removes that setting."""
    root.mkdir(parents=True, exist_ok=True)
    keys = root / "signing-keys.json"
    if not keys.exists():
        shutil.copy(signing_key_file, keys)
        keys.chmod(0o600)
    settings = {"COACHING_ENV": "production", "SECRET_KEY": "a" * 64, "SITE_URL": "https://academy.example",
                "SIGNING_KEY_FILE": str(keys), "MAIL_SERVER": "smtp.example",
                "COACHING_INSTANCE": str(root / "instance"), "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    for name, value in overrides.items():
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
    return clean_env(**settings)


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a command from the project folder with this environment; text output captured."""
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def python(*args: str) -> list[str]:
    """The command line of this interpreter (the venv's) with arguments."""
    return [sys.executable, *args]
