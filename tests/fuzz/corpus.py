"""The fuzz corpus: each value as it goes on the wire (percent-encoded exactly as sent), with a label.

Refused text (NUL, other C0 controls, line breaks where one line is expected, invalid UTF-8 in every form:
bad bytes, truncated and overlong sequences, UTF-8-encoded surrogates) next to text that must pass (tab,
10,000 characters, emoji, RTL and zero-width marks, SQL, markup, formulas, digits of other scripts, huge
and negative ids) and malformed escapes that are just text (`%zz`, a lone `%`).
"""
from __future__ import annotations

from urllib.parse import quote


def _q(text: str) -> str:
    """Percent-encode every reserved character of a text (UTF-8)."""
    return quote(text, safe="")


CORPUS: list[tuple[str, str]] = [
    ("NUL", "%00"),
    ("NUL inside", "ab%00cd"),
    ("SOH", "%01"),
    ("ESC sequence", "%1B%5B31m"),
    ("vertical tab", "a%0Bb"),
    ("form feed", "a%0Cb"),
    ("CR", "a%0Db"),
    ("LF", "a%0Ab"),
    ("CRLF header", "a%0D%0ASet-Cookie:%20x=1"),
    ("DEL", "a%7Fb"),
    ("C1 NEL", _q("a\u0085b")),
    ("tab", "a%09b"),
    ("10k characters", "x" * 10_000),
    ("10k bytes of emoji", _q("🦊" * 2_500)),
    ("emoji", _q("🦊👩‍💻✨")),
    ("RTL override", _q("\u202eevil\u202c")),
    ("RTL mark", _q("\u200fשלום")),
    ("zero-width", _q("a\u200bb\ufeff")),
    ("SQL comment", _q("'; --")),
    ("SQL tautology", _q("' OR '1'='1")),
    ("literal %00", _q("%00")),
    ("invalid escape %zz", "%zz"),
    ("lone percent", "%"),
    ("truncated UTF-8", "%E2%82"),
    ("byte FF", "%FF"),
    ("overlong slash", "%C0%AF"),
    ("UTF-8 surrogate", "%ED%A0%80"),
    ("huge id", "99999999999999999999999"),
    ("negative", "-1"),
    ("float", "1.0"),
    ("Arabic-Indic digits", _q("١٢٣")),
    ("full-width digits", _q("１２３")),
    ("empty", ""),
    ("only spaces", "+++"),
    ("markup", _q("<script>alert(1)</script>\"'")),
    ("path traversal", _q("../../etc/passwd")),
    ("JSON-ish", _q('{"$gt": ""}')),
    ("formula", _q('=HYPERLINK("http://evil.example")')),
]

# Raw request bodies for the JSON pass: refused text behind JSON escapes (lone surrogates cannot be sent
# any other way), arrays where a scalar is expected, broken and absurd documents.
JSON_BODIES: list[tuple[str, bytes]] = [
    ("NUL escape", b'{"name": "a\\u0000b", "email": "x@example.com"}'),
    ("lone surrogate", b'{"name": "\\ud800"}'),
    ("surrogate key", b'{"\\udfff": 1}'),
    ("nested control", b'{"a": [1, {"b": "\\u001b[31m"}]}'),
    ("array for scalar", b'{"email": ["a@example.com", "b@example.com"], "password": ["x", "y"]}'),
    ("huge number", b'{"page": 99999999999999999999999999999}'),
    ("invalid UTF-8", b'{"name": "\xff\xfe"}'),
    ("not JSON", b"{not json"),
    ("deep nesting", b"[" * 3000 + b"]" * 3000),
    ("plain string", b'"just a string"'),
]
