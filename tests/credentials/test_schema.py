"""Every kind of credential the builder makes validates against the official Open Badges 3.0 schema.

The schema and contexts are vendored (tests/credentials/standards/, see SOURCE.md); nothing is fetched.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft201909Validator, FormatChecker
from referencing import Registry, Resource

from coaching.credentials.openbadges import SCHEMA, build_credential
from coaching.credentials.signing import sign_credential, verify_credential_jwt
from coaching.credentials.snapshot import EvidenceItem, ExamResult
from coaching.credentials.statuslist import LIST_SIZE, build_status_list_credential

from .conftest import CERT_ID, ISSUED_AT, make_snapshot

STANDARDS = Path(__file__).resolve().parent / "standards"
OB_SCHEMA = json.loads((STANDARDS / "openbadges-3.0" / "achievementcredential.schema.json").read_text())
STATUS_SCHEMA = json.loads(
    (STANDARDS / "bitstring-status-list" / "bitstring-status-list.schema.json").read_text())
CONTEXT_FILES = ("openbadges-3.0/credentials-v2.jsonld", "openbadges-3.0/context-3.0.3.json")
SITE = "https://academy.example"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 date-time with a zone (jsonschema checks this only with an extra package)."""
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    """A full date."""
    return not isinstance(value, str) or bool(datetime.strptime(value, "%Y-%m-%d"))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    """An absolute URI (our ids are http(s) URLs)."""
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


def registry() -> Registry:
    """The vendored schema under its own $id and under the id credentials name it by."""
    resource = Resource.from_contents(OB_SCHEMA)
    return Registry().with_resources([(OB_SCHEMA["$id"], resource), (SCHEMA["id"], resource)])


def schema_errors(credential: dict) -> list[str]:
    """Validate against the schema the credential names in credentialSchema (resolved offline)."""
    (named,) = credential["credentialSchema"]
    assert named == {"id": SCHEMA["id"], "type": "1EdTechJsonSchemaValidator2019"}
    schema = registry().get_or_retrieve(named["id"]).value.contents
    validator = Draft201909Validator(schema, registry=registry(), format_checker=FORMATS)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(credential)]


def status_errors(instance: dict, definition: str | None = None) -> list[str]:
    """Validate against the transcribed Bitstring Status List schema (or one of its $defs)."""
    schema = STATUS_SCHEMA
    if definition is not None:  # only the definition: in 2019-09 a $ref beside other keywords adds to them
        schema = {"$schema": STATUS_SCHEMA["$schema"], "$defs": STATUS_SCHEMA["$defs"],
                  "$ref": f"#/$defs/{definition}"}
    validator = Draft201909Validator(schema, format_checker=FORMATS)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(instance)]


def context_terms() -> set[str]:
    """Every term the two vendored JSON-LD contexts define, at any depth (scoped contexts included)."""
    terms: set[str] = set()

    def walk(context: object) -> None:
        if isinstance(context, dict):
            for key, value in context.items():
                if not key.startswith("@"):
                    terms.add(key)
                if isinstance(value, dict):
                    walk(value.get("@context"))
    for name in CONTEXT_FILES:
        walk(json.loads((STANDARDS / name).read_text())["@context"])
    return terms


def used_terms(node: object) -> set[str]:
    """Every property name used in a JSON document (except @context)."""
    if isinstance(node, list):
        return set().union(*(used_terms(item) for item in node)) if node else set()
    if isinstance(node, dict):
        return {key for key in node if key != "@context"}.union(
            *(used_terms(value) for key, value in node.items() if key != "@context"))
    return set()


