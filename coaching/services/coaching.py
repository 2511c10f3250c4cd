"""Coaching: assignment submissions and their reviews (the state machine). Coaches live in `coaches`, the queue
in `review_queue`, what the pages show in `assignment_views`, certificate evidence in `evidence`.

One submission per person and lesson moves through

    draft --submit--> waiting --approve--> approved --manager's reset--> draft
                         \\--revise--> revise --submit--> waiting ...

Every submit adds a version that keeps a snapshot of the task and criteria it answered; each version is
reviewed exactly once (a conditional UPDATE decides between two reviewers, on SQLite and PostgreSQL alike).
A lesson with an assignment is complete when its quiz is passed (if it has one) and its assignment approved.
Functions add and flush; the caller commits.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..content import Catalog, Course, Lesson, LessonText
from ..extensions import db
from ..logs import log_event
from ..models import (
    DECISIONS,
    QuizAttempt,
    Review,
    Submission,
    SubmissionVersion,
    User,
    utcnow,
)
from ..usertext import TextRefused, clean_text, is_web_url
from . import review_mail
from .audit import record
from .coaches import coach_of
from .db import insert_ignore, lock_row
from .evidence import follow_consent
from .progress import mark_complete, record_activity

MAX_COMMENT = 5000
EDITABLE = ("draft", "revise")


class WorkError(ValueError):
    """Input that cannot be stored: empty, too_long, link (not http(s)), link_missing, text (control
    characters), no_assignment."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class WorkRefused(Exception):
    """A change the submission's state does not allow now: waiting (locked for review) or approved."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ReviewError(ValueError):
    """A review form that cannot be stored: decision, unknown_criterion, missing_criterion, too_long, text,
    version (no such version)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ReviewRefused(Exception):
    """A review a rule forbids: own_work, not_waiting (already reviewed, or taken back), gone (account deleted)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- what a lesson needs --------------------------------------------------------------------------------------

def assignment_of(lesson: Lesson) -> Any:
    """The lesson's assignment as its default-language file sets it, or None."""
    return lesson.texts[lesson.language].assignment


def quiz_passed(user_id: int, course_slug: str, lesson_slug: str) -> bool:
    """True when the person has a passed attempt at this lesson's quiz (any version of it)."""
    return db.session.scalar(select(QuizAttempt.id).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_slug == course_slug,
        QuizAttempt.lesson_slug == lesson_slug, QuizAttempt.passed.is_(True)).limit(1)) is not None


def assignment_approved(user_id: int, course_slug: str, lesson_slug: str) -> bool:
    """True when the person's assignment of this lesson is approved now."""
    return db.session.scalar(select(Submission.id).where(
        Submission.user_id == user_id, Submission.course_slug == course_slug,
        Submission.lesson_slug == lesson_slug, Submission.state == "approved")) is not None


def assignment_done(user_id: int, course_slug: str, lesson: Lesson) -> bool:
    """The assignment side of completion: no assignment, or an approved one (the quiz service asks this)."""
    return assignment_of(lesson) is None or assignment_approved(user_id, course_slug, lesson.slug)


def _quiz_done(user_id: int, course_slug: str, lesson: Lesson) -> bool:
    """The quiz side of completion: no quiz, or a passed one."""
    return lesson.texts[lesson.language].quiz is None or quiz_passed(user_id, course_slug, lesson.slug)


# --- reading ----------------------------------------------------------------------------------------------------

def submission_of(user_id: int, course_slug: str, lesson_slug: str) -> Submission | None:
    """A person's submission for one lesson, or None when they never saved or submitted anything."""
    return db.session.scalar(select(Submission).where(
        Submission.user_id == user_id, Submission.course_slug == course_slug, Submission.lesson_slug == lesson_slug))


def own_submission(user_id: int, submission_id: int) -> Submission | None:
    """One of this person's submissions by id; another person's is None (hence 404)."""
    submission = db.session.get(Submission, submission_id)
    return submission if submission is not None and submission.user_id == user_id else None


