"""Forms of the manager area: one per action. Every action is a POST carrying the CSRF token."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

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


# --- browser authoring ------------------------------------------------------------------------------------------

class EditForm(Form):
    """Save a content file: its text, the revision it was opened at, a note, and publish or keep as a draft."""

    text = TextAreaField(_l("Text (Markdown)"))
    base = HiddenField(validators=[Regexp(r"^\d{1,12}$")])
    base_sha = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{64}$")])
    message = StringField(_l("What did you change? (optional)"), validators=[Optional(), Length(max=300)],
                          description=_l("Shown in the history, e.g. “fixed the answer of question 3”."))
    action = HiddenField(validators=[Optional(), AnyOf(["publish", "draft"])])


class CheckForm(Form):
    """Check unsaved text (the editor's live messages and preview)."""

    text = TextAreaField()


class RestoreForm(Form):
    """Restore an older revision; `base` is the newest revision the history page showed."""

    revision = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,12}$")])
    base = HiddenField(validators=[Regexp(r"^\d{1,12}$")])


class RenameForm(Form):
    """Give a lesson a new slug (its address)."""

    slug = StringField(_l("New address name"), validators=[DataRequired(), Length(max=60)],
                       description=_l("Lowercase letters, digits and hyphens, e.g. “better-headlines”."))


class DeleteLessonForm(Form):
    """Delete a lesson or one translation: the box is the confirmation."""

    confirm = BooleanField(_l("Yes, delete it"), validators=[DataRequired()])


class NewLessonForm(Form):
    """A new lesson: its title, address name, summary and reading time."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address name (optional)"), validators=[Optional(), Length(max=60)],
                       description=_l("Lowercase letters, digits and hyphens; made from the title when empty."))
    summary = StringField(_l("Summary (one sentence)"), validators=[Optional(), Length(max=300)])
    minutes = IntegerField(_l("Reading time in minutes"), default=5,
                           validators=[InputRequired(), NumberRange(min=1, max=600)])


class NewCourseForm(Form):
    """A new course: title, address name, summary and the language it is written in."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address name (optional)"), validators=[Optional(), Length(max=60)],
                       description=_l("Lowercase letters, digits and hyphens; made from the title when empty."))
    summary = StringField(_l("Summary (one or two sentences)"), validators=[Optional(), Length(max=300)])
    language = SelectField(_l("Language of the course"), choices=[SelectChoice("en", _l("English")),
                                                                   SelectChoice("de", _l("German"))])


class ImageForm(Form):
    """Upload a picture into a course's images/ folder; the description (alt text) is required."""

    image = FileField(_l("Picture (PNG, JPEG, WebP, GIF or SVG, at most 2 MB)"), validators=[DataRequired()])
    alt = StringField(_l("Description for people who cannot see the picture"),
                      validators=[DataRequired(), Length(max=300)],
                      description=_l("Say what the picture shows, e.g. “Bar chart: clicks rise from 200 to 340”."))
