"""The two text normalisers: one frozen for ids, one forgiving for grading.

`id_normalize` feeds the question and option ids (digests of its output). Stored attempts and the
question analysis point at those ids, so it must never change: `tests/content/test_content_ids.py`
pins ids of known texts. `grade_normalize` decides whether a typed answer equals an accepted one and
may grow more forgiving without moving any id.
"""

from __future__ import annotations

import re
import unicodedata

QUOTES = "\"'„“”‚‘’«»‹›"
TRAILING_PUNCTUATION = ".,;:!?"
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_DASH = re.compile(f"[{re.escape(DASHES)}]")
_EDGES = QUOTES + TRAILING_PUNCTUATION


def id_normalize(value: str) -> str:
    """Normalize text for ids: Unicode NFC, case folding, trimmed, inner whitespace collapsed. Frozen."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def grade_normalize(value: str) -> str:
    """Normalize an answer for grading: NFKC, case folding, dashes as spaces, no surrounding quotes,
    no trailing punctuation, whitespace collapsed.

    "„Click-through rate.“" and "click through rate" give the same result.
    """
    text = unicodedata.normalize("NFKC", value).casefold()
    text = unicodedata.normalize("NFKC", text.replace("ı", "i"))  # dotless i: "ı".upper() is "I"
    text = " ".join(_DASH.sub(" ", text).split())
    while True:  # quotes and punctuation may nest: „Advertising.“ or "Advertising".
        stripped = text.lstrip(QUOTES + " ").rstrip(_EDGES + " ")
        if stripped == text:
            return text
        text = stripped
