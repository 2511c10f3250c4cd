"""Every kind of credential the web serves validates against the official Open Badges 3.0 schema (vendored under
tests/credentials/standards/, nothing fetched): valid, expired, revoked, withdrawn, with and without results and
evidence, old rows without frozen facts - both /verify/<id>.json and the payload of /verify/<id>.jwt."""
from __future__ import annotations

import pytest

from tests.credentials.test_schema import schema_errors, status_errors
from tests.web.credential_helpers import evidence_json, expire, issue, payload, revoke, update_row, withdraw

JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp")


def exam(app, cert_id):
    """Put an exam result on the row (as issuing from a course with an exam lesson does)."""
    update_row(app, cert_id, exam_name="Final exam", exam_pass_mark=80, exam_score=92.5)


def with_evidence(app, cert_id):
    """Put approved assignments on the row: one shown, one only named."""
    update_row(app, cert_id, evidence=[evidence_json(), evidence_json(name="Channel plan", consent=False)])


KINDS = {
    "valid": [],
    "valid, with results": [exam],
    "valid, with evidence": [with_evidence],
    "valid, with results and evidence": [exam, with_evidence],
    "expired": [expire],
    "expired, with results and evidence": [exam, with_evidence, expire],
    "revoked": [lambda app, cert_id: revoke(app, cert_id)],
    "revoked, with results and evidence": [exam, with_evidence, lambda app, cert_id: revoke(app, cert_id)],
    "issued before frozen facts": [lambda app, cert_id: update_row(
        app, cert_id, status_index=None, criteria_narrative=None, evidence=None)],
    "German, with results and evidence": [exam, with_evidence],
}


def served(client, cert_id):
    """The credential as /verify/<id>.json serves it and the payload of /verify/<id>.jwt."""
    document = client.get(f"/verify/{cert_id}.json")
    token = client.get(f"/verify/{cert_id}.jwt")
    assert document.status_code == 200 and token.status_code == 200
    return document.json, payload(token.get_data(as_text=True))


@pytest.mark.parametrize("kind", list(KINDS))
def test_served_credential_validates_against_the_ob3_schema(app, kind):
    """The credential and the signed payload served for this kind of certificate have no schema errors."""
    cert_id = issue(app, "Zoë Müller-Lüdenscheidt", language="de" if kind.startswith("German") else "en")
    for change in KINDS[kind]:
        change(app, cert_id)
    document, claims = served(app.test_client(), cert_id)
    assert schema_errors(document) == []
    assert schema_errors(claims) == []
    assert document == {key: value for key, value in claims.items() if key not in JWT_CLAIMS}
    if "evidence" in kind:
        assert len(document["evidence"]) == 1 and document["credentialSubject"]["achievement"]["criteria"]
    if "results" in kind:
        assert document["credentialSubject"]["result"][0]["value"] == "92.5"


def test_withdrawn_credential_validated_before_and_gone_after(app):
    """A withdrawn certificate: the credential its holder handed out validates; after withdrawal it is no longer
    served (410), its status says withdrawn and its bit is set in a schema-valid status list."""
    cert_id = issue(app)
    exam(app, cert_id)
    with_evidence(app, cert_id)
    client = app.test_client()
    document, claims = served(client, cert_id)
    assert schema_errors(document) == [] and schema_errors(claims) == []
    withdraw(app, cert_id)
    assert client.get(f"/verify/{cert_id}.json").status_code == 410
    assert client.get(f"/verify/{cert_id}/status.json").json["status"] == "withdrawn"
    status_list = payload(client.get("/credentials/status/0").get_data(as_text=True))
    assert status_errors({key: value for key, value in status_list.items() if key not in JWT_CLAIMS}) == []
