"""Coaching: assignment submissions and their reviews (the state machine), coaches, the review queue and its
figures, and the approved work a certificate may show as evidence.

One submission per person and lesson moves through

    draft --submit--> waiting --approve--> approved --manager's reset--> draft
                         \\--revise--> revise --submit--> waiting ...

Every submit adds a version that keeps a snapshot of the task and criteria it answered; each version is
reviewed exactly once (a conditional UPDATE decides between two reviewers, on SQLite and PostgreSQL alike).
A lesson with an assignment is complete when its quiz is passed (if it has one) and its assignment approved.
Functions add and flush; the caller commits.
"""
from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from ..content import Catalog, Course, Lesson, LessonText
from ..extensions import db
from ..logs import log_event
from ..models import (
    DECISIONS,
    NOTIFY_CHOICES,
    Coach,
    QuizAttempt,
    Review,
    ReviewSettings,
    Submission,
    SubmissionVersion,
    User,
    iso_utc,
    utcnow,
)
from ..usertext import TextRefused, clean_text, is_web_url
from . import review_mail
from .audit import record
from .db import insert_ignore, lock_row, microseconds_between
from .evidence import approved_work, follow_consent
from .paging import MAX_PER_PAGE, Page, clamp_page
from .progress import mark_complete, record_activity

MAX_COMMENT = 5000
EDITABLE = ("draft", "revise")
FIGURE_DAYS = 30


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


class ActionError(ValueError):
    """A coach or mail-setting change a rule forbids: not_manager, self_coach, no_people, notify."""

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


@dataclass(frozen=True)
class CriterionResult:
    """One criterion of a reviewed version: its text (from the snapshot), met or not, the comment."""

    id: str
    html: str
    met: bool | None
    comment: str


@dataclass(frozen=True)
class VersionView:
    """One version with its review (None while waiting) and the criteria results against its snapshot."""

    version: SubmissionVersion
    review: Review | None
    reviewer_name: str | None
    results: list[CriterionResult]

    @property
    def number(self) -> int:
        """The version number (1, 2, ...)."""
        return self.version.number


def _results(version: SubmissionVersion, review: Review | None) -> list[CriterionResult]:
    """The snapshot's criteria with the review's marks (None: not reviewed)."""
    marks = (review.criteria if review is not None else {}) or {}
    out = []
    for criterion in version.criteria or []:
        mark = marks.get(criterion.get("id"), {})
        out.append(CriterionResult(criterion.get("id", ""), criterion.get("html", ""),
                                   mark.get("met") if review is not None else None, mark.get("comment", "")))
    return out


def version_views(submission: Submission) -> list[VersionView]:
    """Every version of a submission, newest first, each with its review (two queries)."""
    reviewer = aliased(User)
    rows = db.session.execute(
        select(SubmissionVersion, Review, reviewer.name).outerjoin(Review, Review.version_id == SubmissionVersion.id)
        .outerjoin(reviewer, reviewer.id == Review.reviewer_id)
        .where(SubmissionVersion.submission_id == submission.id).order_by(SubmissionVersion.number.desc())).all()
    return [VersionView(version, review, name, _results(version, review)) for version, review, name in rows]


@dataclass(frozen=True)
class Work:
    """A person's assignment on a lesson page: the state, the draft, and every version with its feedback."""

    submission: Submission | None
    versions: list[VersionView]

    @property
    def state(self) -> str:
        """draft (also: nothing yet), waiting, revise or approved."""
        return self.submission.state if self.submission is not None else "draft"

    @property
    def editable(self) -> bool:
        """True when a draft may be saved or a version submitted."""
        return self.state in EDITABLE

    @property
    def latest(self) -> VersionView | None:
        """The newest version, if any."""
        return self.versions[0] if self.versions else None

    @property
    def draft_answer(self) -> str:
        """The saved draft, else (after "needs revision") the latest version's text to revise from."""
        if self.submission is not None and self.submission.draft_answer is not None:
            return self.submission.draft_answer
        if self.state == "revise" and self.latest is not None:
            return self.latest.version.answer
        return ""

    @property
    def draft_link(self) -> str:
        """The saved draft link, else the latest version's link while revising."""
        if self.submission is not None and self.submission.draft_link is not None:
            return self.submission.draft_link
        if self.state == "revise" and self.latest is not None:
            return self.latest.version.link or ""
        return ""

    @property
    def was_reset(self) -> bool:
        """True when a manager returned this assignment to "not submitted" (the page says so)."""
        return self.submission is not None and self.state == "draft" and self.submission.reset_at is not None


