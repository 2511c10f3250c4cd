"""Build the Open Badges 3.0 ``OpenBadgeCredential`` for a certificate snapshot."""

from __future__ import annotations

from coaching.credentials.snapshot import CertificateSnapshot, EvidenceItem, ExamResult, iso_z
from coaching.credentials.statuslist import status_entry

__all__ = ["CONTEXTS", "SCHEMA", "achievement_id", "build_credential", "criteria_narrative", "default_criteria",
           "format_percent", "iso_z", "result_description_id", "subject_id"]

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
# The id the specification gives the achievement credential schema (its "Credential Schema" section and
# examples); the published file's own $id differs, see tests/credentials/standards/openbadges-3.0/SOURCE.md.
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}

_TEXTS = {
    "en": {
        "description": "Awarded for completing the course “{course}” at {issuer}.",
        "criteria": "Completed every lesson and passed every quiz of the course “{course}”.",
        "exam": "Passed the exam with at least {pass_mark}.",
        "named_exam": "Passed “{exam}” with at least {pass_mark}.",
        "exam_name": "Exam score",
        "assignment": "Assignment approved after review by a coach: {names}.",
        "assignments": "Assignments approved after review by a coach: {names}.",
        "quote": "“{}”",
        "approved": "Approved after review.",
        "approved_on": "Approved after review on {date}.",
        "comment": "Reviewer’s comment: {comment}",
    },
    "de": {
        "description": "Verliehen für den Abschluss des Kurses „{course}“ bei {issuer}.",
        "criteria": "Alle Lektionen des Kurses „{course}“ abgeschlossen und alle Quizze bestanden.",
        "exam": "Prüfung mit mindestens {pass_mark} bestanden.",
        "named_exam": "„{exam}“ mit mindestens {pass_mark} bestanden.",
        "exam_name": "Prüfungsergebnis",
        "assignment": "Nach Prüfung durch einen Coach angenommene Aufgabe: {names}.",
        "assignments": "Nach Prüfung durch einen Coach angenommene Aufgaben: {names}.",
        "quote": "„{}“",
        "approved": "Nach Prüfung angenommen.",
        "approved_on": "Am {date} nach Prüfung angenommen.",
        "comment": "Kommentar der Prüfung: {comment}",
    },
}


def format_percent(value: float | int, language: str | None = None) -> str:
    """Write a percentage: "92.5" for machines (no language), "92.5%" (en) or "92,5 %" (de) for people."""
    number = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    if language is None:
        return number
    return f"{number.replace('.', ',')} %" if language == "de" else f"{number}%"


def achievement_id(snapshot: CertificateSnapshot) -> str:
    """Return the stable URL of the course's achievement (its public course page)."""
    return f"{snapshot.issuer_url.rstrip('/')}/courses/{snapshot.course_slug}#achievement"


def subject_id(snapshot: CertificateSnapshot) -> str:
    """Return the recipient's id: a fragment of the public verification page."""
    # OB 3.0 wants credentialSubject.id to equal the JWT `sub`; we know no DID or email worth
    # publishing, so the recipient is "the person this verification page names".
    return f"{snapshot.verify_url}#recipient"


def result_description_id(snapshot: CertificateSnapshot) -> str:
    """Return the id of the exam's ResultDescription (beside the achievement on the course page)."""
    return f"{snapshot.issuer_url.rstrip('/')}/courses/{snapshot.course_slug}#exam"


def _assignment_names(snapshot: CertificateSnapshot) -> list[str]:
    """Every approved assignment to name: the consent-free list, then evidence not already named."""
    names = list(dict.fromkeys(snapshot.approved_assignments))
    names += [item.name for item in snapshot.evidence if item.name not in names]
    return names


def default_criteria(course_title: str, language: str) -> str:
    """Return the standard first sentence of the criteria (what a course without its own criteria asks)."""
    return _TEXTS[language]["criteria"].format(course=course_title)


