"""Forms of the manager area: one per action. Every action is a POST carrying the CSRF token."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import Form


class ActionForm(Form):
    """A button without fields (deactivate, reactivate, reset link, withdraw, reload)."""


class LessonActionForm(Form):
    """Names one lesson of one course (grant an attempt)."""

    course = HiddenField(validators=[DataRequired(), Length(max=100)])
    lesson = HiddenField(validators=[DataRequired(), Length(max=100)])


class ResetLessonForm(LessonActionForm):
    """Reset a lesson's progress: the checkbox is the confirmation step."""

    confirm = BooleanField(_l("Yes, reset this lesson"), validators=[DataRequired()])


class RoleForm(Form):
    """Change a person's role."""

    role = SelectField(_l("Role"), choices=[SelectChoice("affiliate", _l("Affiliate")),
                                              SelectChoice("manager", _l("Manager"))])


class RevokeForm(Form):
    """Revoke a certificate with a reason (shown on the public verification page)."""

    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)],
                         description=_l("Shown on the public verification page."))


class InviteForm(Form):
    """Create an invite, optionally for one email address."""

    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=254),
                                                          Email(message=_l("Enter a valid email address."))],
                       description=_l("When set, only this address can register with the link."))


class DeleteUserForm(Form):
    """Delete a person's account: a confirmation box and the choice for their certificates."""

    confirm = BooleanField(_l("Yes, delete this account and its personal data"), validators=[DataRequired()])
    certificates = RadioField(_l("Certificates"), default="keep", validators=[DataRequired()], choices=[
        SelectChoice("keep", _l("Keep them verifiable (the page keeps showing the printed name)")),
        SelectChoice("withdraw", _l("Withdraw them (the page says “withdrawn by the holder”, no name)"))])


class CoachForm(Form):
    """Set or remove an affiliate's coach (an empty value removes it)."""

    coach = StringField(validators=[Optional(), Length(max=10)])


class BulkCoachForm(Form):
    """Set or remove the coach of the affiliates ticked in the list."""

    coach = StringField(validators=[Optional(), Length(max=10)])


class NotifyForm(Form):
    """A manager's review mail choice."""

    notify = RadioField(_l("Mail me about new submissions"), default="each", validators=[DataRequired()], choices=[
        SelectChoice("each", _l("For each submission")), SelectChoice("daily", _l("Once a day, as a digest")),
        SelectChoice("off", _l("Not at all"))])


class ReviewForm(Form):
    """The review form's fixed fields: the version reviewed and the decision (the criteria marks and comments
    are read against that version's snapshot by the coaching service). The comments may hold several lines:
    the overall one and each `comment-<criterion id>` are declared here, so the input rule leaves their line
    breaks alone (control characters stay refused, by the coaching service)."""

    field_prefixes = ("comment-", "criterion-")
    version = HiddenField(validators=[DataRequired(), Length(max=6)])
    overall_comment = TextAreaField()