def work_of(user_id: int, course_slug: str, lesson_slug: str) -> Work:
    """The lesson page's view of a person's assignment."""
    submission = submission_of(user_id, course_slug, lesson_slug)
    return Work(submission, version_views(submission) if submission is not None else [])


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


# --- coaches and mail settings ----------------------------------------------------------------------------------

def active_managers() -> list[User]:
    """Every active manager, by name."""
    return list(db.session.scalars(select(User).where(User.role == "manager", User.active.is_(True))
                                   .order_by(User.name, User.id)))


def coach_of(user_id: int) -> User | None:
    """The person's coach (whatever their state now), or None."""
    return db.session.scalar(select(User).join(Coach, Coach.coach_id == User.id).where(Coach.user_id == user_id))


def set_coach(actor: User, user: User, coach: User | None) -> bool:
    """Make `coach` (an active manager, not the person) the person's coach, or remove the coach; False when
    nothing changed. Refused: not_manager, self_coach."""
    if coach is not None:
        if coach.role != "manager" or not coach.active:
            raise ActionError("not_manager")
        if coach.id == user.id:
            raise ActionError("self_coach")
    current = db.session.scalar(select(Coach).where(Coach.user_id == user.id))
    if (current.coach_id if current else None) == (coach.id if coach else None):
        return False
    if coach is None:
        db.session.delete(current)
    elif current is None:
        db.session.add(Coach(user_id=user.id, coach_id=coach.id))
    else:
        current.coach_id, current.assigned_at = coach.id, utcnow()
    db.session.flush()
    record(actor, "coach_set" if coach else "coach_removed", "user", user.id,
           coach_id=coach.id if coach else None)
    return True


def set_coach_bulk(actor: User, user_ids: Sequence[int], coach: User | None) -> int:
    """Set (or remove) the coach of several people at once; returns how many changed. Unknown ids are skipped."""
    people = list(db.session.scalars(select(User).where(User.id.in_(list(user_ids)))))
    if not people:
        raise ActionError("no_people")
    return sum(1 for person in people if (coach is None or person.id != coach.id) and set_coach(actor, person, coach))


def notify_setting(user_id: int) -> str:
    """A manager's review mail choice: each (the default), daily or off."""
    return review_mail.notify_choice(user_id)


def set_notify(user: User, choice: str) -> None:
    """Store a manager's review mail choice (each, daily, off)."""
    if choice not in NOTIFY_CHOICES:
        raise ActionError("notify")
    row = db.session.scalar(select(ReviewSettings).where(ReviewSettings.user_id == user.id))
    if row is None:
        db.session.add(ReviewSettings(user_id=user.id, notify=choice, last_digest_at=utcnow()))
    else:
        row.notify = choice
    db.session.flush()


# --- the queue and its figures ----------------------------------------------------------------------------------

SCOPES = ("mine", "all")


@dataclass(frozen=True)
class QueueItem:
    """One submission waiting for review."""

    submission_id: int
    user_id: int
    name: str
    email: str
    course_slug: str
    lesson_slug: str
    version: int
    submitted_at: datetime
    waiting: timedelta
    coach_name: str | None
    own: bool


def _queue_conditions(manager: User, scope: str, course_slug: str) -> list[Any]:
    """WHERE of the queue: waiting, the person still exists, mine (my affiliates) or all, one course or all."""
    conditions: list[Any] = [Submission.state == "waiting", Submission.user_id.is_not(None)]
    if scope == "mine":
        conditions.append(Coach.coach_id == manager.id)
    if course_slug:
        conditions.append(Submission.course_slug == course_slug)
    return conditions


