"""Results, evidence, criteria in words and the status entry, built from the snapshot's frozen facts."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone

import pytest

from coaching.credentials.openbadges import build_credential, format_percent
from coaching.credentials.snapshot import EvidenceItem, ExamResult

from .conftest import CERT_ID, make_snapshot

SITE = "https://academy.example"


def evidence(n: int, **overrides) -> EvidenceItem:
    """An approved assignment with its public page."""
    fields = dict(name=f"Assignment {n}", task=f"Task {n}: write a headline.", reviewer_comment="Well done.",
                  url=f"{SITE}/verify/{CERT_ID}/evidence/{n}")
    return EvidenceItem(**{**fields, **overrides})


def test_snapshot_without_new_facts_builds_the_same_credential_as_before(snapshot):
    """Defaults: no result, no evidence, no status; criteria unchanged (old certificates stay identical)."""
    credential = build_credential(snapshot)
    assert "evidence" not in credential and "credentialStatus" not in credential
    assert "result" not in credential["credentialSubject"]
    achievement = credential["credentialSubject"]["achievement"]
    assert "resultDescription" not in achievement
    assert achievement["criteria"] == {
        "narrative": "Completed every lesson and passed every quiz of the course “Copywriting that converts”."}


def test_exam_gives_a_result_description_and_a_result():
    """The achievement states the pass mark as a Percent ResultDescription; the subject's Result the score."""
    credential = build_credential(make_snapshot(exam=ExamResult(pass_mark=80, score=92.5)))
    achievement = credential["credentialSubject"]["achievement"]
    (description,) = achievement["resultDescription"]
    assert description == {
        "id": f"{SITE}/courses/copywriting#exam", "type": ["ResultDescription"], "name": "Exam score",
        "resultType": "Percent", "requiredValue": "80", "valueMin": "0", "valueMax": "100"}
    assert credential["credentialSubject"]["result"] == [
        {"type": ["Result"], "resultDescription": description["id"], "value": "92.5"}]
    assert achievement["criteria"]["narrative"].endswith(" Passed the exam with at least 80%.")


def test_german_wording_for_exam_and_assignments():
    """A German certificate states criteria, the exam and the assignments in German."""
    snap = make_snapshot(language="de", exam=ExamResult(pass_mark=82.5, score=90, name="Abschlussprüfung"),
                         approved_assignments=("Überschrift",), evidence=(evidence(2),))
    narrative = build_credential(snap)["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert narrative == (
        "Alle Lektionen des Kurses „Copywriting that converts“ abgeschlossen und alle Quizze bestanden. "
        "„Abschlussprüfung“ mit mindestens 82,5 % bestanden. "
        "Nach Prüfung durch einen Coach angenommene Aufgaben: „Überschrift“, „Assignment 2“.")
    (item,) = build_credential(snap)["evidence"]
    assert item["description"] == "Nach Prüfung angenommen. Kommentar der Prüfung: Well done."


def test_evidence_entries_carry_task_review_and_page():
    """Each consented assignment is Evidence with its page as id, the task as narrative, the review."""
    approved = datetime(2026, 11, 20, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    snap = make_snapshot(evidence=(evidence(1, approved_at=approved), evidence(2, reviewer_comment="  ")))
    credential = build_credential(snap)
    assert credential["evidence"] == [
        {"id": f"{SITE}/verify/{CERT_ID}/evidence/1", "type": ["Evidence"], "name": "Assignment 1",
         "narrative": "Task 1: write a headline.",
         "description": "Approved after review on 2026-11-21. Reviewer’s comment: Well done."},
        {"id": f"{SITE}/verify/{CERT_ID}/evidence/2", "type": ["Evidence"], "name": "Assignment 2",
         "narrative": "Task 2: write a headline.", "description": "Approved after review."},
    ]
    narrative = credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert narrative.endswith("Assignments approved after review by a coach: “Assignment 1”, “Assignment 2”.")


def test_without_consent_the_assignment_is_only_named():
    """approved_assignments go into the criteria narrative and nowhere else."""
    credential = build_credential(make_snapshot(approved_assignments=("Headline",)))
    assert "evidence" not in credential
    assert credential["credentialSubject"]["achievement"]["criteria"]["narrative"].endswith(
        "Assignment approved after review by a coach: “Headline”.")


def test_course_criteria_replace_the_standard_sentence():
    """A course's own criteria narrative is used, followed by the exam sentence."""
    snap = make_snapshot(criteria_narrative="Planned and ran a campaign.", exam=ExamResult(80, 85))
    assert build_credential(snap)["credentialSubject"]["achievement"]["criteria"]["narrative"] == (
        "Planned and ran a campaign. Passed the exam with at least 80%.")


def test_status_index_gives_the_credential_status():
    """The frozen status index becomes the BitstringStatusListEntry."""
    assert build_credential(make_snapshot(status_index=131_072 + 9))["credentialStatus"] == {
        "id": f"{SITE}/credentials/status/1#9", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": "9",
        "statusListCredential": f"{SITE}/credentials/status/1"}


@pytest.mark.parametrize("value, machine, en, de", [
    (80, "80", "80%", "80 %"), (92.5, "92.5", "92.5%", "92,5 %"), (100.0, "100", "100%", "100 %"),
    (66.666, "66.67", "66.67%", "66,67 %"), (0, "0", "0%", "0 %"),
])
def test_percent_formatting(value, machine, en, de):
    """Percentages are written without trailing zeros, with the language's decimal mark."""
    assert (format_percent(value), format_percent(value, "en"), format_percent(value, "de")) == (machine, en, de)


@pytest.mark.parametrize("facts", [
    dict(exam={"pass_mark": 80, "score": 90}),
    dict(status_index=-1), dict(status_index=True), dict(status_index="7"),
    dict(evidence=("not evidence",)), dict(approved_assignments=("",)), dict(criteria_narrative="  "),
])
def test_snapshot_refuses_malformed_facts(facts):
    """Wrong types and empty texts are refused when the snapshot is built."""
    with pytest.raises(ValueError):
        make_snapshot(**facts)


@pytest.mark.parametrize("pass_mark, score", [(101, 50), (80, -1), (80, float("nan")), (True, 50), ("80", 90)])
def test_exam_result_refuses_values_that_are_not_percentages(pass_mark, score):
    """Pass mark and score must be numbers from 0 to 100."""
    with pytest.raises(ValueError):
        ExamResult(pass_mark=pass_mark, score=score)


@pytest.mark.parametrize("overrides", [dict(url="javascript:alert(1)"), dict(name=""), dict(task=None),
                                       dict(approved_at=datetime(2026, 1, 1))])
def test_evidence_item_refuses_bad_fields(overrides):
    """Evidence needs a name, a task, an http(s) page and an aware approval time."""
    with pytest.raises(ValueError):
        evidence(1, **overrides)


def test_snapshot_facts_are_frozen_and_lists_become_tuples():
    """A list of evidence is stored as a tuple; nothing can be changed afterwards."""
    snap = make_snapshot(evidence=[evidence(1)], approved_assignments=["A"])
    assert snap.evidence == (evidence(1),) and snap.approved_assignments == ("A",)
    with pytest.raises(FrozenInstanceError):
        snap.status_index = 3  # type: ignore[misc]
    hash(snap)
