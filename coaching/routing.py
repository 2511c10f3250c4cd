"""URL converters shared by every blueprint."""
from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # the range of an INTEGER column on PostgreSQL


class IdConverter(BaseConverter):
    """A database id: ASCII digits only, within the column's range; anything else is a 404, never a 500.

    Werkzeug's own `int` converter matches any Unicode digit (Arabic-Indic, full-width) and unbounded numbers.
    """

    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        """The id as an int; out of range is no match."""
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        """The id as digits."""
        return str(int(value))
