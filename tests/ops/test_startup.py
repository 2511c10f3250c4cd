"""Production start-up: each missing or unsafe setting is refused with one clear line; setup commands still run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ops.helpers import production_env, python, run
from tests.scale.helpers import free_port

PROBLEMS = {
    "no SECRET_KEY": ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    "http SITE_URL": ({"SITE_URL": "http://academy.example"}, "SITE_URL must be the public https:// address"),
    "no SIGNING_KEY_FILE": ({"SIGNING_KEY_FILE": None}, "SIGNING_KEY_FILE is not set"),
    "key file missing": ({"SIGNING_KEY_FILE": "/nonexistent/keys.json"}, "does not exist"),
    "no mail": ({"MAIL_SERVER": None}, "MAIL_SERVER is not set"),
    "unknown mail backend": ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND must be one of"),
    "malformed number": ({"LOGIN_FAILURES_PER_MINUTE": "ten"}, "LOGIN_FAILURES_PER_MINUTE must be a whole number"),
    "unknown registration": ({"REGISTRATION": "closed"}, "REGISTRATION must be 'open' or 'invite'"),
}


def one_line(stderr: str, words: str) -> None:
    """stderr is exactly one line: the refusal naming the problem, no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coaching: cannot start: ") and words in lines[0], stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("case", PROBLEMS, ids=list(PROBLEMS))
def test_wsgi_refuses_each_problem_with_one_line(case: str, tmp_path: Path, signing_key_file: Path) -> None:
    """`import wsgi` (what gunicorn and uwsgi do) exits 1 with a single line naming the problem."""
    overrides, words = PROBLEMS[case]
    done = run(python("-c", "import wsgi"), production_env(tmp_path, signing_key_file, **overrides))
    assert done.returncode == 1
    one_line(done.stderr, words)


def test_key_file_readable_by_others_is_refused(tmp_path: Path, signing_key_file: Path) -> None:
    """A signing key file with mode 0644 stops the start with one line that says how to fix it."""
    env = production_env(tmp_path, signing_key_file)
    os.chmod(env["SIGNING_KEY_FILE"], 0o644)
    done = run(python("-c", "import wsgi"), env)
    assert done.returncode == 1
    one_line(done.stderr, "chmod 600")


def test_complete_production_settings_start(tmp_path: Path, signing_key_file: Path) -> None:
    """With every setting in place the app starts; MAIL_BACKEND=log may replace MAIL_SERVER on purpose."""
    done = run(python("-c", "import wsgi"), production_env(tmp_path, signing_key_file))
    assert done.returncode == 0 and "cannot start" not in done.stderr, done.stderr
    env = production_env(tmp_path, signing_key_file, MAIL_SERVER=None, MAIL_BACKEND="log")
    done = run(python("-c", "import wsgi"), env)
    assert done.returncode == 0 and "cannot start" not in done.stderr, done.stderr


def test_several_problems_one_line_each(tmp_path: Path, signing_key_file: Path) -> None:
    """Two problems give two lines, one per problem, so the operator fixes both in one go."""
    env = production_env(tmp_path, signing_key_file, SECRET_KEY=None, SITE_URL="http://academy.example")
    done = run(python("-c", "import wsgi"), env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 2
    assert all(line.startswith("coaching: cannot start:") for line in lines)


def test_setup_commands_run_before_the_server_could(tmp_path: Path, signing_key_file: Path) -> None:
    """`flask credentials init-key` and `flask db upgrade` run while the key file is missing and SITE_URL is http."""
    keys = tmp_path / "new-keys.json"
    env = production_env(tmp_path, signing_key_file, SIGNING_KEY_FILE=str(keys), SITE_URL="http://academy.example")
    env["FLASK_APP"] = "wsgi"
    init = run(python("-m", "flask", "credentials", "init-key"), env)
    assert init.returncode == 0, init.stderr
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    assert "warning (the server will refuse to start): SITE_URL" in init.stderr
    upgrade = run(python("-m", "flask", "db", "upgrade"), env)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Traceback" not in upgrade.stderr


def test_flask_run_refuses_with_one_line(tmp_path: Path, signing_key_file: Path) -> None:
    """`flask run` serves, so it refuses like gunicorn: exit 1 and one line."""
    env = production_env(tmp_path, signing_key_file, SITE_URL="http://academy.example")
    env["FLASK_APP"] = "wsgi"
    done = run(python("-m", "flask", "run", "--port", str(free_port())), env, timeout=60)
    assert done.returncode == 1
    one_line(done.stderr, "SITE_URL")


def test_gunicorn_refuses_before_any_worker_starts(tmp_path: Path, signing_key_file: Path) -> None:
    """gunicorn (gunicorn.conf.py's on_starting) stops at once: the refusal lines, its JSON lines, no traceback."""
    env = production_env(tmp_path, signing_key_file, MAIL_SERVER=None)
    done = run(python("-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"), env, timeout=60)
    assert done.returncode == 1
    plain = [line for line in done.stderr.splitlines() if not line.startswith("{")]
    assert plain == ["coaching: cannot start: MAIL_SERVER is not set, so password-reset mails would vanish "
                     "(set MAIL_SERVER, or MAIL_BACKEND=log to write them to the log on purpose)"], done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr


def test_gunicorn_check_config_refuses_with_one_line(tmp_path: Path, signing_key_file: Path) -> None:
    """`gunicorn --check-config wsgi:app` (loads the app) exits 1 with the one line."""
    env = production_env(tmp_path, signing_key_file, SECRET_KEY=None)
    done = run(python("-m", "gunicorn", "--check-config", "wsgi:app"), env, timeout=60)
    assert done.returncode == 1
    one_line(done.stderr, "SECRET_KEY")


def test_gunicorn_master_imports_neither_the_app_nor_flask(tmp_path: Path, signing_key_file: Path) -> None:
    """gunicorn.conf.py (its logging and the start-up check) leaves the master free of app code: a reload (HUP)
    forks workers that import the new release instead of inheriting the old one."""
    script = (
        "import logging.config, runpy, sys\n"
        "conf = runpy.run_path('gunicorn.conf.py')\n"
        "logging.config.dictConfig(conf['logconfig_dict'])\n"
        "conf['on_starting'](None)\n"
        "logging.getLogger('gunicorn.error').warning('a line')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'coaching', 'sqlalchemy', 'config'))\n"
        "print(loaded)\n"
    )
    done = run(python("-c", script), production_env(tmp_path, signing_key_file))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
    assert '"logger": "gunicorn.error", "message": "a line"' in done.stderr
