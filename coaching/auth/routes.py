"""Views of the account area. Thin: parse the form, call the accounts service, render or redirect."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import public, safe_next_url, signed_in
from ..extensions import db, limiter
from ..i18n import current_language
from ..logs import log_event
from ..routing import attachment
from ..services import accounts, privacy, signup
from ..services.throttle import account_mail_blocked, login_blocked, record_account_mail, record_login_failure
from . import bp
from .forms import (
    PASSWORD_MESSAGES,
    ChangePasswordForm,
    ConfirmForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@public
def register() -> Any:
    """Register (open, or with an invite when REGISTRATION=invite): the same answer whether or not the email
    already has an account - a mail tells the owner of the address what happens next."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.dashboard"))
    form = RegisterForm()
    invite_token = request.args.get("invite") or form.invite.data
    invite = accounts.find_valid_invite(invite_token) if invite_token else None
    invite_only = current_app.config["REGISTRATION"] == "invite"
    if invite_only and invite is None:
        return render_template("auth/register_closed.html", had_token=bool(invite_token)), 403 if invite_token else 200
    if request.method == "GET":
        form.invite.data = invite_token or ""
        if invite and invite.email:
            form.email.data = invite.email
    if form.validate_on_submit():
        address = accounts.normalize_email(form.email.data)
        if account_mail_blocked(_ip(), address):
            abort(429)
        try:
            user = signup.register(email=address, name=form.name.data, password=form.password.data,
                                   language=session.get("lang"), invite=invite, mail_language=current_language())
        except accounts.AccountError as error:
            db.session.rollback()
            _form_error(form, str(error))
        else:
            record_account_mail(_ip(), address)
            db.session.commit()
            if user is not None:  # an invite bound to this address proved it: the account is ready
                log_event("register", user_id=user.id, invite=True)
                _start_session(user, remember=False)
                flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
                return redirect(url_for("learn.catalog"))
            log_event("registration_mailed")
            session["registration_email"] = address
            return redirect(url_for("auth.check_mail"), 303)
    form.password.data = None
    return render_template("auth/register.html", form=form, confirm_by_mail=not (invite and invite.email)), \
        400 if form.errors else 200


def _ip() -> str:
    """The client address (after ProxyFix, which is only installed behind a configured proxy)."""
    return request.remote_addr or "unknown"


def _form_error(form: RegisterForm, code: str) -> None:
    """Turn a service rule violation into a field error."""
    if code == "invite_email":
        form.email.errors.append(_("This invitation is for another email address."))
    elif code in PASSWORD_MESSAGES:
        form.password.errors.append(str(PASSWORD_MESSAGES[code]))
    else:
        form.form_errors.append(_("This invitation is no longer valid."))


@bp.get("/register/check-mail")
@public
def check_mail() -> Any:
    """After registering: look in the mailbox (the same page whether or not the address had an account)."""
    return render_template("auth/check_mail.html", email=session.get("registration_email"))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@public
def confirm(token: str) -> Any:
    """Activate a registration from its mailed link with the password chosen for it, and sign in."""
    registration = signup.find_registration(token)
    if registration is None:
        return render_template("auth/confirm_invalid.html"), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            user = signup.confirm_registration(token, form.password.data)
        except accounts.AccountError as error:
            db.session.rollback()
            code = str(error)
            if code == "registration_password":
                form.password.errors.append(_("This is not the password chosen with this link. If you registered "
                                              "more than once, use the link of the newest mail."))
            elif code == "email_taken":
                flash(_("An account with this email address already exists. Please sign in."), "info")
                return redirect(url_for("auth.login"), 303)
            else:
                return render_template("auth/confirm_invalid.html"), 404
        else:
            db.session.commit()
            session.pop("registration_email", None)
            log_event("register", user_id=user.id, invite=False)
            _start_session(user, remember=False)
            flash(_("Welcome, %(name)s! Your email address is confirmed and your account is ready.", name=user.name),
                  "success")
            return redirect(url_for("learn.catalog"), 303)
    form.password.data = None
    return render_template("auth/confirm.html", form=form, email=registration.email), 400 if form.errors else 200


