"""The manager area: overview, progress, affiliates, question analysis, exports, content, invites."""
from typing import Any

from flask import Blueprint
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**63 - 1


class IdConverter(BaseConverter):
    """A database id: ASCII digits only, within the 64-bit range (others are a 404, never a 500).

    Werkzeug's `int` converter accepts Arabic-Indic and full-width digits and unbounded numbers.
    """

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        """The id as an int; too large is no match."""
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        """The id as digits."""
        return str(int(value))


bp = Blueprint("manage", __name__)


@bp.record_once
def _register_converter(state: Any) -> None:
    """Make `<dbid:...>` available before the manager routes are added."""
    state.app.url_map.converters.setdefault("dbid", IdConverter)


from . import routes  # noqa: E402,F401  (registers the views on bp)
from . import privacy  # noqa: E402,F401  (personal data: export and deletion)
