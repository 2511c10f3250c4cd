"""Forms of the site-wide pages."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]


class LanguageForm(FlaskForm):
    """The footer's language switcher."""

    language = SelectField(choices=LANGUAGE_CHOICES, validators=[DataRequired()])
    next = HiddenField(validators=[Length(max=2000)])
