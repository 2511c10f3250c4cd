"""Revocation inside the credential: status indexes allocated without races, the signed Bitstring Status List at
/credentials/status/<n> that says revoked or withdrawn on the very next request."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from coaching.credentials.statuslist import LIST_SIZE
from coaching.credentials.verify import verify_token
from coaching.extensions import db
from coaching.models import Certificate, Counter, User
from tests.credentials.test_schema import status_errors
from tests.web.credential_helpers import SITE, issue, new_user, payload, revoke, row, status_bits, withdraw


def verdict_with_list(client, token: str, number: int = 0):
    """Verify a certificate token against the keys and the status list as served (no database involved)."""
    jwks = client.get("/.well-known/jwks.json").json
    status_list = client.get(f"/credentials/status/{number}").get_data(as_text=True)
    return verify_token(token, jwks=jwks, issuer_url=SITE, now=datetime.now(UTC), status_list_jwt=status_list)


def test_indexes_are_allocated_in_order_and_stored_on_the_row(app):
    """Each new certificate takes the next index; its credentialStatus points at that bit."""
    ids = [issue(app, f"Person {n}") for n in range(3)]
    assert [row(app, cert_id)["status_index"] for cert_id in ids] == [0, 1, 2]
    entry = app.test_client().get(f"/verify/{ids[2]}.json").json["credentialStatus"]
    assert entry == {"id": f"{SITE}/credentials/status/0#2", "type": "BitstringStatusListEntry",
                     "statusPurpose": "revocation", "statusListIndex": "2",
                     "statusListCredential": f"{SITE}/credentials/status/0"}
    with app.app_context():
        assert db.session.get(Counter, "certificate_status_index").value == 3


def test_parallel_issuing_for_different_people_gives_distinct_indexes(app):
    """Eight people completing at the same moment get eight different indexes (one counter row, advanced in SQL)."""
    users = [new_user(app, f"Parallel {n}") for n in range(8)]
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def issue_for(user_id: int) -> None:
        from coaching.services.catalog import catalog
        from coaching.services.certificates import issue_certificate

        try:
            with app.app_context():
                barrier.wait(timeout=30)
                db.session.connection(execution_options={"sqlite_immediate": True})  # as in a POST request
                issue_certificate(db.session.get(User, user_id), catalog().course("demo"), "en")
                db.session.commit()
        except Exception as error:  # any failure of a thread is reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=issue_for, args=(user_id,)) for user_id in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        indexes = list(db.session.scalars(select(Certificate.status_index)))
    assert sorted(indexes) == list(range(8))


def test_counter_starts_after_indexes_already_used(app):
    """Without a counter row (a restored backup, a hand-made row), numbering continues after the largest index."""
    first = issue(app)
    with app.app_context():
        db.session.delete(db.session.get(Counter, "certificate_status_index"))
        db.session.commit()
    second = issue(app, "Second")
    assert (row(app, first)["status_index"], row(app, second)["status_index"]) == (0, 1)


def test_status_list_is_a_signed_bitstring_status_list_credential(app):
    """The list is a VC-JWT (text/plain, like the credentials) signed with the key URL kid, schema-valid."""
    cert_id = issue(app)
    client = app.test_client()
    response = client.get("/credentials/status/0")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["Access-Control-Allow-Origin"] == "*"
    token = response.get_data(as_text=True)
    claims = payload(token)
    assert claims["id"] == claims["jti"] == f"{SITE}/credentials/status/0" and claims["iss"] == SITE
    credential = {key: value for key, value in claims.items() if key not in ("iss", "jti", "sub", "nbf", "exp")}
    assert status_errors(credential) == []
    certificate = client.get(f"/verify/{cert_id}.jwt").get_data(as_text=True)
    verdict = verdict_with_list(client, certificate)
    assert verdict.outcome == "valid"
    assert {check.name: check.state for check in verdict.checks}["status"] == "ok"


def test_revocation_shows_in_the_list_on_the_next_request(app):
    """A manager's revocation sets the bit at once (no cache): a verifier holding only the JWT learns it."""
    ids = [issue(app, f"Person {n}") for n in range(3)]
    client = app.test_client()
    token = client.get(f"/verify/{ids[1]}.jwt").get_data(as_text=True)
    assert status_bits(client) == set()
    before = client.get("/credentials/status/0")
    revoke(app, ids[1])
    assert status_bits(client) == {1}
    assert verdict_with_list(client, token).outcome == "revoked"
    after = client.get("/credentials/status/0", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    again = client.get("/credentials/status/0", headers={"If-None-Match": after.headers["ETag"]})
    assert again.status_code == 304


def test_withdrawal_by_the_holder_sets_the_bit_too(app):
    """Deleting the account with withdrawal marks the certificate in the list like a revocation."""
    keep, gone = issue(app, "Kept"), issue(app, "Gone")
    client = app.test_client()
    token = client.get(f"/verify/{gone}.jwt").get_data(as_text=True)
    withdraw(app, gone)
    assert status_bits(client) == {row(app, gone)["status_index"]}
    assert verdict_with_list(client, token).outcome == "revoked"
    assert row(app, keep)["status_index"] not in status_bits(client)


def test_revoked_and_withdrawn_and_expired_together(app):
    """Only revoked and withdrawn certificates are set; an expired one is not revoked."""
    from tests.web.credential_helpers import expire

    valid, revoked, withdrawn, expired = (issue(app, name) for name in ("Val", "Rev", "Wit", "Exp"))
    revoke(app, revoked)
    withdraw(app, withdrawn)
    expire(app, expired)
    assert status_bits(app.test_client()) == {row(app, revoked)["status_index"], row(app, withdrawn)["status_index"]}


def test_same_state_gives_the_same_token(app):
    """validFrom is the list's last change, so an unchanged list is byte-identical (and its ETag stable)."""
    issue(app)
    client = app.test_client()
    first, second = client.get("/credentials/status/0"), client.get("/credentials/status/0")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]


def test_second_list_begins_after_131072_certificates(app):
    """Index 131071 is the last bit of list 0, index 131072 the first of list 1, served at /credentials/status/1."""
    with app.app_context():
        db.session.add(Counter(name="certificate_status_index", value=LIST_SIZE - 1))
        db.session.commit()
    last, first = issue(app, "Last of list 0"), issue(app, "First of list 1")
    client = app.test_client()
    assert client.get(f"/verify/{last}.json").json["credentialStatus"]["statusListIndex"] == str(LIST_SIZE - 1)
    entry = client.get(f"/verify/{first}.json").json["credentialStatus"]
    assert entry["statusListCredential"] == f"{SITE}/credentials/status/1" and entry["statusListIndex"] == "0"
    revoke(app, first)
    assert status_bits(client, 1) == {0} and status_bits(client, 0) == set()
    withdraw(app, last)  # each list holds only its own certificates' bits
    assert status_bits(client, 1) == {0} and status_bits(client, 0) == {LIST_SIZE - 1}
    token = client.get(f"/verify/{first}.jwt").get_data(as_text=True)
    assert verdict_with_list(client, token, 1).outcome == "revoked"


@pytest.mark.parametrize("number", ["1", "00", "01", "-1", "abc", "١", "１", "99999999", "0x0", " 0"])
def test_lists_without_certificates_and_malformed_numbers_are_404(app, number):
    """Only lists that hold certificates exist; odd numbers are a 404, never a 500."""
    issue(app)
    assert app.test_client().get(f"/credentials/status/{number}").status_code == 404


def test_no_list_before_the_first_certificate(app):
    """An empty installation serves no list at all."""
    assert app.test_client().get("/credentials/status/0").status_code == 404
