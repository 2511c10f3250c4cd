"""The submission and review state machine, without HTTP: draft -> waiting -> approved / revise -> waiting ..."""
from __future__ import annotations

import shutil
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from coaching.extensions import db
from coaching.models import Certificate, LessonProgress, Review, Submission, SubmissionVersion, User, utcnow
from coaching.services import (
    assignment_views,
    catalog,
    certificates,
    coaches,
    coaching,
    evidence,
    progress,
    quizzes,
    review_queue,
)
from tests.coaching.conftest import ANSWER, COACHING_CONTENT, outbox


@pytest.fixture
def people(desk: Any) -> dict[str, int]:
    """An affiliate (German), a manager who reviews, and a second manager."""
    return {"aff": desk.user("Alex Affiliate", language="de"), "boss": desk.user("Maria Manager", role="manager"),
            "other": desk.user("Otto Manager", role="manager")}


def _user(user_id: int) -> User:
    """A user row in the current session."""
    return db.session.get(User, user_id)


def test_draft_then_submit_keeps_a_snapshot(app, desk, people):
    """A draft may be empty and saved again; submitting makes version 1 with the task and criteria answered."""
    with app.app_context():
        course, lesson, text = desk.lesson()
        user = _user(people["aff"])
        submission = coaching.save_draft(user, course, lesson, text, answer="", link=None, consent=False)
        assert submission.state == "draft" and submission.draft_answer == ""
        coaching.save_draft(user, course, lesson, text, answer="first try", link=None, consent=True)
        db.session.commit()
        assert assignment_views.work_of(user.id, "pitch", "headline").draft_answer == "first try"
        version = coaching.submit(user, course, lesson, text, answer=ANSWER, link=None, consent=True, language="de")
        db.session.commit()
        submission = coaching.submission_of(user.id, "pitch", "headline")
        assert submission.state == "waiting" and submission.draft_answer is None and submission.show_on_certificate
        assert version.number == 1 and version.answer == ANSWER and version.state == "waiting"
        assert version.task == text.assignment.task and version.task_html == text.assignment.task_html
        assert [c["id"] for c in version.criteria] == [c.id for c in text.assignment.criteria]
        assert version.language == "de" and version.content_hash == text.content_hash


def test_waiting_is_locked(app, desk, people):
    """While a version waits, neither a draft nor another version is accepted; nothing changes."""
    desk.submit(people["aff"])
    with app.app_context():
        course, lesson, text = desk.lesson()
        user = _user(people["aff"])
        for call in (lambda: coaching.save_draft(user, course, lesson, text, answer="x", link=None, consent=False),
                     lambda: coaching.submit(user, course, lesson, text, answer="x", link=None, consent=False,
                                             language="en")):
            with pytest.raises(coaching.WorkRefused) as refused:
                call()
            assert refused.value.code == "waiting"
            db.session.rollback()
    assert desk.versions() == 1 and desk.state(people["aff"]) == "waiting"


def test_revise_then_approve(app, desk, people):
    """revise -> submit again (version 2, keeping version 1 and its feedback) -> approve completes the lesson."""
    desk.submit(people["aff"], "version one")
    desk.review(people["boss"], people["aff"], "revise", met=False, comment="Name a benefit.")
    assert desk.state(people["aff"]) == "revise"
    with app.app_context():
        work = assignment_views.work_of(people["aff"], "pitch", "headline")
        assert work.editable and work.draft_answer == "version one"  # revising starts from the last text
        assert work.latest.review.decision == "revise" and work.latest.review.overall_comment == "Name a benefit."
        assert [r.met for r in work.latest.results] == [False, False, False]
    assert desk.submit(people["aff"], "version two") == 2
    desk.review(people["boss"], people["aff"], "approve")
    assert desk.state(people["aff"]) == "approved"
    with app.app_context():
        views = assignment_views.version_views(coaching.submission_of(people["aff"], "pitch", "headline"))
        assert [(v.number, v.version.state, v.review.decision) for v in views] == [(2, "approved", "approve"),
                                                                                   (1, "revise", "revise")]
        assert progress.completed_slugs(people["aff"], "pitch") == {"headline"}
        with pytest.raises(coaching.WorkRefused) as refused:
            course, lesson, text = desk.lesson()
            coaching.submit(_user(people["aff"]), course, lesson, text, answer="more", link=None, consent=False,
                            language="en")
        assert refused.value.code == "approved"


