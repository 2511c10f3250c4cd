"""Registration with a confirmation link, and forgotten passwords: the request does the same work whether or
not the email has an account - it never even looks - and the mail worker decides what the mail says.

Registration (a valid form): hash the password, store a pending registration, queue a "registration" notice
carrying the confirmation link. The worker sends that link to a new address; to an address that has an
account it sends instead a note that someone tried to register, with a reset link (and drops the pending
registration). The account is created when the link is used, with the password of that registration.
An invite bound to the email proves the address: the account is created at once (when the address has
none yet; otherwise the usual mail goes out).

Forgotten password: queue a "password_reset" notice. The worker sends a reset link to an active account,
a note to a deactivated one, or "there is no account with this address".

Functions add and flush; the view commits. The notice renderers run in the worker (services/mail.py).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..extensions import db
from ..models import Invite, OutboxMail, Registration, User, utcnow
from ..routing import external_url
from .accounts import (
    AccountError,
    claim_invite,
    create_password_reset,
    find_user_by_email,
    hash_password,
    hash_token,
    normalize_email,
    password_matches,
    password_problem,
)
from .db import insert_ignore
from .mail import Notice, queue_notice, register_notice

REGISTRATION_LIFETIME = timedelta(hours=24)


def _site() -> str:
    """The site's name as mails call it."""
    return current_app.config["SITE_NAME"]


def _language(user: User | None, fallback: str | None) -> str:
    """The recipient's language: the account's own, else the language of the request that caused the mail."""
    languages = current_app.config["LANGUAGES"]
    for candidate in ((user.language if user else None), fallback):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# --- registration -----------------------------------------------------------------------------------------------

def register(*, email: str, name: str, password: str, language: str | None, invite: Invite | None,
             mail_language: str | None = None) -> User | None:
    """Handle a valid registration form. Returns the new User only when an invite bound to this email proves
    the address and it has no account yet (the caller signs them in); otherwise None: a notice is queued.

    `language` is the account's chosen interface language (None: the browser's); `mail_language` the
    language of the page the form was sent from, for mails to an address without a language of its own.
    Raises AccountError: invite_email (the invite is bound to another address), a password rule
    (too_short, too_long, too_common), invite_invalid (the invite was used in the meantime).
    """
    email = normalize_email(email)
    name = name.strip()
    if invite is not None and invite.email and email != invite.email:
        raise AccountError("invite_email")
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise AccountError(problem)
    password_hash = hash_password(password)
    now = utcnow()
    purge_expired_registrations(now)
    if invite is not None and invite.email and insert_ignore(
            User, {"email": email, "name": name, "language": language, "password_hash": password_hash,
                   "role": "affiliate", "active": True}, conflict=["email"]):
        user = db.session.scalar(select(User).where(User.email == email))
        claim_invite(invite, user)
        return user
    token = secrets.token_urlsafe(32)
    db.session.add(Registration(email=email, name=name, password_hash=password_hash, language=language,
                                invite_id=invite.id if invite else None, token_hash=hash_token(token),
                                created_at=now, expires_at=now + REGISTRATION_LIFETIME))
    mail_language = _language(None, language or mail_language)
    with force_locale(mail_language):
        body = _("Hello %(name)s,\n\nplease confirm your email address to activate your account at %(site)s. "
                 "Open this link within 24 hours and sign in with the password you chose:\n\n%(link)s\n\n"
                 "If you did not register, ignore this message; without confirmation no account is created.",
                 name=name, site=_site(), link=external_url("auth.confirm", token=token))
        queue_notice("registration", email, language=mail_language, subject=_("Confirm your email address"),
                     body=body)
    db.session.flush()
    return None


@register_notice("registration")
def _registration_notice(mail: OutboxMail) -> Notice | None:
    """At send time: the confirmation link for a new address; for an address with an account, a note that
    someone tried to register (with a reset link), and its pending registrations go."""
    user = find_user_by_email(mail.recipient)
    if user is None:
        return Notice(mail.subject, mail.body or "", None)
    db.session.execute(delete(Registration).where(Registration.email == user.email))
    with force_locale(_language(user, mail.language)):
        if user.active and user.password_hash is not None:
            body = _("Hello %(name)s,\n\nsomeone (perhaps you) tried to create an account at %(site)s with this "
                     "email address. You already have an account, so nothing was changed.\n\n"
                     "Sign in here: %(login)s\n\nForgot your password? Choose a new one with this link "
                     "(valid for one hour):\n\n%(link)s\n\nIf this was not you, ignore this message.",
                     name=user.name, site=_site(), login=external_url("auth.login"),
                     link=external_url("auth.open_reset_link", token=create_password_reset(user)))
        else:
            body = _("Hello %(name)s,\n\nsomeone (perhaps you) tried to create an account at %(site)s with this "
                     "email address. There already is an account with it, but it is deactivated: please ask your "
                     "affiliate manager to reactivate it.\n\nIf this was not you, ignore this message.",
                     name=user.name, site=_site())
        return Notice(_("You already have an account"), body, user.id)


