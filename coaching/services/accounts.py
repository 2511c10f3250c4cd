"""Account services: email normalisation, password policy and hashing, users, resets and invites.

Functions add and flush; the caller (a view or a command) commits.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..extensions import db
from ..models import Invite, PasswordReset, User, utcnow

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
RESET_LIFETIME = timedelta(hours=1)
INVITE_LIFETIME = timedelta(days=14)


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """An argon2id hasher and a dummy hash made with it (verified against when the email is unknown)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=4)
    return hasher, hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def _hasher() -> PasswordHasher:
    """The configured argon2id hasher (default: argon2-cffi's RFC 9106 low-memory profile, above OWASP's minimum)."""
    return _hasher_for(*_cost())[0]


def _cost() -> tuple[int, int]:
    """(time cost, memory KiB) from the app config; tests lower them to stay fast."""
    if has_app_context():
        return current_app.config.get("ARGON2_TIME_COST", 3), current_app.config.get("ARGON2_MEMORY_KIB", 65536)
    return 3, 65536


class AccountError(ValueError):
    """A rule was broken; the message is safe to show to the person."""


def normalize_email(raw: str) -> str:
    """Lower-case, NFC-normalised, trimmed email: the form in which emails are stored and compared."""
    return unicodedata.normalize("NFC", raw).strip().lower()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The shipped list of frequently used passwords."""
    text = resources.files("coaching").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    lowered = password.lower()
    if lowered in _common_passwords() or lowered in {email.lower(), email.split("@")[0].lower(), name.lower()}:
        return "too_common"
    return None


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify a password; with no user, burn the same time on a dummy hash. Rehashes old formats."""
    hasher, _dummy = _hasher_for(*_cost())
    if user is None or not user.password_hash:
        password_matches(None, password)
        return False
    if not password_matches(user.password_hash, password):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when the password fits the hash; with no hash, the same time is spent on a dummy one."""
    hasher, dummy = _hasher_for(*_cost())
    try:
        hasher.verify(password_hash or dummy, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def find_user(user_id: int) -> User | None:
    """A person by id (affiliate or manager), or None."""
    return db.session.get(User, user_id)


def find_user_by_email(email: str) -> User | None:
    """The user with this email (any letter case), or None."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


# The columns every signed-in request needs: the session check, the role, the language.
SESSION_COLUMNS = ("id", "role", "active", "language", "session_token")
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def session_user(user_id: int, token: str) -> User | None:
    """The person signed in with this session, or None (no such account, deactivated, or a session token
    that was rotated: logout, password change, reset, deactivation).

    Every signed-in request runs this before anything else, so it reads the columns above straight from
    the driver - an ORM load (session transaction, statement cache key, object loading) cost four times as
    much as the query itself. The row becomes a clean, persistent User in the request's session; its
    other columns (name, email, password hash...) load on first use, and changes flush as usual.
    """
    row = _session_row(user_id)
    if row is None or not row["active"] or not hmac.compare_digest(row["session_token"], token):
        return None
    loaded = db.session.identity_map.get(identity_key(User, user_id))
    if loaded is not None:  # this session already holds the person: keep one object per row
        return loaded
    user = User(**row)
    make_transient_to_detached(user)  # as if loaded by a query: no pending changes, the rest expired
    db.session.add(user)
    return user


def _session_row(user_id: int) -> dict[str, object] | None:
    """The SESSION_COLUMNS of one user, read with a pooled driver connection (no ORM, no SQLAlchemy session)."""
    engine = db.engine
    sql = (f"SELECT {', '.join(SESSION_COLUMNS)} FROM {User.__tablename__} "
           f"WHERE id = {_PLACEHOLDERS[engine.dialect.paramstyle]}")
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, (user_id,))
            found = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, which rolls back whatever the driver began
    if found is None:
        return None
    row = dict(zip(SESSION_COLUMNS, found))
    row["active"] = bool(row["active"])  # SQLite answers 0/1
    return row


def email_taken(email: str) -> bool:
    """True when an account with this email exists."""
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == normalize_email(email))) > 0


def create_user(*, email: str, name: str, password: str | None, role: str = "affiliate",
                language: str | None = None) -> User:
    """Create an account; raises AccountError for a taken email or a refused password."""
    email = normalize_email(email)
    if email_taken(email):
        raise AccountError("email_taken")
    if password is not None:
        problem = password_problem(password, email=email, name=name)
        if problem:
            raise AccountError(problem)
    user = User(email=email, name=name.strip(), role=role, language=language,
                password_hash=hash_password(password) if password is not None else None)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Change a password and end every existing session of that person."""
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.end_all_sessions()


def hash_token(token: str) -> str:
    """Tokens are stored hashed, so a leaked database holds no usable link."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()



def create_password_reset(user: User, *, now: datetime | None = None) -> str:
    """A new single-use reset token valid for one hour; returns the token to put in the link."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordReset(user_id=user.id, token_hash=hash_token(token), created_at=now,
                                 expires_at=now + RESET_LIFETIME))
    db.session.flush()
    return token


def find_valid_reset(token: str, *, now: datetime | None = None) -> PasswordReset | None:
    """The unused, unexpired reset for this token, or None."""
    if not token or len(token) > 128:
        return None
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= (now or utcnow()):
        return None
    return reset


def use_password_reset(token: str, password: str) -> User:
    """Consume a reset token exactly once and set the new password; raises AccountError otherwise."""
    reset = find_valid_reset(token)
    if reset is None:
        raise AccountError("reset_invalid")
    user = db.session.get(User, reset.user_id)
    if user is None or not user.active:
        raise AccountError("reset_invalid")
    set_password(user, password)
    # Conditional update: of two concurrent uses of one link only one finds used_at still empty.
    claimed = db.session.execute(
        update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise AccountError("reset_invalid")
    return user


def create_invite(*, created_by: User | None, email: str | None = None,
                  now: datetime | None = None) -> tuple[Invite, str]:
    """A single-use invite valid for 14 days, optionally bound to one email; returns it and its token."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    invite = Invite(token_hash=hash_token(token), email=normalize_email(email) if email else None,
                    created_by_id=created_by.id if created_by else None, created_at=now,
                    expires_at=now + INVITE_LIFETIME)
    db.session.add(invite)
    db.session.flush()
    return invite, token


def find_invite(invite_id: int) -> Invite | None:
    """An invite by id, or None."""
    return db.session.get(Invite, invite_id)


def find_valid_invite(token: str | None, *, now: datetime | None = None) -> Invite | None:
    """The usable invite for this token, or None."""
    if not token or len(token) > 128:
        return None
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
    if invite is None or invite.used_at or invite.withdrawn_at or invite.expires_at <= (now or utcnow()):
        return None
    return invite


def claim_invite(invite: Invite, user: User) -> None:
    """Mark an invite used by this new account, exactly once."""
    claimed = db.session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.withdrawn_at.is_(None))
        .values(used_at=utcnow(), used_by_id=user.id)
    ).rowcount
    if claimed != 1:
        raise AccountError("invite_invalid")


def update_profile(user: User, *, name: str, language: str | None) -> None:
    """Save the name printed on future certificates and the preferred interface language."""
    user.name = name.strip()
    user.language = language or None
    db.session.flush()


def set_language(user: User, language: str) -> None:
    """Remember a signed-in person's interface language (the footer's switch)."""
    user.language = language
    db.session.flush()
