"""Numbers in quiz answers: read a typed number in the reader's language and compare it with a key.

Pure and total: every function returns None (or a message) for text that is not a number and never
raises. Numbers are `decimal.Decimal` (no float rounding); exponents, NaN and infinities are not
numbers here, inputs are capped at `MAX_LENGTH` characters and `MAX_DIGITS` digits.

Separators: in English "." is the decimal point and "," groups thousands; in German the other way
round. A separator that can only be one of the two is read as that one in either language ("1.000,50",
"1,000.50", "1.000.000"); a single separator is ambiguous and read by the language: the language's
thousands separator followed by exactly three digits (after 1-3 digits not starting with 0) groups
thousands ("1,500" is 1500 in English), anything else is a decimal separator ("1,5" is 1.5 in English,
"1,500" is 1.5 in German). Spaces (also no-break and thin spaces) may group thousands ("1 000").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

MAX_LENGTH = 100
MAX_DIGITS = 30

# Written unit (case-folded, spaces collapsed) -> (unit, factor to that unit).
UNITS: dict[str, tuple[str, Decimal]] = {}
for _names, _unit, _factor in (
    (("€", "eur", "euro", "euros"), "EUR", "1"),
    (("ct", "ct.", "cent", "cents", "eurocent", "eurocents", "euro cent", "euro cents"), "EUR", "0.01"),
    (("$", "us$", "usd", "dollar", "dollars"), "USD", "1"),
    (("£", "gbp"), "GBP", "1"),
    (("chf",), "CHF", "1"),
    (("%", "percent", "per cent", "prozent"), "%", "1"),
):
    for _name in _names:
        UNITS[_name] = (_unit, Decimal(_factor))
UNIT_WORDS = tuple(UNITS)
_SIGNS = {"-": -1, "\u2212": -1, "+": 1}
_TOLERANCE = re.compile(r"\s*(?:±|\+/-|\+-)\s*")
_LEADING_GROUP = re.compile(r"[1-9][0-9]{0,2}")
_QUOTES = "\"'„“”‚‘’«»‹›"
_UNIT_CHARS = re.compile(r"[€$£%]")


@dataclass(frozen=True, slots=True)
class Number:
    """A typed number: its value as written, its unit (None: none given) and the unit's factor."""

    value: Decimal
    unit: str | None = None
    factor: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class NumberKey:
    """An accepted numeric answer: value and tolerance in `unit`, and the written unit's factor.

    `factor` is how the key was written (0.01 for `25 ct`): a number typed without a unit is read in
    that written unit, so "25" answers `25 ct` and "0.25" answers `0.25 EUR`.
    """

    text: str
    value: Decimal
    tolerance: Decimal = Decimal(0)
    unit: str | None = None
    factor: Decimal = Decimal(1)

    def accepts(self, number: Number) -> bool:
        """Return True when the number, in a compatible unit, is within the tolerance of the key."""
        if number.unit is not None and number.unit != self.unit:
            return False  # a different unit (or a unit where the key has none) is wrong
        with localcontext(prec=80):
            amount = number.value * (self.factor if number.unit is None else number.factor)
            return abs(amount - self.value) <= self.tolerance

    @property
    def canonical(self) -> str:
        """Return the key's meaning as text (same for `0,25 €` in German and `EUR 0.25` in English)."""
        return f"{self.unit or ''}:{_plain(self.value)}±{_plain(self.tolerance)}/{_plain(self.factor)}"


def _plain(value: Decimal) -> str:
    """Format a Decimal without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


@dataclass(frozen=True, slots=True)
class _Parts:
    """A text split into sign, number span and unit, before the span is read."""

    sign: int
    span: str
    unit: str  # as written, "" when none


def _split(text: object) -> _Parts | None:
    """Split text into sign, number span and unit text; None when there is no single number."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    s = " ".join(unicodedata.normalize("NFKC", text).split()).strip(_QUOTES + " ")
    first = next((i for i, c in enumerate(s) if c.isdigit() and c.isascii()
                  or (c in ".," and i + 1 < len(s) and s[i + 1].isdigit())), None)
    if first is None:
        return None
    last = max(i for i, c in enumerate(s) if c.isdigit())
    span = s[first:last + 1]
    if any(c not in "0123456789., " for c in span):
        return None  # letters, signs or a second number inside
    prefix, suffix = s[:first].strip(), s[last + 1:].strip().rstrip(".,;:!? ")
    sign = 1
    if prefix[:1] in _SIGNS:
        sign, prefix = _SIGNS[prefix[0]], prefix[1:].strip()
    elif prefix[-1:] in _SIGNS:  # "€-5", "EUR -5"
        sign, prefix = _SIGNS[prefix[-1]], prefix[:-1].strip()
    if prefix and suffix:
        return None  # "EUR 5 €", or text on both sides
    return _Parts(sign, span, prefix or suffix)


def _unit(written: str) -> tuple[str | None, Decimal] | None:
    """Return (unit, factor) for a written unit, (None, 1) for none, None when unknown."""
    if not written:
        return None, Decimal(1)
    return UNITS.get(_unit_name(written))


def _unit_name(written: str) -> str:
    """Fold a written unit for lookup: case, spaces and hyphens ("Euro-Cent" is "euro cent")."""
    return " ".join(written.casefold().replace("-", " ").split())


