"""One form per account action. Messages are translated; passwords are never re-rendered."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import Form
from ..services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem

PASSWORD_MESSAGES = {
    "too_short": _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    "too_long": _l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH),
    "too_common": _l("This password is too common or too easy to guess. Please choose another one."),
}
LANGUAGE_CHOICES = [SelectChoice("", _l("Browser default")), SelectChoice("en", "English"),
                    SelectChoice("de", "Deutsch")]


def _email_field() -> EmailField:
    """The email field shared by every form that asks for one."""
    return EmailField(_l("Email"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                      validators=[DataRequired(), Length(max=254),
                                  Email(message=_l("Enter a valid email address."), check_deliverability=False)])


def _name_field() -> StringField:
    """The full name, as printed on certificates."""
    return StringField(_l("Full name"), description=_l("Printed on your certificates exactly as written here."),
                       validators=[DataRequired(), Length(max=200)], filters=[lambda v: v.strip() if v else v])


def _new_password_field(label: str) -> PasswordField:
    """A new password with the length rule shown up front."""
    return PasswordField(label, description=_l("At least %(n)d characters. Long passphrases are welcome.",
                                               n=MIN_PASSWORD_LENGTH),
                         validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class _NewPasswordMixin:
    """Checks the new password against the policy (length, common passwords, name and email)."""

    def validate_password(self, field: PasswordField) -> None:
        """Refuse short, over-long and common passwords."""
        email = getattr(getattr(self, "email", None), "data", "") or ""
        name = getattr(getattr(self, "name", None), "data", "") or ""
        problem = password_problem(field.data or "", email=email, name=name)
        if problem:
            raise ValidationError(PASSWORD_MESSAGES[problem])


class RegisterForm(_NewPasswordMixin, Form):
    """Create an affiliate account."""

    name = _name_field()
    email = _email_field()
    password = _new_password_field(_l("Password"))
    invite = HiddenField(validators=[Length(max=128)])


class ConfirmForm(Form):
    """Activate an account from the confirmation link: the password chosen when registering."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
                             description=_l("The password you chose when you registered."))


class LoginForm(Form):
    """Sign in."""

    email = _email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField(validators=[Length(max=2000)])


class ForgotPasswordForm(Form):
    """Ask for a reset link."""

    email = _email_field()


class ResetPasswordForm(_NewPasswordMixin, Form):
    """Choose a new password from a reset link."""

    password = _new_password_field(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class ProfileForm(Form):
    """Edit the name printed on certificates and the preferred language."""

    name = _name_field()
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class ChangePasswordForm(_NewPasswordMixin, Form):
    """Change the password (needs the current one)."""

    current_password = PasswordField(_l("Current password"),
                                      validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = _new_password_field(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class LogoutForm(Form):
    """The logout button (POST with CSRF)."""


CERTIFICATE_CHOICES = [
    SelectChoice("keep", _l("Keep them verifiable: the verification page keeps showing the name printed on them.")),
    SelectChoice("withdraw",
                 _l("Withdraw them: the verification page says “withdrawn by the holder”, without a name.")),
]


class DeleteAccountForm(Form):
    """Delete my account: my password once more, and what happens to my certificates."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    certificates = RadioField(_l("Your certificates"), choices=CERTIFICATE_CHOICES, default="keep",
                              validators=[DataRequired()])