def find_submission(submission_id: int) -> Submission | None:
    """A submission by id for the review page (None for unknown ids and for deleted accounts' work)."""
    submission = db.session.get(Submission, submission_id)
    return submission if submission is not None and submission.user_id is not None else None


# --- submitting -------------------------------------------------------------------------------------------------

def check_work(text: LessonText, answer: str | None, link: str | None, *, submit: bool) -> tuple[str, str | None]:
    """The answer and link as they will be stored, or WorkError naming what is wrong (nothing is stored)."""
    assignment = text.assignment
    if assignment is None:
        raise WorkError("no_assignment")
    try:
        answer = clean_text(answer, multiline=True)
        link = clean_text(link, multiline=False).strip() if assignment.with_link else ""
    except TextRefused:
        raise WorkError("text") from None
    if submit and not answer.strip():
        raise WorkError("empty")
    if len(answer) > assignment.max_length:
        raise WorkError("too_long")
    if link and not is_web_url(link):
        raise WorkError("link")
    if submit and assignment.with_link and not link:
        raise WorkError("link_missing")
    return answer, (link or None)


def _locked_submission(user: User, course: Course, lesson: Lesson, now: datetime) -> Submission:
    """The person's submission row for the lesson, created when missing, locked for this transaction."""
    insert_ignore(Submission, {"user_id": user.id, "course_slug": course.slug, "lesson_slug": lesson.slug,
                               "state": "draft", "versions_count": 0, "show_on_certificate": False,
                               "created_at": now, "updated_at": now},
                  conflict=["user_id", "course_slug", "lesson_slug"])
    submission = db.session.scalar(select(Submission).where(
        Submission.user_id == user.id, Submission.course_slug == course.slug, Submission.lesson_slug == lesson.slug)
        .execution_options(populate_existing=True))
    assert submission is not None
    lock_row(Submission, submission.id)  # PostgreSQL: one writer per submission (SQLite holds the write lock)
    db.session.refresh(submission)
    return submission


def _consent_values(submission: Submission, consent: bool, now: datetime) -> dict[str, Any]:
    """The columns that change with the consent box (the time only when the choice changed)."""
    if submission.show_on_certificate == consent:
        return {}
    return {"show_on_certificate": consent, "consent_changed_at": now}


def save_draft(user: User, course: Course, lesson: Lesson, text: LessonText, *, answer: str | None,
               link: str | None, consent: bool, now: datetime | None = None) -> Submission:
    """Keep a draft of the next version (may be empty); refused while waiting or once approved."""
    now = now or utcnow()
    answer, link = check_work(text, answer, link, submit=False)
    submission = _locked_submission(user, course, lesson, now)
    if submission.state not in EDITABLE:
        raise WorkRefused(submission.state)
    changed = db.session.execute(update(Submission).where(
        Submission.id == submission.id, Submission.state.in_(EDITABLE)).values(
        draft_answer=answer, draft_link=link, updated_at=now, **_consent_values(submission, consent, now))).rowcount
    if changed != 1:
        raise WorkRefused("waiting")
    db.session.refresh(submission)
    record_activity(user, course.slug, now=now)
    return submission


def submit(user: User, course: Course, lesson: Lesson, text: LessonText, *, answer: str | None, link: str | None,
           consent: bool, language: str, now: datetime | None = None) -> SubmissionVersion:
    """Submit a new version for review, exactly once; it keeps a snapshot of the task and criteria answered.

    `text` is the lesson text the person answered (their language); `language` their interface language.
    Refused (WorkRefused) while a version waits for review and once approved: a second click of the same
    button finds the first version waiting and changes nothing.
    """
    now = now or utcnow()
    answer, link = check_work(text, answer, link, submit=True)
    assignment = text.assignment
    submission = _locked_submission(user, course, lesson, now)
    if submission.state not in EDITABLE:
        raise WorkRefused(submission.state)
    changed = db.session.execute(update(Submission).where(
        Submission.id == submission.id, Submission.state.in_(EDITABLE)).values(
        state="waiting", versions_count=Submission.versions_count + 1, submitted_at=now, updated_at=now,
        draft_answer=None, draft_link=None, **_consent_values(submission, consent, now))).rowcount
    if changed != 1:
        raise WorkRefused("waiting")
    db.session.refresh(submission)
    version = SubmissionVersion(
        submission_id=submission.id, number=submission.versions_count, state="waiting", answer=answer, link=link,
        language=language, content_hash=text.content_hash, lesson_title=text.title[:300],
        task=assignment.task, task_html=assignment.task_html,
        criteria=[{"id": c.id, "text": c.text, "html": c.html} for c in assignment.criteria], submitted_at=now)
    db.session.add(version)
    db.session.flush()
    record_activity(user, course.slug, now=now)
    log_event("assignment_submitted", submission_id=submission.id, version=version.number, course=course.slug,
              lesson=lesson.slug)
    review_mail.submitted(submission, version, user, coach=coach_of(user.id))
    return version


