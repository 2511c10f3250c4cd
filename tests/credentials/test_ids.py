"""Certificate ids: random, fixed format, and forgiving but strict normalization."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching.credentials import ids
from coaching.credentials.ids import new_certificate_id, normalize_certificate_id

ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z]{2}$")


def test_new_ids_have_the_fixed_grouped_format():
    """Every id is 22 characters: four groups of four and one of two, Crockford symbols only."""
    for _ in range(500):
        cid = new_certificate_id()
        assert len(cid) == ids.ID_LENGTH == 22
        assert ID_RE.match(cid), cid
        assert not set(cid) & set("ILOU")


def test_ids_carry_at_least_80_random_bits():
    """18 symbols of 5 bits each give 90 bits."""
    assert ids.RANDOM_BITS >= 80
    assert len(ids.ALPHABET) == 32 and len(set(ids.ALPHABET)) == 32


def test_ids_are_unique_and_roughly_uniform():
    """2000 ids never collide and every symbol appears about equally often."""
    batch = [new_certificate_id() for _ in range(2000)]
    assert len(set(batch)) == len(batch)
    counts = Counter(ch for cid in batch for ch in cid.replace("-", ""))
    expected = 2000 * ids.SYMBOLS / 32
    assert set(counts) == set(ids.ALPHABET)
    assert all(abs(n - expected) < expected * 0.2 for n in counts.values()), counts


def test_ids_come_from_the_secrets_module(monkeypatch):
    """The randomness is secrets.choice, not the predictable random module."""
    monkeypatch.setattr(ids.secrets, "choice", lambda alphabet: "Z")
    assert new_certificate_id() == "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZ"


CANONICAL = "K70F-2M1X-4HTA-W8PD-R3"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (CANONICAL, CANONICAL),
        ("k70f-2m1x-4hta-w8pd-r3", CANONICAL),
        ("K70F2M1X4HTAW8PDR3", CANONICAL),
        ("k70f 2m1x 4hta w8pd r3", CANONICAL),
        ("  K70F-2M1X-4HTA-W8PD-R3 \n", CANONICAL),
        ("K7OF-2MIX-4HTA-W8PD-R3", CANONICAL),  # O -> 0, I -> 1
        ("k7of-2mlx-4hta-w8pd-r3", CANONICAL),  # o -> 0, l -> 1
        ("K70-F2M1X4H-TAW8PDR3", CANONICAL),  # dashes anywhere are ignored
        ("K70F-2M1X-4HTA-W8PD-R", None),  # 17 symbols
        ("K70F-2M1X-4HTA-W8PD-R33", None),  # 19 symbols
        ("K70F-2M1X-4HTA-W8PD-RU", None),  # U is not in the alphabet
        ("K70F-2M1X-4HTA-W8PD-R_", None),
        ("K70F-2M1X-4HTA-W8PD-R\u0663", None),  # Arabic-Indic three
        ("K70F-2M1X-4HTA-W8PD-R\uff13", None),  # full-width three
        ("\uff2b70F-2M1X-4HTA-W8PD-R3", None),  # full-width K
        ("K70F-2M\u0131X-4HTA-W8PD-R3", None),  # dotless i: upper() would make it "I"
        ("K70F-2M1X-4HTA-W8PD-\ufb00", None),  # ligature ff: upper() would make it "FF"
        ("K70F-2M1X-4HTA-W8PD-R\U0001f600", None),  # emoji
        ("K70F\n2M1X-4HTA-W8PD-R3", None),  # inner newline
        ("K70F-2M1X-4HTA-W8PD-R3" * 1000, None),  # very long
        ("", None),
        ("   ", None),
        ("../../etc/passwd", None),
        ("-1", None),
        ("99999999999999999999999", None),
    ],
)
def test_normalization_table(raw, expected):
    """Typed, scanned and hostile inputs map to the canonical id or to None."""
    assert normalize_certificate_id(raw) == expected


@pytest.mark.parametrize("raw", [None, 42, b"K70F2M1X4HTAW8PDR3", ["K70F"]])
def test_normalization_of_non_strings_is_none(raw):
    """Non-string input gives None instead of raising."""
    assert normalize_certificate_id(raw) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_normalization_never_raises(raw):
    """Any text gives None or a well-formed id."""
    result = normalize_certificate_id(raw)
    assert result is None or ID_RE.match(result)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_new_ids_survive_retyping(data):
    """An id retyped in lower case, without dashes or with spaces normalizes back to itself."""
    cid = new_certificate_id()
    variant = data.draw(st.sampled_from([
        cid.lower(), cid.replace("-", ""), cid.replace("-", " "), f" {cid} ",
        cid.replace("0", "O").replace("1", "I"),
    ]))
    assert normalize_certificate_id(variant) == cid
