"""The base of every form of the app: the input rule (coaching.inputs) as a field error, line breaks as LF.

Every form derives from `Form` (a test walks the forms and checks it). Each of its fields gets the rule as
its first validator, which stops the field's other validators - so a validator that queries never sees a
NUL byte. Fields that may hold several lines (a TextArea widget) accept CR and LF and store CRLF as LF.
"""
from __future__ import annotations

from typing import Any

from babel import support
from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import Field
from wtforms.fields import FileField
from wtforms.fields.core import UnboundField
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation
from wtforms.widgets import TextArea

from .caches import app_cache
from .inputs import FORM_FIELD_PREFIXES, FORM_FIELDS, problems_of_request, reason_text, text_problem

FIELD_MESSAGE = _l("This field contains characters that are not allowed: %(reason)s.")


def is_multiline(field: Field) -> bool:
    """Fields shown as a text area may hold several lines."""
    return isinstance(field.widget, TextArea)


def lf_line_breaks(value: Any) -> Any:
    """Browsers send CRLF; the database keeps LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def field_problem(field: Field) -> str | None:
    """Why a submitted field breaks the input rule (the request guard's finding first), or None."""
    problem = problems_of_request().get(field.name) if has_request_context() else None
    if problem:
        return problem
    multiline = is_multiline(field)
    for raw in field.raw_data or ():
        if isinstance(raw, str) and (problem := text_problem(raw, multiline=multiline)):
            return problem
    return None


class TextRule:
    """Validator: the input rule as a field error that stops the field's other validators."""

    field_flags: dict[str, Any] = {}

    def __call__(self, form: Any, field: Field) -> None:
        problem = field_problem(field)
        if problem:
            field.refused_input = problem
            raise StopValidation(str(FIELD_MESSAGE % {"reason": reason_text(problem)}))


TEXT_RULE = TextRule()


class Form(FlaskForm):
    """A Flask-WTF form whose every text field follows the input rule."""

    class Meta(FlaskForm.Meta):
        """Binds each field with the rule in front of its validators (and LF line breaks in text areas)."""

        def bind_field(self, form: Any, unbound_field: UnboundField, options: dict[str, Any]) -> Field:
            """Add the rule to the field as it is bound to a form instance."""
            field = super().bind_field(form, unbound_field, options)
            if not isinstance(field, FileField):
                field.validators = [TEXT_RULE, *field.validators]
                if is_multiline(field):
                    field.filters = (*field.filters, lf_line_breaks)
            return field

        def get_translations(self, form: Any) -> Any:
            """WTForms' own messages in the reader's language, loaded once per app and language (Flask-WTF
            reads the catalog file again on every request, about 0.4 ms of each form post)."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            language = str(get_locale() or "en")
            return app_cache("wtforms-translations", 16).get_or_compute(
                language, lambda: support.Translations.load(messages_path(), [language], domain="wtforms"))

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """Forms read form bodies only. Flask-WTF would take a JSON body as form data, and a JSON string or
            list there is an exception (a 500): a JSON body makes an empty, invalid submission instead."""
            if formdata is _Auto and has_request_context() and request.is_json and not request.form:
                return ImmutableMultiDict() if request.method in ("POST", "PUT", "PATCH", "DELETE") else None
            return super().wrap_formdata(form, formdata)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Tell the request guard which field names a form will judge (it leaves their problems to us)."""
        super().__init_subclass__(**kwargs)
        FORM_FIELDS.update(name for name in dir(cls) if isinstance(getattr(cls, name, None), UnboundField))
        FORM_FIELD_PREFIXES.update(getattr(cls, "field_prefixes", ()))

    @property
    def refused_fields(self) -> dict[str, str]:
        """Fields the input rule refused in the last validation (name -> problem)."""
        return {name: field.refused_input for name, field in self._fields.items()
                if field.errors and getattr(field, "refused_input", None)}
