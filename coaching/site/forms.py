"""Forms of the site-wide pages."""
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..forms import Form

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]


class LanguageForm(Form):
    """The footer's language switcher."""

    language = SelectField(choices=LANGUAGE_CHOICES, validators=[DataRequired()])
    next = HiddenField(validators=[Length(max=2000)])
