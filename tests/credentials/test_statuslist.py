"""W3C Bitstring Status List: encoding, decoding, entries and the signed list credential."""

from __future__ import annotations

import base64
import gzip
import random
import time
from datetime import UTC, datetime

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from coaching.credentials.signing import sign_credential
from coaching.credentials.statuslist import (
    LIST_SIZE,
    StatusListError,
    build_status_list_credential,
    decode_list,
    encode_list,
    list_number,
    list_position,
    parse_status_entry,
    status_entry,
)

SITE = "https://academy.example"
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def raw_bits(encoded: str) -> bytes:
    """Decode an encodedList by hand (standard library only), independently of decode_list."""
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize("seed", range(8))
def test_random_sets_round_trip(seed):
    """Any set of positions comes back exactly, by decode_list and by a hand decoder."""
    rng = random.Random(seed)
    positions = set(rng.sample(range(LIST_SIZE), rng.choice([1, 7, 1000, 20000])))
    encoded = encode_list(positions)
    assert set(decode_list(encoded).positions()) == positions
    bits = raw_bits(encoded)
    assert len(bits) == LIST_SIZE // 8 == 16384
    assert {i for i in range(LIST_SIZE) if bits[i // 8] >> (7 - i % 8) & 1} == positions


def test_empty_list_and_the_first_and_last_index():
    """No revocations gives an all-zero list; the first and last positions are the outer bits."""
    empty = decode_list(encode_list([]))
    assert len(empty) == LIST_SIZE and empty.positions() == [] and not empty.is_set(0)
    both = encode_list([0, LIST_SIZE - 1])
    bits = raw_bits(both)
    assert bits[0] == 0b1000_0000 and bits[-1] == 0b0000_0001 and not any(bits[1:-1])
    decoded = decode_list(both)
    assert decoded.is_set(0) and decoded.is_set(LIST_SIZE - 1) and not decoded.is_set(1)


def test_encoding_is_multibase_base64url_without_padding():
    """The value starts with the multibase prefix u and uses only base64url characters."""
    encoded = encode_list(range(0, LIST_SIZE, 3))
    assert encoded[0] == "u"
    assert set(encoded[1:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert encode_list([5, 3]) == encode_list([3, 5, 5])  # deterministic (gzip mtime 0)


@pytest.mark.parametrize("bad", [[-1], [LIST_SIZE], [True], ["3"], [1.0]])
def test_positions_outside_the_list_are_refused(bad):
    """Positions must be ints inside the list."""
    with pytest.raises(StatusListError):
        encode_list(bad)


def test_size_and_speed_for_100000_certificates_with_one_percent_revoked(record_property):
    """100,000 certificates, 1% revoked: building and encoding takes milliseconds, the list ~2 KB."""
    rng = random.Random(17)
    revoked = rng.sample(range(100_000), 1_000)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        credential = build_status_list_credential(site=SITE, issuer_name="Academy", number=0,
                                                  revoked=revoked, valid_from=NOW)
        timings.append(time.perf_counter() - start)
    encoded = credential["credentialSubject"]["encodedList"]
    best_ms = min(timings) * 1000
    record_property("status_list_build_ms", round(best_ms, 2))
    record_property("status_list_encoded_chars", len(encoded))
    print(f"\nstatus list, 100,000 certificates, 1% revoked: {best_ms:.2f} ms, {len(encoded)} characters")
    assert set(decode_list(encoded).positions()) == set(revoked)
    assert len(encoded) < 4_000
    assert best_ms < 100


@pytest.mark.parametrize("encoded", [
    None, "", "u", "z" + "A" * 40, "uAAAA=", "u!!!!", "u" + "A" * 41,
    "u" + base64.urlsafe_b64encode(b"not gzip").rstrip(b"=").decode(),
    "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 100)).rstrip(b"=").decode(),  # below 16 KB
    "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 16384)[:-6]).rstrip(b"=").decode(),  # truncated
])
def test_malformed_encoded_lists_are_refused(encoded):
    """Wrong prefix, padding, non-GZIP data, too short or truncated bitstrings raise StatusListError."""
    with pytest.raises(StatusListError):
        decode_list(encoded)


def test_a_gzip_bomb_is_not_inflated():
    """A list that inflates to 100 MB is refused after the bounded read, without inflating it all."""
    bomb = gzip.compress(b"\0" * 100_000_000, compresslevel=9)
    encoded = "u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    with pytest.raises(StatusListError, match="inflates beyond"):
        decode_list(encoded)


def test_entry_for_an_index_in_the_second_list():
    """Index i lives in list i // size at position i % size; the entry names both."""
    index = LIST_SIZE + 42
    assert (list_number(index), list_position(index)) == (1, 42)
    assert status_entry(SITE + "/", index) == {
        "id": f"{SITE}/credentials/status/1#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": f"{SITE}/credentials/status/1",
    }
    assert parse_status_entry(status_entry(SITE, index)) == (f"{SITE}/credentials/status/1", 42)


@pytest.mark.parametrize("change", [
    {"type": "StatusList2021Entry"}, {"statusPurpose": "suspension"}, {"statusListIndex": 42},
    {"statusListIndex": "-1"}, {"statusListIndex": "٤٢"}, {"statusListIndex": "4" * 20},
    {"statusListCredential": "javascript:alert(1)"}, {"statusListCredential": None},
])
def test_malformed_entries_are_refused(change):
    """Entries of another type or purpose, or with a bad index or URL, raise StatusListError."""
    with pytest.raises(StatusListError):
        parse_status_entry({**status_entry(SITE, 42), **change})


def test_list_credential_holds_only_its_own_indexes(keyring):
    """List 1 sets the bits of global indexes in its range, signed like a certificate (joserfc checks)."""
    revoked = [3, LIST_SIZE + 3, 2 * LIST_SIZE - 1, 5 * LIST_SIZE]
    credential = build_status_list_credential(site=SITE, issuer_name="Academy", number=1, revoked=revoked,
                                              valid_from=NOW)
    assert credential["id"] == f"{SITE}/credentials/status/1"
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["validFrom"] == "2026-11-25T10:30:00Z"
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert decode_list(subject["encodedList"]).positions() == [3, LIST_SIZE - 1]
    token = sign_credential(credential, keyring, issuer_url=SITE)
    claims = jose_jwt.decode(token, KeySet.import_key_set(keyring.jwks(SITE)), algorithms=["RS256"]).claims
    assert claims["jti"] == credential["id"] and claims["sub"] == subject["id"]