EVIDENCE = (
    EvidenceItem(name="Headline and call to action", task="Write a headline (at most 70 characters)...",
                 reviewer_comment="Clear benefit, labelled as advertising.",
                 url=f"{SITE}/verify/{CERT_ID}/evidence/1", approved_at=ISSUED_AT - timedelta(days=2)),
    EvidenceItem(name="Channel plan", task="Pick two channels and say why.", reviewer_comment="",
                 url=f"{SITE}/verify/{CERT_ID}/evidence/2"),
)
PAST = datetime.now(UTC) - timedelta(days=30)
KINDS = {
    "plain (issued before results and status)": {},
    "valid, with everything": dict(exam=ExamResult(pass_mark=80, score=92.5), evidence=EVIDENCE,
                                   approved_assignments=("Headline and call to action",), status_index=7,
                                   valid_until=ISSUED_AT + timedelta(days=730)),
    "expired (validUntil in the past)": dict(issued_at=PAST - timedelta(days=365), valid_until=PAST,
                                             status_index=8),
    "with results, without evidence": dict(exam=ExamResult(pass_mark=75, score=100, name="Final exam"),
                                           status_index=LIST_SIZE + 5),
    "without results, with evidence": dict(evidence=EVIDENCE[:1], status_index=0),
    "assignments named without consent": dict(approved_assignments=("Headline", "Channel plan"),
                                              status_index=9),
    "German, with everything": dict(language="de", exam=ExamResult(pass_mark=80, score=80), evidence=EVIDENCE,
                                    status_index=10),
    "course's own criteria": dict(criteria_narrative="Wrote and tested three campaigns.", status_index=11),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_credential_kind_validates_against_the_ob3_schema(kind):
    """The unsigned credential has no schema errors."""
    assert schema_errors(build_credential(make_snapshot(**KINDS[kind]))) == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_signed_payload_validates_too(kind, keyring):
    """What a verifier decodes from the VC-JWT (credential plus iss/jti/sub/nbf/exp) is valid as well."""
    token = sign_credential(build_credential(make_snapshot(**KINDS[kind])), keyring, issuer_url=SITE)
    payload = verify_credential_jwt(token, keyring.jwks(), check_dates=False)
    assert schema_errors(payload) == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_property_is_defined_by_the_contexts(kind):
    """No property name falls outside the VC 2.0 and OB 3.0.3 JSON-LD contexts (typos would)."""
    assert used_terms(build_credential(make_snapshot(**KINDS[kind]))) - context_terms() == set()


@pytest.mark.parametrize("kind", [kind for kind, facts in KINDS.items() if "status_index" in facts])
def test_credential_status_is_a_bitstring_status_list_entry(kind):
    """credentialStatus follows the Bitstring Status List entry rules."""
    entry = build_credential(make_snapshot(**KINDS[kind]))["credentialStatus"]
    assert status_errors(entry, "BitstringStatusListEntry") == []


def test_status_list_credential_validates():
    """The list credential follows the Bitstring Status List rules and uses only context terms."""
    credential = build_status_list_credential(site=SITE, issuer_name="Affiliate Academy", number=0,
                                              revoked=[1, 2, 3], valid_from=ISSUED_AT,
                                              valid_until=ISSUED_AT + timedelta(days=1))
    assert status_errors(credential) == []
    assert used_terms(credential) - context_terms() == set()


@pytest.mark.parametrize("breakage", [
    lambda c: c["credentialSubject"].pop("achievement"),
    lambda c: c["credentialSubject"]["result"][0].update(value=92.5),
    lambda c: c["credentialSubject"]["achievement"]["resultDescription"][0].pop("resultType"),
    lambda c: c["evidence"][0].update(type="Evidence", name=7),
    lambda c: c.update(validFrom="25 November 2026"),
    lambda c: c["credentialStatus"].pop("id"),
])
def test_the_schema_check_catches_broken_credentials(breakage):
    """The validator really runs: each breakage of a full credential is reported."""
    credential = build_credential(make_snapshot(**KINDS["valid, with everything"]))
    breakage(credential)
    assert schema_errors(credential)


def test_status_schema_catches_a_numeric_index():
    """The transcribed status schema refuses an index given as a number."""
    entry = build_credential(make_snapshot(status_index=3))["credentialStatus"]
    assert status_errors({**entry, "statusListIndex": 3}, "BitstringStatusListEntry")