def test_second_review_of_a_version_changes_nothing(app, desk, people):
    """Exactly once: a second review of the same version is refused as not waiting; one review row stays."""
    desk.submit(people["aff"])
    desk.review(people["boss"], people["aff"], "revise")
    with pytest.raises(coaching.ReviewRefused) as refused:
        desk.review(people["other"], people["aff"], "approve", version=1)
    assert refused.value.code == "not_waiting"
    assert desk.reviews() == 1 and desk.state(people["aff"]) == "revise"


def test_nobody_reviews_their_own_work(app, desk, people):
    """A manager taking the course needs another manager."""
    desk.submit(people["boss"])
    with pytest.raises(coaching.ReviewRefused) as refused:
        desk.review(people["boss"], people["boss"])
    assert refused.value.code == "own_work" and desk.reviews() == 0
    desk.review(people["other"], people["boss"])
    assert desk.state(people["boss"]) == "approved"


@pytest.mark.parametrize(("answer", "link", "code"), [
    ("", None, "empty"), ("   \n ", None, "empty"), ("x" * 5001, None, "too_long"),
    ("bad\x00byte", None, "text"), ("bell\x07", None, "text"), ("lone \ud800 surrogate", None, "text"),
    ("replacement \ufffd char", None, "text")])
def test_bad_answers_store_nothing(app, desk, people, answer, link, code):
    """Empty, too long, control characters, lone surrogates, broken encoding: WorkError, no row."""
    with app.app_context():
        course, lesson, text = desk.lesson()
        with pytest.raises(coaching.WorkError) as error:
            coaching.submit(_user(people["aff"]), course, lesson, text, answer=answer, link=link, consent=False,
                            language="en")
        assert error.value.code == code
    assert desk.submissions() == 0 and desk.versions() == 0


@pytest.mark.parametrize(("link", "code"), [
    ("", "link_missing"), ("javascript:alert(1)", "link"), ("ftp://example.com/x", "link"), ("example.com", "link"),
    ("https://", "link"), ("https://exa mple.com", "link"), ("https://example.com:99999/", "link"),
    ("https://example.com/" + "a" * 2000, "link")])
def test_bad_links_store_nothing(app, desk, people, link, code):
    """A `text+link` lesson needs an http(s) address on submit; anything else is refused."""
    with app.app_context():
        course, lesson, text = desk.lesson("landing")
        with pytest.raises(coaching.WorkError) as error:
            coaching.submit(_user(people["aff"]), course, lesson, text, answer="My page.", link=link, consent=False,
                            language="en")
        assert error.value.code == code
    assert desk.submissions() == 0


def test_max_length_of_the_lesson(app, desk, people):
    """`max_length: 300` allows 300 characters and refuses 301 (line endings counted as one)."""
    assert desk.submit(people["aff"], "x" * 298 + "\r\n" + "y", slug="landing", link="https://shop.example/trail")
    with app.app_context():
        course, lesson, text = desk.lesson("landing")
        with pytest.raises(coaching.WorkError):
            coaching.check_work(text, "x" * 301, "https://shop.example", submit=True)


def test_lesson_without_assignment(app, desk, people):
    """check_work on a lesson text without an assignment: no_assignment."""
    with app.app_context():
        _course, _lesson, text = desk.lesson()
        from dataclasses import replace

        with pytest.raises(coaching.WorkError) as error:
            coaching.check_work(replace(text, assignment=None), "x", None, submit=True)
        assert error.value.code == "no_assignment"


@pytest.mark.parametrize(("decision", "marks", "code"), [
    ("maybe", None, "decision"), ("", None, "decision"), ("approve", {"c-0000000000": True}, "missing_criterion")])