def queue(manager: User, *, scope: str = "all", course_slug: str = "", page: int = 1, per_page: int = 50,
          now: datetime | None = None) -> Page:
    """One page of the waiting submissions, oldest first (two queries on the (state, submitted_at) index)."""
    now = now or utcnow()
    scope = scope if scope in SCOPES else "all"
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    coach_user = aliased(User)
    conditions = _queue_conditions(manager, scope, course_slug)
    base = select(Submission).join(User, User.id == Submission.user_id).outerjoin(Coach, Coach.user_id == User.id)
    total = db.session.scalar(base.with_only_columns(func.count()).where(*conditions)) or 0
    page = clamp_page(page, per_page, total)
    rows = db.session.execute(
        base.with_only_columns(Submission.id, Submission.user_id, User.name, User.email, Submission.course_slug,
                               Submission.lesson_slug, Submission.versions_count, Submission.submitted_at,
                               coach_user.name)
        .outerjoin(coach_user, coach_user.id == Coach.coach_id).where(*conditions)
        .order_by(Submission.submitted_at, Submission.id).limit(per_page).offset((page - 1) * per_page)).all()
    items = [QueueItem(sid, uid, name, email, course, lesson, number, submitted, max(timedelta(0), now - submitted),
                       coach, uid == manager.id)
             for sid, uid, name, email, course, lesson, number, submitted, coach in rows]
    return Page(items, page, per_page, total)


def waiting_count() -> int:
    """How many submissions wait for review (the number in the manager navigation)."""
    return db.session.scalar(select(func.count()).select_from(Submission).where(
        Submission.state == "waiting", Submission.user_id.is_not(None))) or 0


def mine_count(manager: User) -> int:
    """How many of my affiliates' submissions wait for review."""
    return db.session.scalar(select(func.count()).select_from(Submission).join(Coach, Coach.user_id ==
                                                                                Submission.user_id)
                             .where(Submission.state == "waiting", Coach.coach_id == manager.id)) or 0


@dataclass(frozen=True)
class ReviewFigures:
    """The manager overview's review figures."""

    waiting: int
    oldest_id: int | None
    oldest_at: datetime | None
    median_first_review: timedelta | None  # over the versions reviewed in the last FIGURE_DAYS days
    reviewed: int
    days: int = FIGURE_DAYS


