"""Random input never escapes as anything but the typed error or a verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching.credentials.files import CredentialFileError, read_credential_file
from coaching.credentials.statuslist import LIST_SIZE, decode_list, encode_list
from coaching.credentials.verify import verify_token

NOW = datetime(2027, 1, 1, tzinfo=UTC)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4000), st.booleans())
def test_random_files_give_a_typed_error(body, eof):
    """Bytes behind a PDF header (with or without an end marker) are read or refused with a code."""
    data = b"%PDF-1.4\n" + body + (b"\n%%EOF\n" if eof else b"")
    try:
        read_credential_file(data)
    except CredentialFileError as exc:
        assert exc.code in {"damaged", "no_credential", "bad_attachment", "encrypted"}


@FUZZ
@given(st.text(max_size=300))
def test_random_tokens_are_invalid(text):
    """Random text is never a valid credential and never raises."""
    verdict = verify_token(text, jwks={"keys": []}, issuer_url="https://academy.example", now=NOW)
    assert verdict.outcome in {"invalid", "not_issued_here"}


@FUZZ
@given(st.sets(st.integers(min_value=0, max_value=LIST_SIZE - 1), max_size=300))
def test_status_list_round_trip(positions):
    """Any set of positions survives encoding and decoding."""
    assert decode_list(encode_list(positions)).positions() == sorted(positions)
