"""Assignments and personal data: the export holds the work and its feedback; deletion erases the texts, links and
the reviewers' comments on them, and keeps anonymous rows for the figures."""
from __future__ import annotations

import json

from sqlalchemy import select

from coaching.extensions import db
from coaching.models import Coach, Review, ReviewSettings, Submission, SubmissionVersion, User
from coaching.services import assignment_views, coaches, coaching, privacy, review_queue
from tests.privacy.helpers import find_everywhere

TEXT = "Zelda's secret headline for the Trail 2"
LINK = "https://zelda-landing.example/offer"
COMMENT = "Zelda, the benefit is missing"


def _setup(app, desk) -> dict[str, int]:
    """Zelda: an approved landing page (reviewed twice), a waiting headline, a draft, a coach; Maria reviews."""
    ids = {"zelda": desk.user("Zelda Zed", email="zelda@example.com"),
           "maria": desk.user("Maria Manager", role="manager"), "otto": desk.user("Otto Manager", role="manager")}
    desk.submit(ids["zelda"], TEXT, slug="landing", link=LINK)
    desk.review(ids["maria"], ids["zelda"], "revise", slug="landing", met=False, comment=COMMENT)
    with app.app_context():
        version = coaching.version_of(coaching.submission_of(ids["zelda"], "pitch", "landing"), 1)
        review = version.review
        first = version.criteria[0]["id"]
        review.criteria = {**review.criteria, first: {"met": False, "comment": COMMENT + " (criterion)"}}
        zelda, maria = db.session.get(User, ids["zelda"]), db.session.get(User, ids["maria"])
        coaches.set_coach(maria, zelda, maria)
        coaches.set_notify(maria, "daily")
        db.session.commit()
    desk.submit(ids["zelda"], TEXT + " v2", slug="landing", link=LINK)
    desk.review(ids["otto"], ids["zelda"], slug="landing", comment=COMMENT + " no more")
    desk.submit(ids["zelda"], TEXT + " headline")
    return ids


def test_export_holds_the_work_and_its_feedback(app, desk):
    """Every version with task, text, link and the review's marks and comments; the draft; the coach."""
    ids = _setup(app, desk)
    with app.app_context():
        data = privacy.export_data(db.session.get(User, ids["zelda"]))
        [landing] = [s for s in data["assignment_submissions"] if s["lesson"] == "landing"]
        assert landing["state"] == "approved" and len(landing["versions"]) == 2
        first = landing["versions"][0]
        assert first["answer"] == TEXT and first["link"] == LINK and first["task"].startswith("Describe your")
        assert first["review"]["decision"] == "revise" and first["review"]["overall_comment"] == COMMENT
        assert first["review"]["met"] == 0 and COMMENT + " (criterion)" in json.dumps(first["review"]["criteria"])
        assert "reviewer" not in json.dumps(first["review"])  # other people's identities stay out
        assert data["coach_assignments"][0]["coach"] == "Maria Manager"
        manager = privacy.export_data(db.session.get(User, ids["maria"]))
        assert manager["review_settings"][0]["notify"] == "daily" and manager["assignment_submissions"] == []


def test_deletion_erases_texts_and_comments_and_keeps_figures(app, desk):
    """Texts, links, drafts and the reviewers' comments go; decisions, marks, times and counts stay, anonymous."""
    ids = _setup(app, desk)
    with app.app_context():
        before = (db.session.scalar(select(Review.id).order_by(Review.id.desc())), len(db.session.scalars(
            select(SubmissionVersion)).all()))
        privacy.delete_account(db.session.get(User, ids["zelda"]), actor=None, withdraw_certificates=False,
                               via="self")
        db.session.commit()
    assert find_everywhere(app, TEXT) == [] and find_everywhere(app, LINK) == []
    assert find_everywhere(app, COMMENT) == [] and find_everywhere(app, "zelda@example.com") == []
    with app.app_context():
        assert (db.session.scalar(select(Review.id).order_by(Review.id.desc())),
                len(db.session.scalars(select(SubmissionVersion)).all())) == before
        assert all(s.user_id is None for s in db.session.scalars(select(Submission)))
        reviews = db.session.scalars(select(Review).order_by(Review.id)).all()
        assert [(r.decision, r.met, r.total) for r in reviews] == [("revise", 0, 2), ("approve", 2, 2)]
        assert all(mark["comment"] == "" for r in reviews for mark in r.criteria.values())
        assert {v.state for v in db.session.scalars(select(SubmissionVersion))} == {"revise", "approved",
                                                                                    "cancelled"}
        assert db.session.scalars(select(Coach)).all() == [] and review_queue.waiting_count() == 0
    assert [d["decision"] for d in desk.audit("submission_reviewed")] == ["revise", "approve"]


def test_deleting_a_reviewer_keeps_the_feedback(app, desk):
    """A deleted manager's reviews stay for the affiliate (without the reviewer); their coach role and settings go."""
    ids = _setup(app, desk)
    with app.app_context():
        privacy.delete_account(db.session.get(User, ids["maria"]), actor=None, withdraw_certificates=False,
                               via="self")
        db.session.commit()
        first = coaching.version_of(coaching.submission_of(ids["zelda"], "pitch", "landing"), 1)
        assert first.review.reviewer_id is None and first.review.overall_comment == COMMENT
        assert db.session.scalars(select(Coach)).all() == [] and db.session.scalars(select(ReviewSettings)).all() == []
        [view] = [v for v in assignment_views.version_views(first.submission) if v.number == 1]
        assert view.reviewer_name is None
