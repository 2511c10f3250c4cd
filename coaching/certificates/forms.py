"""Forms of the public certificate pages: checking an uploaded certificate."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from ..forms import Form


class VerifyUploadForm(Form):
    """Upload a certificate PDF (or its .jwt file) to check it; the type is judged by content, never by name."""

    file = FileField(_l("Certificate PDF or .jwt file"),
                     description=_l("A certificate PDF from this site, or the signed credential (.jwt) attached to "
                                    "it. At most 5 MB. Nothing you upload is kept."),
                     validators=[FileRequired(_l("Choose the certificate file to check."))])
