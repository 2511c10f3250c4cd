"""What the pages show of assignments: a person's work with every version and its feedback (lesson page),
the review page, the affiliate's list of work, and the assignment states of the manager's pages."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from ..content import Catalog
from ..extensions import db
from ..models import Review, Submission, SubmissionVersion, User
from .coaches import coach_of
from .coaching import EDITABLE, submission_of


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


# --- the progress matrix ----------------------------------------------------------------------------------------

def waiting_work(user_ids: Sequence[int], course_slug: str) -> dict[tuple[int, str], str]:
    """(user, lesson) -> waiting or revise, for a page of the progress matrix."""
    if not user_ids:
        return {}
    return {(uid, lsn): state for uid, lsn, state in db.session.execute(
        select(Submission.user_id, Submission.lesson_slug, Submission.state).where(
            Submission.user_id.in_(list(user_ids)), Submission.course_slug == course_slug,
            or_(Submission.state == "waiting", Submission.state == "revise")))}