def _start_session(user: Any, *, remember: bool) -> None:
    """Log a person in with a fresh session (nothing carried over from before login)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["POST"])
@public
def login() -> Any:
    """Sign in; the same answer for an unknown email and a wrong password; failures throttled."""
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("learn.dashboard"))
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        ip = _ip()
        email = accounts.normalize_email(form.email.data)
        if login_blocked(ip, email):
            log_event("login_throttled", account_known=None)
            abort(429)
        user = accounts.find_user_by_email(email)
        if accounts.check_password(user, form.password.data) and user is not None and user.active:
            db.session.commit()  # keeps a rehashed password
            _start_session(user, remember=form.remember.data)
            log_event("login", user_id=user.id)
            return redirect(safe_next_url(form.next.data) or url_for("learn.dashboard"))
        record_login_failure(ip, email)
        log_event("login_failed", user_id=user.id if user else None)
        form.form_errors.append(_("Email or password is not correct."))
    form.password.data = None
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@signed_in
def logout() -> Any:
    """Sign out and end every session of this person (copied cookies stop working)."""
    if not LogoutForm().validate_on_submit():
        abort(400)
    current_user.end_all_sessions()
    db.session.commit()
    log_event("logout")
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("learn.catalog"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@public
def forgot_password() -> Any:
    """Ask for a reset link: the same answer and the same work whether or not the email has an account
    (a mail goes to the address either way, through the outbox)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        address = accounts.normalize_email(form.email.data)
        if account_mail_blocked(_ip(), address):
            abort(429)
        signup.request_password_reset(address, language=current_language())
        record_account_mail(_ip(), address)
        db.session.commit()
        log_event("password_reset_requested")
        flash(_("We have sent a message to this address. If it belongs to an account, it holds a link to choose "
                "a new password, valid for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


RESET_TOKEN_KEY = "reset_token"


@bp.get("/reset/<token>")
@public
def open_reset_link(token: str) -> Any:
    """The link from the mail: keep its token in the session and move to /auth/reset, so the token leaves the URL.

    After this redirect the address bar, the browser history, Referer headers and the access logs of later
    requests show /auth/reset only.
    """
    if accounts.find_valid_reset(token) is None:
        return render_template("auth/reset_invalid.html"), 404
    session[RESET_TOKEN_KEY] = token
    return redirect(url_for("auth.reset_password"), 303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@public
def reset_password() -> Any:
    """Choose a new password for the link opened in this browser; using it ends the person's other sessions."""
    token = session.get(RESET_TOKEN_KEY)
    if not isinstance(token, str) or accounts.find_valid_reset(token) is None:
        session.pop(RESET_TOKEN_KEY, None)
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.use_password_reset(token, form.password.data)
        except accounts.AccountError as error:
            db.session.rollback()
            if str(error) in PASSWORD_MESSAGES:
                form.password.errors.append(str(PASSWORD_MESSAGES[str(error)]))
            else:
                session.pop(RESET_TOKEN_KEY, None)
                return render_template("auth/reset_invalid.html"), 404
        else:
            db.session.commit()
            log_event("password_reset_used", user_id=user.id)
            logout_user()
            session.clear()
            flash(_("Your password has been changed. Please sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    form.password.data = form.confirm.data = None
    return render_template("auth/reset.html", form=form), 400 if form.errors else 200


@bp.get("/profile")
@signed_in
def profile() -> Any:
    """My account: name on certificates, language, password, my data."""
    form = ProfileForm(obj=current_user)
    form.language.data = current_user.language or ""
    return render_template("auth/profile.html", form=form, password_form=ChangePasswordForm())


@bp.post("/profile")
@signed_in
def update_profile() -> Any:
    """Save the full name and the preferred language."""
    form = ProfileForm()
    if form.validate_on_submit():
        accounts.update_profile(current_user, name=form.name.data, language=form.language.data)
        if form.language.data:
            session["lang"] = form.language.data
        db.session.commit()
        log_event("profile_updated")
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, password_form=ChangePasswordForm()), 400


@bp.post("/password")
@signed_in
def change_password() -> Any:
    """Change the password; every other session ends, this one continues with a fresh cookie."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not accounts.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(_("The current password is not correct."))
        else:
            accounts.set_password(current_user, form.password.data)
            db.session.commit()
            log_event("password_changed")
            _start_session(current_user._get_current_object(), remember=False)
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("auth.profile"))
    profile_form = ProfileForm(obj=current_user)
    profile_form.language.data = current_user.language or ""
    form.current_password.data = form.password.data = form.confirm.data = None
    return render_template("auth/profile.html", form=profile_form, password_form=form), 400


# --- my data: export and account deletion (GDPR art. 15, 17, 20) ------------------------------------------------

@bp.get("/export.json")
@signed_in
def export_data() -> Any:
    """Download everything kept about me as one JSON file."""
    user = current_user._get_current_object()
    response = current_app.response_class(privacy.export_json(user), mimetype="application/json")
    response.headers["Content-Disposition"] = attachment(privacy.export_filename(user))
    response.headers["Cache-Control"] = "no-store"
    log_event("personal_data_exported", subject_id=user.id)
    return response


@bp.get("/delete")
@signed_in
def delete_account() -> Any:
    """Explain what deleting the account does, and ask for the password and the certificate choice."""
    return render_template("auth/delete_account.html", form=DeleteAccountForm())


@bp.post("/delete")
@limiter.limit("10 per hour")
@signed_in
def delete_account_confirm() -> Any:
    """Delete my account after checking my password; the session ends with a clear message."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        user_id = user.id
        if not accounts.check_password(user, form.password.data):
            form.password.errors.append(_("The password is not correct. Nothing has been deleted."))
        else:
            try:
                privacy.delete_account(user, actor=None, withdraw_certificates=form.certificates.data == "withdraw",
                                       via="self")
            except privacy.PrivacyError:
                db.session.rollback()
                form.form_errors.append(_("You are the last manager. Make someone else a manager first."))
            else:
                db.session.commit()
                logout_user()
                session.clear()
                log_event("account_deleted", subject_id=user_id)
                flash(_("Your account and your personal data have been deleted. You are signed out."), "success")
                return redirect(url_for("learn.catalog"), 303)
    elif form.csrf_token.errors:
        abort(400)
    form.password.data = None
    return render_template("auth/delete_account.html", form=form), 400