def criteria_narrative(snapshot: CertificateSnapshot) -> str:
    """Return what earning the certificate took, in words, in the certificate's language."""
    texts = _TEXTS[snapshot.language]
    sentences = [snapshot.criteria_narrative or default_criteria(snapshot.course_title, snapshot.language)]
    exam = snapshot.exam
    if exam is not None:
        pass_mark = format_percent(exam.pass_mark, snapshot.language)
        sentences.append(texts["named_exam"].format(exam=exam.name, pass_mark=pass_mark) if exam.name
                         else texts["exam"].format(pass_mark=pass_mark))
    names = _assignment_names(snapshot)
    if names:
        quoted = ", ".join(texts["quote"].format(name) for name in names)
        sentences.append(texts["assignment" if len(names) == 1 else "assignments"].format(names=quoted))
    return " ".join(sentences)


def _result_description(snapshot: CertificateSnapshot, exam: ExamResult) -> dict:
    """Describe the exam result the achievement requires: a percentage with its pass mark."""
    return {
        "id": result_description_id(snapshot),
        "type": ["ResultDescription"],
        "name": exam.name or _TEXTS[snapshot.language]["exam_name"],
        "resultType": "Percent",
        "requiredValue": format_percent(exam.pass_mark),
        "valueMin": "0",
        "valueMax": "100",
    }


def _evidence(item: EvidenceItem, language: str) -> dict:
    """One approved assignment as OB 3.0 Evidence: the task as narrative, the review as description."""
    texts = _TEXTS[language]
    approved = (texts["approved_on"].format(date=item.approved_at.date().isoformat()) if item.approved_at
                else texts["approved"])
    comment = item.reviewer_comment.strip()
    return {
        "id": item.url,
        "type": ["Evidence"],
        "name": item.name,
        "narrative": item.task,
        "description": f"{approved} {texts['comment'].format(comment=comment)}" if comment else approved,
    }


def _achievement(snapshot: CertificateSnapshot) -> dict:
    """Describe what was achieved, in the certificate's language."""
    texts = _TEXTS[snapshot.language]
    fields = {"course": snapshot.course_title, "issuer": snapshot.issuer_name}
    achievement = {
        "id": achievement_id(snapshot),
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": snapshot.course_title,
        "description": texts["description"].format(**fields),
        "criteria": {"narrative": criteria_narrative(snapshot)},
        "inLanguage": snapshot.language,
    }
    if snapshot.exam is not None:
        achievement["resultDescription"] = [_result_description(snapshot, snapshot.exam)]
    if snapshot.content_fingerprint:
        # The course content the learner completed; changes whenever the lessons change.
        achievement["version"] = snapshot.content_fingerprint
    return achievement


def _subject(snapshot: CertificateSnapshot) -> dict:
    """Describe the recipient: by display name and as an unhashed name IdentityObject."""
    subject = {
        "id": subject_id(snapshot),
        "type": ["AchievementSubject"],
        "name": snapshot.recipient_name,
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": snapshot.recipient_name,
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": _achievement(snapshot),
    }
    if snapshot.exam is not None:
        subject["result"] = [{
            "type": ["Result"],
            "resultDescription": result_description_id(snapshot),
            "value": format_percent(snapshot.exam.score),
        }]
    return subject


def build_credential(snapshot: CertificateSnapshot) -> dict:
    """Return the unsigned OpenBadgeCredential (a JSON-ready dict) for a snapshot."""
    credential = {
        "@context": list(CONTEXTS),
        "id": snapshot.verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": snapshot.issuer_url, "type": ["Profile"], "name": snapshot.issuer_name},
        "name": snapshot.certificate_title,
        "validFrom": iso_z(snapshot.issued_at),
    }
    if snapshot.valid_until is not None:
        credential["validUntil"] = iso_z(snapshot.valid_until)
    credential["credentialSubject"] = _subject(snapshot)
    if snapshot.evidence:
        credential["evidence"] = [_evidence(item, snapshot.language) for item in snapshot.evidence]
    if snapshot.status_index is not None:
        credential["credentialStatus"] = status_entry(snapshot.issuer_url, snapshot.status_index)
    credential["credentialSchema"] = [dict(SCHEMA)]
    return credential