def set_consent(user: User, submission: Submission, consent: bool, *, now: datetime | None = None) -> bool:
    """Change the consent to show approved work on the certificate; recorded (time and audit row) when changed."""
    if submission.user_id != user.id:
        raise WorkRefused("not_yours")
    now = now or utcnow()
    changed = db.session.execute(update(Submission).where(
        Submission.id == submission.id, Submission.show_on_certificate.is_not(consent)).values(
        show_on_certificate=consent, consent_changed_at=now)).rowcount
    db.session.refresh(submission)
    if changed != 1:
        return False
    record(user, "evidence_consent_given" if consent else "evidence_consent_withdrawn", "submission", submission.id,
           course=submission.course_slug, lesson=submission.lesson_slug)
    follow_consent(user.id, submission.course_slug, submission.lesson_slug, consent)
    return True


# --- reviewing --------------------------------------------------------------------------------------------------

def parse_marks(version: SubmissionVersion, form: Mapping[str, Sequence[str]]) -> dict[str, dict[str, Any]]:
    """Read `criterion-<id>` = met | not_met and `comment-<id>` fields against the version's snapshot.

    A mark for a criterion the snapshot does not have is refused (unknown_criterion), as is a criterion left
    unmarked (missing_criterion), a value other than the two, or a comment with control characters.
    """
    ids = [c.get("id") for c in version.criteria or []]
    for name in form:
        if name.startswith(("criterion-", "comment-")) and name.split("-", 1)[1] not in ids:
            raise ReviewError("unknown_criterion")
    marks: dict[str, dict[str, Any]] = {}
    for ident in ids:
        values = list(form.get(f"criterion-{ident}", []))
        if not values:
            raise ReviewError("missing_criterion")
        if len(values) > 1 or values[0] not in ("met", "not_met"):
            raise ReviewError("mark")
        comments = list(form.get(f"comment-{ident}", []))
        if len(comments) > 1:
            raise ReviewError("mark")
        marks[ident] = {"met": values[0] == "met", "comment": _comment(comments[0] if comments else "")}
    return marks


def _comment(value: str | None) -> str:
    """A reviewer's comment as stored (trimmed), or ReviewError."""
    try:
        text = clean_text(value, multiline=True).strip()
    except TextRefused:
        raise ReviewError("text") from None
    if len(text) > MAX_COMMENT:
        raise ReviewError("too_long")
    return text


def version_of(submission: Submission, number: int) -> SubmissionVersion | None:
    """One version of a submission by number."""
    return db.session.scalar(select(SubmissionVersion).where(
        SubmissionVersion.submission_id == submission.id, SubmissionVersion.number == number))


def reviewable_version(reviewer: User, submission: Submission, number: int) -> SubmissionVersion:
    """The version a review form names, when this reviewer may review it now; else ReviewRefused or ReviewError.

    Checked before the form's marks are read, so that "already reviewed" and "your own work" win over a form
    error; `review` checks again under the row's write lock.
    """
    if submission.user_id is None:
        raise ReviewRefused("gone")
    if submission.user_id == reviewer.id:
        raise ReviewRefused("own_work")
    version = version_of(submission, number)
    if version is None:
        raise ReviewError("version")
    if version.state != "waiting":
        raise ReviewRefused("not_waiting")
    return version