def test_bad_reviews_store_nothing(app, desk, people, decision, marks, code):
    """A decision other than the two, marks that do not match the snapshot: ReviewError, no review."""
    desk.submit(people["aff"])
    with app.app_context():
        submission = coaching.submission_of(people["aff"], "pitch", "headline")
        version = coaching.version_of(submission, 1)
        given = {k: {"met": v} for k, v in marks.items()} if marks else {c["id"]: {"met": True}
                                                                         for c in version.criteria}
        with pytest.raises(coaching.ReviewError) as error:
            coaching.review(_user(people["boss"]), submission, version_number=1, decision=decision, marks=given,
                            overall_comment="", cat=catalog.catalog())
        assert error.value.code == code
        db.session.rollback()
    assert desk.reviews() == 0 and desk.state(people["aff"]) == "waiting"


def test_parse_marks(app, desk, people):
    """Form marks: met / not_met per snapshot criterion with optional comments; unknown ids and odd values refused."""
    desk.submit(people["aff"])
    with app.app_context():
        version = coaching.version_of(coaching.submission_of(people["aff"], "pitch", "headline"), 1)
        ids = [c["id"] for c in version.criteria]
        form = {f"criterion-{ids[0]}": ["met"], f"criterion-{ids[1]}": ["not_met"], f"criterion-{ids[2]}": ["met"],
                f"comment-{ids[1]}": ["  Say what happens.  "]}
        marks = coaching.parse_marks(version, form)
        assert marks[ids[1]] == {"met": False, "comment": "Say what happens."} and marks[ids[0]]["met"]
        for bad, code in ((dict(form, **{"criterion-c-ffffffffff": ["met"]}), "unknown_criterion"),
                          (dict(form, **{"comment-nonsense": ["x"]}), "unknown_criterion"),
                          ({k: v for k, v in form.items() if k != f"criterion-{ids[2]}"}, "missing_criterion"),
                          (dict(form, **{f"criterion-{ids[0]}": ["yes"]}), "mark"),
                          (dict(form, **{f"criterion-{ids[0]}": ["met", "not_met"]}), "mark"),
                          (dict(form, **{f"comment-{ids[0]}": ["x" * 5001]}), "too_long"),
                          (dict(form, **{f"comment-{ids[0]}": ["nul\x00"]}), "text")):
            with pytest.raises(coaching.ReviewError) as error:
                coaching.parse_marks(version, bad)
            assert error.value.code == code


def test_quiz_and_assignment_both_needed(app, desk, people):
    """A lesson with quiz and assignment: the quiz pass alone no longer completes it, nor the approval alone."""
    aff = people["aff"]
    desk.submit(aff, "My page.", slug="landing", link="https://shop.example/trail")
    desk.review(people["boss"], aff, slug="landing")
    with app.app_context():
        assert "landing" not in progress.completed_slugs(aff, "pitch")  # approved, quiz not passed
        course, lesson, text = desk.lesson("landing")
        question = text.quiz.questions[0]
        right = next(o.id for o in question.options if o.correct)
        quizzes.submit_quiz(_user(aff), course, lesson, text, {question.id: [right]}, "s1", "de")
        db.session.commit()
        assert "landing" in progress.completed_slugs(aff, "pitch")


def test_quiz_first_then_approval(app, desk, people):
    """Passing the quiz first leaves the lesson open; the approval then completes it."""
    aff = people["aff"]
    with app.app_context():
        course, lesson, text = desk.lesson("landing")
        question = text.quiz.questions[0]
        right = next(o.id for o in question.options if o.correct)
        attempt, _new = quizzes.submit_quiz(_user(aff), course, lesson, text, {question.id: [right]}, "s1", "en")
        db.session.commit()
        assert attempt.passed and "landing" not in progress.completed_slugs(aff, "pitch")
    desk.submit(aff, "My page.", slug="landing", link="https://shop.example/trail")
    desk.review(people["boss"], aff, slug="landing")
    with app.app_context():
        assert "landing" in progress.completed_slugs(aff, "pitch")