def _digits(span: str, lang: str) -> tuple[str, str] | None:
    """Read a number span into (integer digits, fraction digits) by the rules of the module docstring."""
    span = re.sub(r" ?([.,]) ?", r"\1", span)
    seps = [c for c in span if c in ".,"]
    if not seps:
        whole, fraction = span, None
    elif " " in span or len(set(seps)) == 2:
        decimal = seps[-1]  # with spaces or both marks, the last mark is the decimal one
        if span.count(decimal) != 1:
            return None
        whole, fraction = span.split(decimal)
        other = "," if decimal == "." else "."
        whole = whole.replace(other, " ")
    elif len(seps) > 1:
        whole, fraction = span.replace(seps[0], " "), None
    else:
        before, after = span.split(seps[0])
        thousands = "." if lang == "de" else ","
        if seps[0] == thousands and len(after) == 3 and _LEADING_GROUP.fullmatch(before):
            whole, fraction = before + after, None
        else:
            whole, fraction = before, after
    if fraction is not None and not fraction.isdigit():
        return None  # "5." or "1,5 000"
    groups = whole.split(" ")
    if len(groups) > 1 and not (_LEADING_GROUP.fullmatch(groups[0])
                                and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
        return None  # "12 5" is two numbers, "1.2.3" no number
    whole = "".join(groups)
    if not whole.isdigit() and not (whole == "" and fraction):
        return None
    if len(whole) + len(fraction or "") > MAX_DIGITS:
        return None
    return whole or "0", fraction or ""


def parse_number(text: object, lang: str) -> Number | None:
    """Read a typed answer as one number with an optional unit in `lang`; None when it is not one."""
    parts = _split(text)
    if parts is None:
        return None
    unit = _unit(parts.unit)
    digits = _digits(parts.span, lang)
    if unit is None or digits is None:
        return None
    whole, fraction = digits
    try:
        value = Decimal(f"{whole}.{fraction}" if fraction else whole) * parts.sign
    except (InvalidOperation, ValueError):
        return None
    return Number(value, *unit)


def read_key(text: str, lang: str) -> tuple[NumberKey | None, str | None]:
    """Read an accepted answer: (key, None) for a number, (None, message) for a broken one that looks
    numeric, (None, None) for text ("Web 2.0", "30 Tage", "Top 10")."""
    halves = _TOLERANCE.split(text)
    if len(halves) > 2:
        return None, "more than one '±' in a numeric answer"
    number, tolerance = (parse_number(h, lang) for h in (halves + [""])[:2])
    if len(halves) == 2:
        if number is None:
            return (None, None) if _split(halves[0]) is None else (None, _broken(halves[0], lang))
        if tolerance is None or tolerance.value < 0:
            return None, (f"cannot read the tolerance '{halves[1][:40]}': write it as a number, "
                          "e.g. '0.15 ± 0.005 EUR'")
        if number.unit and tolerance.unit and (number.unit, number.factor) != (tolerance.unit, tolerance.factor):
            return None, "the tolerance is in another unit than the number"
        written = number if number.unit else tolerance
        return _key(text, number.value, tolerance.value, written), None
    if number is None:
        return None, _broken(text, lang)
    parts = _split(text)
    if parts is not None and re.match(r"0[0-9]", parts.span.replace(" ", "")):
        return None, None  # "007", "0800": codes, not numbers
    return _key(text, number.value, Decimal(0), number), None


def _key(text: str, value: Decimal, tolerance: Decimal, written: Number) -> NumberKey:
    """Build a key from values in the written unit."""
    with localcontext(prec=80):
        return NumberKey(text, value * written.factor, tolerance * written.factor, written.unit,
                         written.factor)


def _broken(text: str, lang: str) -> str | None:
    """Return a message when text is a number with a unit-like word that is not a known unit."""
    parts = _split(text)
    if parts is None or not parts.unit:
        return None
    written = _unit_name(parts.unit)
    if written in UNITS:
        return f"cannot read the number '{parts.span[:40]}'"
    plain = re.sub(r"[^a-zäöü ]", "", written).strip()
    if _UNIT_CHARS.search(written) or (plain and difflib.get_close_matches(plain, UNIT_WORDS, n=1,
                                                                           cutoff=0.75)):
        return (f"unknown unit '{parts.unit[:20]}': use one of €, EUR, Euro, ct, Cent, $, USD, £, GBP, CHF, "
                "%, percent, Prozent (or write the answer as text without a number)")
    return None


def agree(a: NumberKey, b: NumberKey) -> bool:
    """Return True when two keys of one question mean the same: same unit (or one without), and equal
    values, overlapping tolerances, or one the other rounded (0.216 and 0.22)."""
    if a.unit and b.unit and a.unit != b.unit:
        return False
    values = [(a.value, b.value)]
    if a.unit is None or b.unit is None:  # "25" next to "25 ct": compare as written too
        values.append((a.value / a.factor, b.value / b.factor))
    with localcontext(prec=80):
        return any(abs(x - y) <= a.tolerance + b.tolerance or _rounds_to(x, y) or _rounds_to(y, x)
                   for x, y in values)


def _rounds_to(exact: Decimal, rounded: Decimal) -> bool:
    """Return True when `rounded` is `exact` rounded to its own number of decimals."""
    places = Decimal(1).scaleb(rounded.as_tuple().exponent)
    if rounded.as_tuple().exponent >= exact.as_tuple().exponent and exact != rounded:
        try:
            return any(exact.quantize(places, rounding=r) == rounded for r in (ROUND_HALF_UP, ROUND_HALF_EVEN))
        except InvalidOperation:
            return False
    return False