def review_figures(*, now: datetime | None = None, days: int = FIGURE_DAYS) -> ReviewFigures:
    """Queue length, the oldest waiting submission, and the median time from submission to its review.

    The median is found in SQL (count the reviews, then read the one or two in the middle, ordered by their
    exact wait), so the overview reads two rows however many versions were reviewed."""
    now = now or utcnow()
    oldest = db.session.execute(select(Submission.id, Submission.submitted_at).where(
        Submission.state == "waiting", Submission.user_id.is_not(None))
        .order_by(Submission.submitted_at, Submission.id).limit(1)).first()
    recent = Review.created_at >= now - timedelta(days=days)
    # Every review has its version (a NOT NULL foreign key; a version's deletion takes its review along).
    count = db.session.scalar(select(func.count()).select_from(Review).where(recent)) or 0
    reviewed = (select(SubmissionVersion.submitted_at, Review.created_at)
                .join(Review, Review.version_id == SubmissionVersion.id).where(recent))
    median = None
    if count:
        wait = microseconds_between(SubmissionVersion.submitted_at, Review.created_at)
        middle = db.session.execute(reviewed.order_by(wait, Review.id).offset((count - 1) // 2)
                                    .limit(2 - count % 2)).all()
        median = statistics.median(reviewed_at - submitted_at for submitted_at, reviewed_at in middle)
    return ReviewFigures(waiting_count(), oldest[0] if oldest else None, oldest[1] if oldest else None,
                         median, count, days)


# --- the review page --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewPage:
    """Everything the review page shows about one submission."""

    submission: Submission
    person: User
    coach: User | None
    current: VersionView | None  # the waiting version, else the latest one
    earlier: list[VersionView]
    own: bool

    @property
    def reviewable(self) -> bool:
        """True when the current version waits and the reader may review it."""
        return self.current is not None and self.current.version.state == "waiting" and not self.own


def review_page(reader: User, submission: Submission) -> ReviewPage:
    """The review page's data (the person, the coach, the versions with their feedback)."""
    versions = version_views(submission)
    person = db.session.get(User, submission.user_id)
    assert person is not None
    current = versions[0] if versions else None
    return ReviewPage(submission, person, coach_of(person.id), current, versions[1:], person.id == reader.id)


# --- the affiliate's dashboard ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkItem:
    """One of my assignments on the dashboard."""

    submission_id: int
    course_slug: str
    lesson_slug: str
    title: str
    state: str
    version: int
    submitted_at: datetime | None
    approved_at: datetime | None
    consent: bool
    exists: bool  # the lesson is still in the catalog


def my_work(user_id: int, cat: Catalog, lang: str) -> list[WorkItem]:
    """My submitted assignments (waiting, needing revision, approved), oldest submission first."""
    rows = db.session.execute(select(Submission, SubmissionVersion.lesson_title).outerjoin(
        SubmissionVersion, and_(SubmissionVersion.submission_id == Submission.id,
                                SubmissionVersion.number == Submission.versions_count))
        .where(Submission.user_id == user_id, Submission.state.in_(("waiting", "revise", "approved")))
        .order_by(Submission.submitted_at, Submission.id)).all()
    items = []
    for submission, snapshot_title in rows:
        course = cat.course(submission.course_slug)
        lesson = course.lesson(submission.lesson_slug) if course is not None else None
        title = lesson.text(lang)[0].title if lesson is not None else (snapshot_title or submission.lesson_slug)
        items.append(WorkItem(submission.id, submission.course_slug, submission.lesson_slug, title, submission.state,
                              submission.versions_count, submission.submitted_at, submission.approved_at,
                              submission.show_on_certificate, lesson is not None))
    return items


@dataclass(frozen=True)
class WorkState:
    """A submission's id and state (the manager's affiliate page links it)."""

    id: int
    state: str


def work_states(user_id: int) -> dict[tuple[str, str], WorkState]:
    """(course, lesson) -> the assignment state of one person."""
    return {(c, lsn): WorkState(sid, state) for sid, c, lsn, state in db.session.execute(
        select(Submission.id, Submission.course_slug, Submission.lesson_slug, Submission.state).where(
            Submission.user_id == user_id))}


# --- evidence for the certificate -------------------------------------------------------------------------------

def approved_evidence(user_id: int, course: Course, language: str | None = None, *,
                      with_answer: bool = False) -> list[dict[str, Any]]:
    """The course's approved assignments of one person, in course order (the records `evidence.approved_work`
    freezes on the certificate), as dicts: name, task, reviewer_comment, approved_at (ISO 8601 UTC), consent;
    `with_answer` adds answer and link."""
    items = []
    for work in approved_work(user_id, course, language):
        item = {"name": work.name, "task": work.task, "reviewer_comment": work.reviewer_comment,
                "approved_at": iso_utc(work.approved_at), "consent": work.consent}
        if with_answer:
            item.update(answer=work.text, link=work.link)
        items.append(item)
    return items


def certificate_evidence(user_id: int, course: Course, language: str | None = None
                         ) -> tuple[list[dict[str, Any]], list[str]]:
    """(evidence items with consent, names of approved assignments without consent)."""
    items = approved_evidence(user_id, course, language)
    return [item for item in items if item["consent"]], [item["name"] for item in items if not item["consent"]]


# --- the progress matrix ----------------------------------------------------------------------------------------

def waiting_work(user_ids: Sequence[int], course_slug: str) -> dict[tuple[int, str], str]:
    """(user, lesson) -> waiting or revise, for a page of the progress matrix."""
    if not user_ids:
        return {}
    return {(uid, lsn): state for uid, lsn, state in db.session.execute(
        select(Submission.user_id, Submission.lesson_slug, Submission.state).where(
            Submission.user_id.in_(list(user_ids)), Submission.course_slug == course_slug,
            or_(Submission.state == "waiting", Submission.state == "revise")))}
