"""Command-line interface: content check, users, demo accounts, signing keys, backups."""
from __future__ import annotations

import os
import shutil
import sqlite3

from sqlalchemy import select

from coaching.extensions import db
from coaching.models import User
from tests.conftest import DEMO_CONTENT


def test_content_check_clean(runner):
    """A content folder without errors: its warnings, a summary line and exit 0."""
    result = runner.invoke(args=["content", "check", str(DEMO_CONTENT)])
    assert result.exit_code == 0, result.output
    # The demo quiz keeps its question text (tests pin its ids), so the two quiz-writing hints stay.
    assert "1 courses, 2 lessons: 0 errors, 2 warnings" in result.output
    assert "02-headlines.md:20: warning: the question says 'Choose all that apply'" in result.output


def test_content_check_accepts_a_course_folder_and_a_file(runner, tmp_path):
    """A single course folder (its images/ folder is no course) and a single lesson file can be checked."""
    content = tmp_path / "lessons"
    shutil.copytree(DEMO_CONTENT, content)
    course = runner.invoke(args=["content", "check", str(content / "demo")])
    assert course.exit_code == 0, course.output
    assert "course.md" not in course.output and "1 courses, 2 lessons: 0 errors" in course.output
    lesson = content / "demo" / "02-headlines.md"
    lesson.write_text(lesson.read_text().replace("max_attempts: 3", "max_attempt: 3"))
    one = runner.invoke(args=["content", "check", str(lesson)])
    assert one.exit_code == 1
    assert "02-headlines.md:5: unknown key 'max_attempt': did you mean 'max_attempts'?" in one.output
    assert "1 file (not published): 1 errors, 2 warnings" in one.output
    other = runner.invoke(args=["content", "check", str(content / "demo" / "01-welcome.md")])
    assert other.exit_code == 0 and "1 file (published): 0 errors, 0 warnings" in other.output


def test_content_check_reports_errors_with_lines(runner, tmp_path):
    """A broken lesson prints path:line: message and exits 1; a warning alone exits 0."""
    content = tmp_path / "lessons"
    shutil.copytree(DEMO_CONTENT, content)
    lesson = content / "demo" / "02-headlines.md"
    lesson.write_text(lesson.read_text().replace("   - [x] Save three hours", "   - [ ] Save three hours"))
    result = runner.invoke(args=["content", "check", str(content)])
    assert result.exit_code == 1
    assert "02-headlines.md:" in result.output and "1 errors" in result.output.replace("1 error,", "1 errors,")
    lesson.write_text(lesson.read_text().replace("   - [ ] Save three hours", "   - [x] Save three hours")
                      .replace("minutes: 5", "minutes: 5\ncolour: blue"))
    result = runner.invoke(args=["content", "check", str(content)])
    assert result.exit_code == 0 and "warning" in result.output


def test_content_check_missing_folder(runner, tmp_path):
    """A folder that does not exist is an error, not a traceback."""
    result = runner.invoke(args=["content", "check", str(tmp_path / "nope")])
    assert result.exit_code == 1


def test_users_create_and_duplicate(app, runner):
    """`flask users create` makes accounts; a duplicate email (any case) is refused."""
    result = runner.invoke(args=["users", "create", "Boss@Example.com", "--name", "Bo Boss", "--password",
                                 "a good passphrase", "--role", "manager"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role) == ("boss@example.com", "manager")
    again = runner.invoke(args=["users", "create", "BOSS@example.com", "--name", "X", "--password", "another passphrase"])
    assert again.exit_code != 0 and "exists" in again.output


def test_users_create_prompts_for_password(app, runner):
    """Without --password the command prompts (twice) for it."""
    result = runner.invoke(args=["users", "create", "p@example.com", "--name", "P"],
                           input="a good passphrase\na good passphrase\n")
    assert result.exit_code == 0, result.output


def test_users_create_refuses_weak_password(runner):
    """The password rules apply on the command line too."""
    result = runner.invoke(args=["users", "create", "w@example.com", "--name", "W", "--password", "short"])
    assert result.exit_code != 0 and "short" in result.output


def test_demo_accounts_only_in_development(app_factory):
    """Demo accounts are created once with printed passwords, and never in production."""
    app = app_factory(DEMO_ACCOUNTS=True)
    result = app.test_cli_runner().invoke(args=["users", "demo"])
    assert result.exit_code == 0 and result.output.count("password:") == 2
    again = app.test_cli_runner().invoke(args=["users", "demo"])
    assert "password:" not in again.output
    production = app_factory(DEMO_ACCOUNTS=False)
    assert production.test_cli_runner().invoke(args=["users", "demo"]).exit_code != 0


def test_fresh_database_has_no_account(app):
    """A fresh database has no default account."""
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_reset_link_command(app, runner, affiliate):
    """`flask users reset-link` prints a working single-use link."""
    result = runner.invoke(args=["users", "reset-link", "aff@example.com"])
    assert result.exit_code == 0
    link = result.output.strip().replace("http://localhost", "")
    opened = app.test_client().get(link, follow_redirects=True)
    assert opened.status_code == 200 and opened.request.path == "/auth/reset"


def test_init_key_creates_private_file(runner, tmp_path):
    """`flask credentials init-key` creates a 0600 key file, refuses to overwrite, and rotates on request."""
    path = tmp_path / "keys.json"
    result = runner.invoke(args=["credentials", "init-key", "--path", str(path)])
    assert result.exit_code == 0, result.output
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert runner.invoke(args=["credentials", "init-key", "--path", str(path)]).exit_code != 0
    assert runner.invoke(args=["credentials", "init-key", "--rotate", "--path", str(path)]).exit_code == 0


def test_db_backup_writes_consistent_copy(app, runner, affiliate, tmp_path):
    """`flask db backup` copies a live SQLite database with the online backup API into a 0600 file."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        result = runner.invoke(args=["db", "backup", str(tmp_path / "b.db")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    target = tmp_path / "backup.db"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT email FROM users").fetchall() == [("aff@example.com",)]
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"  # personal data: owner only, whatever the umask
    assert runner.invoke(args=["db", "backup", str(target)]).exit_code != 0  # never overwrites
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM users").fetchone() == (1,)  # the refused run left it intact