def purge_expired_registrations(now: datetime | None = None) -> int:
    """Delete registrations whose link expired (what people entered is kept no longer than that); how many."""
    return db.session.execute(delete(Registration).where(Registration.expires_at <= (now or utcnow()))).rowcount


def find_registration(token: str, *, now: datetime | None = None) -> Registration | None:
    """The unexpired registration this confirmation link was sent for, or None."""
    if not token or len(token) > 128:
        return None
    registration = db.session.scalar(select(Registration).where(Registration.token_hash == hash_token(token)))
    if registration is None or registration.expires_at <= (now or utcnow()):
        return None
    return registration


def confirm_registration(token: str, password: str) -> User:
    """Create the account of a registration from its link and the password chosen with it.

    Raises AccountError: registration_invalid (unknown, used or expired link), registration_password (not
    the password of this registration), email_taken (the address got an account meanwhile: the person
    proved they own it, so saying so tells nothing new), invite_invalid (its invite was used meanwhile).
    """
    registration = find_registration(token)
    if registration is None:
        raise AccountError("registration_invalid")
    if not password_matches(registration.password_hash, password):
        raise AccountError("registration_password")
    email = registration.email
    inserted = insert_ignore(User, {"email": email, "name": registration.name, "language": registration.language,
                                    "password_hash": registration.password_hash, "role": "affiliate",
                                    "active": True}, conflict=["email"])
    invite_id = registration.invite_id
    db.session.execute(delete(Registration).where(Registration.email == email))
    if not inserted:
        raise AccountError("email_taken")
    user = db.session.scalar(select(User).where(User.email == email))
    if invite_id is not None:
        invite = db.session.get(Invite, invite_id)
        if invite is None:
            raise AccountError("invite_invalid")
        claim_invite(invite, user)
    db.session.flush()
    return user


# --- forgotten password -------------------------------------------------------------------------------------------

def request_password_reset(email: str, *, language: str | None) -> None:
    """Queue the answer to "forgot my password" for an address; the worker writes it (see the notice below)."""
    queue_notice("password_reset", normalize_email(email), language=_language(None, language))
    db.session.flush()


@register_notice("password_reset")
def _password_reset_notice(mail: OutboxMail) -> Notice | None:
    """At send time: a reset link for an active account, a note for a deactivated one, else "no account"."""
    user = find_user_by_email(mail.recipient)
    with force_locale(_language(user, mail.language)):
        subject = _("Reset your password")
        if user is not None and user.active and user.password_hash is not None:
            body = _("Hello %(name)s,\n\nto choose a new password for %(site)s, open this link within one hour:"
                     "\n\n%(link)s\n\nIf you did not ask for this, ignore this message; your password stays "
                     "unchanged.", name=user.name, site=_site(),
                     link=external_url("auth.open_reset_link", token=create_password_reset(user)))
            return Notice(subject, body, user.id)
        if user is not None:
            body = _("Hello %(name)s,\n\nsomeone (perhaps you) asked to reset the password of your account at "
                     "%(site)s. The account is deactivated: please ask your affiliate manager to reactivate it.\n\n"
                     "If this was not you, ignore this message.", name=user.name, site=_site())
            return Notice(subject, body, user.id)
        if current_app.config["REGISTRATION"] == "open":
            way_in = _("To create an account, register here: %(link)s", link=external_url("auth.register"))
        else:
            way_in = _("To get an account, ask your affiliate manager for an invitation.")
        body = _("Hello,\n\nsomeone (perhaps you) asked to reset the password for this email address at "
                 "%(site)s, but there is no account with this address. Perhaps you signed up with another "
                 "one?\n\n%(way_in)s\n\nIf this was not you, ignore this message.", site=_site(), way_in=way_in)
        return Notice(subject, body, None)