def test_approval_issues_the_certificate_once_in_the_affiliates_language(app, desk, people):
    """The last approval completes the course: one certificate, in German (the affiliate's), not the reviewer's."""
    aff = people["aff"]
    desk.submit(aff)
    desk.review(people["boss"], aff)
    with app.app_context():
        course, lesson, text = desk.lesson("landing")
        question = text.quiz.questions[0]
        quizzes.submit_quiz(_user(aff), course, lesson, text,
                            {question.id: [next(o.id for o in question.options if o.correct)]}, "s1", "en")
        db.session.commit()
        assert certificates.current_certificate(aff, "pitch") is None
    desk.submit(aff, "My page.", slug="landing", link="https://shop.example/trail")
    desk.review(people["other"], aff, slug="landing")
    with app.app_context():
        [cert] = db.session.scalars(select(Certificate).where(Certificate.user_id == aff)).all()
        assert cert.language == "de" and cert.certificate_title == "Teilnahmezertifikat – Pitch-Übung"


def test_language_of_the_submission_when_the_profile_has_none(app, desk, people):
    """Without a profile language, the certificate follows the language the work was submitted in."""
    aff = desk.user("Nora Nolang")
    with app.app_context():
        _user(people["boss"]).language = "en"
        db.session.commit()
    desk.submit(aff, lang="de")
    desk.review(people["boss"], aff)
    with app.app_context():
        course, lesson, text = desk.lesson("landing")
        question = text.quiz.questions[0]
        quizzes.submit_quiz(_user(aff), course, lesson, text,
                            {question.id: [next(o.id for o in question.options if o.correct)]}, "s1", "de")
        db.session.commit()
    desk.submit(aff, "Meine Seite.", slug="landing", link="https://shop.example/trail", lang="de")
    desk.review(people["boss"], aff, slug="landing")
    with app.app_context():
        assert certificates.current_certificate(aff, "pitch").language == "de"


def test_reset_returns_to_not_submitted_and_says_so(app, desk, people):
    """A manager's reset: progress forgotten, the assignment open again (history kept), the affiliate mailed."""
    from coaching.services import management

    aff = people["aff"]
    desk.submit(aff)
    desk.review(people["boss"], aff)
    outbox(app).clear()
    with app.app_context():
        course, lesson, _text = desk.lesson()
        assert management.reset_lesson(_user(people["boss"]), _user(aff), course, lesson) is True
        db.session.commit()
        work = assignment_views.work_of(aff, "pitch", "headline")
        assert work.state == "draft" and work.was_reset and work.editable and len(work.versions) == 1
        assert "headline" not in progress.completed_slugs(aff, "pitch")
    [mail] = outbox(app)
    assert mail["to"].endswith("@example.com") and "Überschrift" in mail["subject"]  # German: the affiliate's
    assert desk.audit("lesson_reset")[-1]["assignment"] is True
    assert desk.submit(aff, "again") == 2 and desk.state(aff) == "waiting"


def test_reset_while_waiting_takes_the_version_out_of_the_queue(app, desk, people):
    """A waiting version is cancelled by a reset: it leaves the queue and can no longer be reviewed."""
    from coaching.services import management

    desk.submit(people["aff"])
    with app.app_context():
        course, lesson, _text = desk.lesson()
        management.reset_lesson(_user(people["boss"]), _user(people["aff"]), course, lesson)
        db.session.commit()
        assert review_queue.waiting_count() == 0
    with pytest.raises(coaching.ReviewRefused):
        desk.review(people["boss"], people["aff"], version=1)


def test_reset_of_a_lesson_without_work(app, desk, people):
    """Resetting a lesson nobody submitted for changes no assignment and sends no mail."""
    from coaching.services import management

    with app.app_context():
        course, lesson, _text = desk.lesson()
        assert management.reset_lesson(_user(people["boss"]), _user(people["aff"]), course, lesson) is False
    assert outbox(app) == []


