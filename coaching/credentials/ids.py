"""Certificate ids: 90 random bits written as Crockford base32, grouped by four."""

from __future__ import annotations

import secrets

# Crockford's alphabet leaves out I, L, O and U so ids survive being read aloud or retyped.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 18  # 18 symbols x 5 bits = 90 random bits (SECURITY.md asks for 80 or more)
GROUP = 4
ID_LENGTH = SYMBOLS + (SYMBOLS - 1) // GROUP  # with dashes: "K7QF-2M9X-4HTA-W8PD-R3" is 22
RANDOM_BITS = SYMBOLS * 5

# Crockford decoding folds look-alike letters onto digits.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", "- ")
_MAX_RAW = 64  # anything longer cannot be an id; stop before doing work on it


def _group(symbols: str) -> str:
    """Insert a dash after every fourth symbol."""
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def new_certificate_id() -> str:
    """Return a fresh random id such as ``K7QF-2M9X-4HTA-W8PD-R3``."""
    return _group("".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS)))


def normalize_certificate_id(raw: str) -> str | None:
    """Return the canonical form of a typed or scanned id, or None if it cannot be one."""
    if not isinstance(raw, str) or len(raw) > _MAX_RAW:
        return None
    # Check ASCII before upper(): "ı".upper() == "I" and "ﬀ".upper() == "FF" would sneak in.
    if not raw.isascii():
        return None
    symbols = raw.strip().upper().translate(_SEPARATORS).translate(_LOOKALIKES)
    if len(symbols) != SYMBOLS or any(ch not in ALPHABET for ch in symbols):
        return None
    return _group(symbols)
