"""Forms of the learning area. Quiz answers are read from the raw form by the quiz service."""
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class CompleteForm(Form):
    """The "mark as complete" button."""


class QuizForm(Form):
    """The quiz form's fixed fields: one submission id per rendered form, and the quiz version answered."""

    submission_id = HiddenField(validators=[DataRequired(), Length(min=8, max=64)])
    quiz_version = HiddenField(validators=[DataRequired(), Length(max=64)])


class AssignmentForm(Form):
    """The assignment form: the lesson version answered, and the answer (several lines), link and consent, which
    the coaching service reads and checks itself, so that a refused text can be shown again unchanged."""

    content_hash = HiddenField(validators=[DataRequired(), Length(max=64)])
    answer = TextAreaField()
    link = StringField()
    show_on_certificate = BooleanField()