def review(reviewer: User, submission: Submission, *, version_number: int, decision: str,
           marks: Mapping[str, Mapping[str, Any]], overall_comment: str | None, cat: Catalog,
           now: datetime | None = None) -> Review:
    """Store the one review of a waiting version; approving completes the lesson (and may issue the certificate,
    in the affiliate's language). A second reviewer of the same version gets ReviewRefused("not_waiting")."""
    now = now or utcnow()
    version = reviewable_version(reviewer, submission, version_number)
    if decision not in DECISIONS:
        raise ReviewError("decision")
    overall = _comment(overall_comment)
    marks = {ident: {"met": bool(mark["met"]), "comment": _comment(mark.get("comment"))}
             for ident, mark in marks.items()}
    if set(marks) != {c.get("id") for c in version.criteria or []}:
        raise ReviewError("missing_criterion")
    new_state = "approved" if decision == "approve" else "revise"
    # The conditional UPDATE is the referee: of two reviewers at once, exactly one changes the row.
    changed = db.session.execute(update(SubmissionVersion).where(
        SubmissionVersion.id == version.id, SubmissionVersion.state == "waiting").values(state=new_state)).rowcount
    if changed != 1:
        raise ReviewRefused("not_waiting")
    met = sum(1 for mark in marks.values() if mark["met"])
    row = Review(version_id=version.id, reviewer_id=reviewer.id, decision=decision, criteria=marks, met=met,
                 total=len(marks), overall_comment=overall, created_at=now)
    db.session.add(row)
    db.session.execute(update(Submission).where(
        Submission.id == submission.id, Submission.state == "waiting",
        Submission.versions_count == version.number).values(
        state=new_state, updated_at=now, approved_at=now if decision == "approve" else None))
    db.session.flush()
    db.session.refresh(submission)
    db.session.refresh(version)
    record(reviewer, "submission_reviewed", "submission", submission.id, user_id=submission.user_id,
           course=submission.course_slug, lesson=submission.lesson_slug, version=version.number, decision=decision,
           met=met, total=len(marks))
    affiliate = db.session.get(User, submission.user_id)
    language = (affiliate.language if affiliate is not None and affiliate.language else None) or version.language
    if decision == "approve" and affiliate is not None:
        _complete_if_done(affiliate, cat, submission, version, language)
    if affiliate is not None:
        review_mail.reviewed(submission, version, row, affiliate, language)
    return row


def _complete_if_done(affiliate: User, cat: Catalog, submission: Submission, version: SubmissionVersion,
                      language: str) -> None:
    """After an approval: complete the lesson when its quiz (if any) is passed too."""
    course = cat.course(submission.course_slug)
    lesson = course.lesson(submission.lesson_slug) if course is not None else None
    if lesson is None or not _quiz_done(affiliate.id, course.slug, lesson):
        return
    mark_complete(affiliate, course, lesson, version.content_hash, language)


def reset(user_id: int, course_slug: str, lesson_slug: str, *, now: datetime | None = None) -> bool:
    """A manager's lesson reset: the assignment returns to "not submitted" (history kept, a waiting version
    leaves the queue) and the affiliate is told by mail. False when there was nothing to reset."""
    now = now or utcnow()
    submission = submission_of(user_id, course_slug, lesson_slug)
    if submission is None or (submission.state == "draft" and not submission.versions_count):
        return False
    lock_row(Submission, submission.id)
    db.session.execute(update(SubmissionVersion).where(
        SubmissionVersion.submission_id == submission.id, SubmissionVersion.state == "waiting").values(
        state="cancelled"))
    db.session.execute(update(Submission).where(Submission.id == submission.id).values(
        state="draft", approved_at=None, reset_at=now, updated_at=now))
    db.session.refresh(submission)
    affiliate = db.session.get(User, user_id)
    if affiliate is not None:
        review_mail.reset(submission, affiliate)
    return True
