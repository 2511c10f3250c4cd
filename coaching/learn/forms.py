"""Forms of the learning area. Quiz answers are read from the raw form by the quiz service."""
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class CompleteForm(Form):
    """The "mark as complete" button."""


class QuizForm(Form):
    """The quiz form's fixed fields: one submission id per rendered form, and the quiz version answered."""

    submission_id = HiddenField(validators=[DataRequired(), Length(min=8, max=64)])
    quiz_version = HiddenField(validators=[DataRequired(), Length(max=64)])
