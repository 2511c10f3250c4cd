"""Forms of the learning area. Quiz answers are read from the raw form by the quiz service."""
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length


class CompleteForm(FlaskForm):
    """The "mark as complete" button."""


class QuizForm(FlaskForm):
    """The quiz form's fixed fields: one submission id per rendered form, and the version answered."""

    submission_id = HiddenField(validators=[DataRequired(), Length(min=8, max=64)])
    content_hash = HiddenField(validators=[DataRequired(), Length(max=64)])


class AssignmentForm(FlaskForm):
    """The assignment form's fixed field: the lesson version answered (answer, link and consent are read and
    checked by the coaching service, so that a refused text can be shown again unchanged)."""

    content_hash = HiddenField(validators=[DataRequired(), Length(max=64)])
