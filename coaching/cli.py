"""Command-line interface: `flask content ...`, `flask users ...`, `flask credentials ...`, `flask db backup`."""
from __future__ import annotations

import secrets
import sqlite3
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate.cli import db as db_group

from .extensions import db

content_cli = AppGroup("content", help="Check and inspect the Markdown course content.")
users_cli = AppGroup("users", help="Create and manage user accounts.")
credentials_cli = AppGroup("credentials", help="Manage the keys that sign certificates.")


@content_cli.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def content_check(path: Path | None) -> None:
    """Check the lessons folder, one course folder or one lesson file (default: CONTENT_DIR).

    Prints every error and warning as path:line: message; exits 1 when there is any error.
    """
    from .content import check_path

    path = path or Path(current_app.config["CONTENT_DIR"])
    if not path.exists():
        click.echo(f"{path}: no such content folder or file", err=True)
        sys.exit(1)
    report = check_path(path)
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(report.summary())
    sys.exit(1 if report.errors else 0)


@content_cli.command("sync")
@click.option("--author", "author_email", help="Email of the manager to name as author of imported changes.")
@click.option("--no-git", is_flag=True, help="Do not commit to git even where the folder is a git work tree.")
def content_sync(author_email: str | None, no_git: bool) -> None:
    """Import files changed in CONTENT_DIR outside the browser editor as revisions, bring the folder up to date,
    and commit published revisions to git (where CONTENT_DIR is in a git work tree). Run it on one server."""
    from .services import publishing
    from .services.accounts import find_user_by_email
    from .services.content_sync import sync

    actor = None
    if author_email:
        actor = find_user_by_email(author_email)
        if actor is None or not actor.is_manager:
            raise click.ClickException(f"no manager with the email {author_email}")
    root = Path(current_app.config["CONTENT_DIR"])
    try:
        report = sync(root, actor=actor, use_git=not no_git)
    except publishing.FolderError as error:
        db.session.rollback()
        raise click.ClickException(f"the content folder cannot be written ({error.code}: {error.detail})") from None
    for label, paths in (("published", report.published), ("draft", report.drafts), ("deleted", report.deleted),
                         ("skipped", report.skipped), ("committed", report.commits)):
        for line in paths:
            click.echo(f"{label}: {line}")
    if report.moved_rows:
        click.echo(f"moved {report.moved_rows} progress and attempt rows to renamed lessons")
    click.echo(f"{len(report.published)} published, {len(report.drafts)} drafts, {len(report.deleted)} deleted, "
               f"{len(report.commits)} commits")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name, as printed on certificates.")
@click.option("--password", help="Prompted for when not given.")
@click.option("--role", type=click.Choice(["affiliate", "manager"]), default="affiliate", show_default=True)
def users_create(email: str, name: str, password: str | None, role: str) -> None:
    """Create a user account."""
    from .services.accounts import AccountError, create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email=email, name=name, password=password, role=role)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException({"email_taken": "an account with this email exists",
                                    "too_short": "the password is too short (8 characters at least)",
                                    "too_long": "the password is too long",
                                    "too_common": "the password is too common"}.get(str(error), str(error))) from None
    db.session.commit()
    click.echo(f"Created {role} {user.email} (id {user.id}).")


@users_cli.command("create-manager")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password")
@click.pass_context
def users_create_manager(ctx: click.Context, email: str, name: str, password: str | None) -> None:
    """Create a manager account (shortcut for `users create --role manager`)."""
    ctx.invoke(users_create, email=email, name=name, password=password, role="manager")


@users_cli.command("reset-link")
@click.argument("email")
def users_reset_link(email: str) -> None:
    """Print a single-use password reset link (valid one hour) for an account."""
    from flask import url_for

    from .services.accounts import create_password_reset, find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException("no account with this email")
    token = create_password_reset(user)
    db.session.commit()
    with current_app.test_request_context():
        click.echo(current_app.config["SITE_URL"] + url_for("auth.reset_password", token=token))


@users_cli.command("demo")
def users_demo() -> None:
    """Create the development demo accounts (never in production); passwords are printed once."""
    from .services.accounts import create_user, find_user_by_email

    if current_app.config.get("PRODUCTION") or not current_app.config.get("DEMO_ACCOUNTS"):
        raise click.ClickException("demo accounts are for development only")
    for email, name, role in (("manager@example.com", "Maria Manager", "manager"),
                              ("affiliate@example.com", "Alex Affiliate", "affiliate")):
        if find_user_by_email(email):
            click.echo(f"Demo {role}: {email} (exists; `flask users reset-link {email}` for a new password)")
            continue
        password = secrets.token_urlsafe(9)
        create_user(email=email, name=name, password=password, role=role)
        db.session.commit()
        click.echo(f"Demo {role}: {email}  password: {password}   (shown only now)")


@credentials_cli.command("init-key")
@click.option("--rotate", is_flag=True, help="Add a new current key and keep the old ones for verification.")
@click.option("--path", type=click.Path(dir_okay=False, path_type=Path), help="Defaults to SIGNING_KEY_FILE.")
def credentials_init_key(rotate: bool, path: Path | None) -> None:
    """Create the signing key file (mode 0600), or rotate its key."""
    from .credentials.signing import KeyFileError, init_key_file

    path = path or Path(current_app.config["SIGNING_KEY_FILE"])
    try:
        kid = init_key_file(path, rotate=rotate)
    except (KeyFileError, FileExistsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'Rotated' if rotate else 'Created'} signing key {kid} in {path}")


@db_group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Write a consistent copy of the live SQLite database (online backup API; PostgreSQL: use pg_dump)."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException("for PostgreSQL use pg_dump (see docs/deployment.md)")
    source_path = engine.url.database
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
    finally:
        destination.close()
        source.close()
    click.echo(f"Backed up {source_path} to {target}")


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(credentials_cli)


@users_cli.command("purge-inactive")
@click.option("--yes", is_flag=True, help="Delete the accounts listed (without it, only list them).")
@click.option("--withdraw-certificates", is_flag=True,
              help="Withdraw their certificates (default: they stay verifiable with the printed name).")
def users_purge_inactive(yes: bool, withdraw_certificates: bool) -> None:
    """List (and with --yes delete) affiliate accounts inactive for longer than RETENTION_DAYS."""
    from .services.privacy import inactive_accounts, mask_email, purge

    days = current_app.config["RETENTION_DAYS"]
    accounts = inactive_accounts(days)
    click.echo(f"{len(accounts)} account(s) inactive for more than {days} days (managers are never purged).")
    for item in accounts:
        click.echo(f"  id {item.user.id}  {mask_email(item.user.email)}  last activity {item.last_activity:%Y-%m-%d}")
    if not yes:
        if accounts:
            click.echo("Nothing deleted. Run again with --yes to delete them.")
        return
    summaries = purge(accounts, withdraw_certificates=withdraw_certificates)
    db.session.commit()
    certificates = sum(s.certificates_affected for s in summaries)
    choice = "withdrawn" if withdraw_certificates else "kept verifiable"
    click.echo(f"Deleted {len(summaries)} account(s); {certificates} certificate(s) {choice}.")
