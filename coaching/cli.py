"""Command-line interface: `flask content ...`, `flask users ...`, `flask credentials ...`, `flask mail ...`,
`flask db backup`."""
from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate.cli import db as db_group
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .routing import external_url

content_cli = AppGroup("content", help="Check and inspect the Markdown course content.")
users_cli = AppGroup("users", help="Create and manage user accounts.")
credentials_cli = AppGroup("credentials", help="Manage the keys that sign certificates; verify a certificate.")
mail_cli = AppGroup("mail", help="Send the mails waiting in the outbox.")
reviews_cli = AppGroup("reviews", help="Assignment reviews: the managers' daily digest.")


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
    """Print a single-use password reset link (valid one hour) for an account; nothing is saved if it fails."""
    from .services.accounts import create_password_reset, find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException("no account with this email")
    token = create_password_reset(user)
    link = external_url("auth.open_reset_link", token=token)  # built before the commit: a failure saves nothing
    db.session.commit()
    click.echo(link)


@users_cli.command("demo")
def users_demo() -> None:
    """Create the development demo accounts (never in production), ready to sign in (no confirmation mail);
    passwords are printed once."""
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

    if path is None and not current_app.config.get("SIGNING_KEY_FILE"):
        raise click.ClickException("SIGNING_KEY_FILE is not set: set it (as for the server) or pass --path")
    path = path or Path(current_app.config["SIGNING_KEY_FILE"])
    try:
        kid = init_key_file(path, rotate=rotate)
    except (KeyFileError, FileExistsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'Rotated' if rotate else 'Created'} signing key {kid} in {path}")


def _read_input(path: Path, limit: int, what: str) -> bytes:
    """Read at most `limit` + 1 bytes of a file named on the command line; a clear message (exit 1) otherwise."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as error:
        click.echo(f"cannot read the {what} {path}: {error.strerror or error}", err=True)
        sys.exit(1)


def _no_database(error: Exception) -> NoReturn:
    """The database could not answer: say so and how to verify without it (exit 1)."""
    click.echo(f"cannot read this installation's database ({type(error).__name__}); to verify without it, "
               "pass --keys JWKS_FILE and --status STATUS_FILE", err=True)
    sys.exit(1)


@credentials_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--keys", "keys_file", type=click.Path(path_type=Path),
              help="The issuer's JWK Set (saved from /.well-known/jwks.json) instead of this installation's keys.")
@click.option("--status", "status_file", type=click.Path(path_type=Path),
              help="The signed status list (saved from /credentials/status/<n>) instead of this installation's "
                   "database.")
def credentials_verify(file: Path, keys_file: Path | None, status_file: Path | None) -> None:
    """Check a certificate PDF or .jwt file: one line per check; exit 0 when valid, 1 otherwise.

    With --keys and --status nothing else is needed: no network, no database. Without them the installation's
    own keys and records are used (and the credential is compared with the record, as on /verify).
    """
    from datetime import UTC, datetime

    from .credentials.files import MAX_FILE_BYTES, MAX_JWKS_BYTES, CredentialFileError, parse_jwks
    from .credentials.verify import exit_code, format_verdict, verify_file
    from .services import credentials, verification

    data = _read_input(file, MAX_FILE_BYTES, "file")
    now = datetime.now(UTC)
    if keys_file is None and status_file is None:
        try:
            result = verification.verify_certificate_file(data, now=now)
        except SQLAlchemyError as error:
            _no_database(error)
        lines = [f"outcome: {result.outcome}"]
        lines += [f"  {check.state:<8} {check.name:<10} {check.detail}" for check in result.checks]
        lines += [f"  differs  {d.fact}: signed {d.signed!r}, record {d.record!r}" for d in result.differences]
        click.echo("\n".join(lines))
        sys.exit(0 if result.outcome == "valid" else 1)
    try:
        jwks = parse_jwks(_read_input(keys_file, MAX_JWKS_BYTES, "key set")) if keys_file else credentials.site_jwks()
    except CredentialFileError as error:
        click.echo(f"{keys_file}: {error}", err=True)
        sys.exit(1)
    status_list = None
    if status_file is not None:
        raw = _read_input(status_file, MAX_FILE_BYTES, "status list")
        try:
            status_list = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            click.echo(f"{status_file}: not a status list (a signed JWT is plain ASCII text)", err=True)
            sys.exit(1)
    try:
        verdict = verify_file(data, jwks=jwks, issuer_url=current_app.config["SITE_URL"], now=now,
                              status_list_jwt=status_list,
                              status_lookup=None if status_file is not None else credentials.status_lookup)
    except SQLAlchemyError as error:
        _no_database(error)
    click.echo("\n".join(format_verdict(verdict)))
    sys.exit(exit_code(verdict))


@db_group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Write a consistent copy of the live SQLite database, readable by its owner only (mode 0600).

    Uses SQLite's online backup API; for PostgreSQL use pg_dump (docs/deployment.md §9).
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException("for PostgreSQL use pg_dump (see docs/deployment.md)")
    source_path = engine.url.database
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        # Created empty with mode 0600 before SQLite opens it: the copy holds every account's personal data,
        # and SQLite gives its journal the file's mode. O_EXCL: never overwrite an earlier backup.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise click.ClickException(f"{target} exists; choose a new file name") from None
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
    except sqlite3.Error as error:
        destination.close()
        target.unlink(missing_ok=True)  # nothing half-written stays behind
        raise click.ClickException(f"backup failed: {error}") from None
    finally:
        destination.close()
        source.close()
    click.echo(f"Backed up {source_path} to {target} (mode 0600)")


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(credentials_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(reviews_cli)


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


@mail_cli.command("worker")
@click.option("--once", is_flag=True, help="One pass over the due mails, then exit (for cron or tests).")
@click.option("--interval", type=float, help="Seconds between passes (default MAIL_WORKER_INTERVAL).")
def mail_worker(once: bool, interval: float | None) -> None:
    """Send the outbox's due mails through MAIL_BACKEND, retrying failures with backoff; stops on Ctrl+C/SIGTERM.

    Each pass also deletes the records of mails sent more than MAIL_KEEP_DAYS ago and expired registrations.
    """
    from .services.mail import deliver_due, purge_records
    from .services.signup import purge_expired_registrations

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    interval = interval if interval is not None else app.config["MAIL_WORKER_INTERVAL"]
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: stop.set())
        click.echo(f"mail worker: MAIL_BACKEND={app.config['MAIL_BACKEND']}, every {interval:g} s (Ctrl+C stops)")
    while True:
        try:
            report = deliver_due(app)
            purge_records(app.config["MAIL_KEEP_DAYS"])
            purge_expired_registrations()
            db.session.commit()
        except Exception:
            if once:
                raise
            app.logger.exception("mail worker: pass failed; trying again in %g s", interval)
            report = None
        finally:
            db.session.remove()
        if report is not None and (report.handled or once):
            click.echo(f"mail: {report.sent} sent, {report.retrying} to retry, {report.failed} failed")
        if once or stop.is_set():
            return
        if report is None or report.handled == 0:
            stop.wait(interval)


@reviews_cli.command("digest")
def reviews_digest() -> None:
    """Mail each manager who chose the daily digest the new submissions waiting for review (once a day; run it
    from cron or a timer as often as you like)."""
    from .services.review_mail import send_digests

    sent = send_digests()
    db.session.commit()
    click.echo(f"{sent} digest mail(s) queued.")