def test_approval_survives_lesson_edits(app_factory, tmp_path, desk):
    """A version is reviewed against its snapshot; a later edit of the task leaves the approved work as it was."""
    content = tmp_path / "content"
    shutil.copytree(COACHING_CONTENT, content)
    app = app_factory(CONTENT_DIR=str(content))
    desk = type(desk)(app)
    aff, boss = desk.user(), desk.user("Maria Manager", role="manager")
    desk.submit(aff)
    path = content / "pitch" / "01-headline.md"
    path.write_text(path.read_text().replace("the **Trail 2** tent", "the Summit 4 tent").replace(
        "- The text is labelled as advertising\n", ""), encoding="utf-8")
    with app.app_context():
        app.extensions["coaching.content"].reload(force=True)
        assert len(desk.lesson()[2].assignment.criteria) == 2
    desk.review(boss, aff)  # three criteria marked: the snapshot's
    with app.app_context():
        [item] = evidence.approved_evidence(aff, catalog.catalog().course("pitch"))
        assert "Trail 2" in item["task"] and "Summit" not in item["task"]


def test_adding_an_assignment_later_keeps_completions(app_factory, tmp_path, desk):
    """A lesson completed before it had an assignment stays complete; its certificate stays."""
    content = tmp_path / "content"
    shutil.copytree(COACHING_CONTENT, content)
    (content / "pitch" / "02-landing.md").unlink()
    headline = content / "pitch" / "01-headline.md"
    with_assignment = headline.read_text()
    headline.write_text(with_assignment.split("## Assignment")[0], encoding="utf-8")
    (content / "pitch" / "01-headline.de.md").unlink()
    app = app_factory(CONTENT_DIR=str(content))
    desk = type(desk)(app)
    aff = desk.user()
    with app.app_context():
        course, lesson, text = desk.lesson()
        assert text.assignment is None
        progress.mark_complete(_user(aff), course, lesson, text.content_hash, "en")
        db.session.commit()
        cert_id = certificates.current_certificate(aff, "pitch").id
    headline.write_text(with_assignment, encoding="utf-8")
    with app.app_context():
        app.extensions["coaching.content"].reload(force=True)
        course = catalog.catalog().course("pitch")
        assert coaching.assignment_of(course.lesson("headline")) is not None
        assert progress.course_status(aff, course).completed
        assert certificates.current_certificate(aff, "pitch").id == cert_id


def test_evidence_contract(app, desk, people):
    """approved_evidence: name, task, reviewer_comment, approved_at, consent per approved assignment, course order."""
    aff = people["aff"]
    desk.submit(aff, "My page.", slug="landing", link="https://shop.example/trail", consent=True)
    desk.review(people["boss"], aff, slug="landing", comment="Keeps the promise.")
    desk.submit(aff)
    desk.review(people["boss"], aff, "revise", comment="Not yet.")
    desk.submit(aff, "Second version")
    desk.review(people["boss"], aff, comment="Now it names a benefit.")
    with app.app_context():
        course = catalog.catalog().course("pitch")
        items = evidence.approved_evidence(aff, course, "de")
        assert [set(i) for i in items] == [{"name", "task", "reviewer_comment", "approved_at", "consent"}] * 2
        first, second = items
        assert first["name"] == "Überschrift" and first["reviewer_comment"] == "Now it names a benefit."
        assert first["consent"] is False and first["task"].startswith("Write a headline")
        assert second["name"] == "Landing page" and second["consent"] is True
        assert first["approved_at"].endswith("+00:00") and "T" in first["approved_at"]
        shown, named = evidence.certificate_evidence(aff, course)
        assert [i["name"] for i in shown] == ["Landing page"] and named == ["Headline"]
        [with_text, _] = evidence.approved_evidence(aff, course, with_answer=True)
        assert with_text["answer"] == "Second version" and with_text["link"] is None


def test_consent_change_is_recorded(app, desk, people):
    """Withdrawing and giving consent: the time and an audit row each (no row when nothing changed)."""
    aff = people["aff"]
    desk.submit(aff, consent=True)
    desk.review(people["boss"], aff)
    with app.app_context():
        submission = coaching.submission_of(aff, "pitch", "headline")
        assert coaching.set_consent(_user(aff), submission, False) is True
        assert coaching.set_consent(_user(aff), submission, False) is False
        db.session.commit()
        assert submission.consent_changed_at is not None and not submission.show_on_certificate
        with pytest.raises(coaching.WorkRefused):
            coaching.set_consent(_user(people["boss"]), submission, True)
    assert [d["lesson"] for d in desk.audit("evidence_consent_withdrawn")] == ["headline"]


def test_queue_order_filters_and_deleted_people(app, desk, people):
    """Oldest first; mine = my affiliates; one course; a deleted affiliate's work leaves the queue."""
    from coaching.services import privacy

    second = desk.user("Bea Second")
    third = desk.user("Cem Third")
    desk.submit(second)
    desk.submit(people["aff"], slug="landing", link="https://shop.example/a")
    desk.submit(third)
    with app.app_context():
        rows = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        for shift, row in zip((3, 2, 1), rows):
            row.submitted_at = utcnow() - timedelta(days=shift)
        boss = _user(people["boss"])
        coaches.set_coach(boss, _user(third), boss)
        db.session.commit()
        names = lambda page: [item.name for item in page.items]  # noqa: E731
        assert names(review_queue.queue(boss)) == ["Bea Second", "Alex Affiliate", "Cem Third"]
        assert names(review_queue.queue(boss, scope="mine")) == ["Cem Third"]
        assert names(review_queue.queue(boss, course_slug="nope")) == []
        page = review_queue.queue(boss, per_page=2, page=2)
        assert page.total == 3 and names(page) == ["Cem Third"] and page.items[0].waiting >= timedelta(hours=23)
        privacy.delete_account(_user(second), actor=None, withdraw_certificates=False, via="self")
        db.session.commit()
        assert names(review_queue.queue(boss)) == ["Alex Affiliate", "Cem Third"] and review_queue.waiting_count() == 2


def test_review_figures(app, desk, people):
    """Queue length, the oldest waiting submission, the median time to review over 30 days."""
    others = [desk.user(f"P{i}") for i in range(3)]
    for person in others:
        desk.submit(person)
    desk.submit(people["aff"])
    with app.app_context():
        for hours, person in zip((2, 4, 9), others):
            submission = coaching.submission_of(person, "pitch", "headline")
            submission.versions[0].submitted_at = utcnow() - timedelta(hours=hours)
            submission.submitted_at = utcnow() - timedelta(hours=hours)
        db.session.commit()
    for person in others:
        desk.review(people["boss"], person)
    with app.app_context():
        old = db.session.scalar(select(Review).order_by(Review.id))
        old.created_at = utcnow() - timedelta(days=40)  # outside the window
        db.session.commit()
        figures = review_queue.review_figures()
        assert figures.waiting == 1 and figures.oldest_id == coaching.submission_of(people["aff"], "pitch",
                                                                                    "headline").id
        assert figures.reviewed == 2 and timedelta(hours=6) < figures.median_first_review < timedelta(hours=7)


def test_coaches(app, desk, people):
    """A coach is an active manager other than the person; bulk changes count what changed."""
    with app.app_context():
        boss, aff = _user(people["boss"]), _user(people["aff"])
        assert coaches.set_coach(boss, aff, boss) is True and coaches.set_coach(boss, aff, boss) is False
        assert coaches.coach_of(aff.id).id == boss.id
        for coach, code in ((aff, "not_manager"), (boss, "self_coach")):
            with pytest.raises(coaches.ActionError) as error:
                coaches.set_coach(boss, boss if code == "self_coach" else aff, coach)
            assert error.value.code == code
        other = _user(people["other"])
        assert coaches.set_coach_bulk(boss, [aff.id, other.id, 99999], other) == 1  # nobody coaches themselves
        assert coaches.set_coach(boss, aff, None) is True and coaches.coach_of(aff.id) is None
        db.session.commit()
    assert [d["coach_id"] for d in desk.audit("coach_set")] == [people["boss"], people["other"]]


def test_submission_versions_cascade_only_with_the_submission(app, desk, people):
    """Versions and reviews belong to their submission (the database removes them together)."""
    desk.submit(people["aff"])
    desk.review(people["boss"], people["aff"])
    with app.app_context():
        db.session.delete(coaching.submission_of(people["aff"], "pitch", "headline"))
        db.session.commit()
    assert desk.count(SubmissionVersion) == 0 and desk.reviews() == 0 and desk.count(LessonProgress) == 1
