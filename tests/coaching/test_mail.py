"""Coaching mail: who hears of a submission (coach, or every active manager), each / daily / off, the review and
reset mails in the affiliate's language, and `flask reviews digest`."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from coaching.extensions import db
from coaching.models import ReviewSettings, Submission, User, utcnow
from coaching.services import coaches, review_mail
from tests.coaching.conftest import outbox


def _to(app: Any) -> list[str]:
    """Recipients of the queued mails, in order."""
    return [mail["to"] for mail in outbox(app)]


def _people(desk: Any) -> dict[str, int]:
    """Three managers and an affiliate."""
    return {"anna": desk.user("Anna Coach", email="anna@example.com", role="manager"),
            "ben": desk.user("Ben Manager", email="ben@example.com", role="manager"),
            "cleo": desk.user("Cleo Manager", email="cleo@example.com", role="manager", language="de"),
            "aff": desk.user("Alex Affiliate", email="alex@example.com")}


def _coach(app: Any, user_id: int, coach_id: int) -> None:
    """Make `coach_id` the coach of `user_id`."""
    with app.app_context():
        coaches.set_coach(db.session.get(User, coach_id), db.session.get(User, user_id),
                           db.session.get(User, coach_id))
        db.session.commit()


def test_without_a_coach_every_active_manager_hears(app, desk):
    """No coach: each active manager (in their language), never the submitter, never a deactivated manager."""
    people = _people(desk)
    desk.user("Dora Gone", email="dora@example.com", role="manager", active=False)
    desk.submit(people["aff"])
    assert sorted(_to(app)) == ["anna@example.com", "ben@example.com", "cleo@example.com"]
    german = next(m for m in outbox(app) if m["to"] == "cleo@example.com")
    assert german["subject"].startswith("Neue Einreichung") and "http://localhost/manage/reviews/" in german["body"]
    assert all("Sleep dry" not in m["body"] for m in outbox(app))  # the submitted text stays out of mail


def test_the_coach_hears_alone(app, desk):
    """With an active coach only the coach is mailed."""
    people = _people(desk)
    _coach(app, people["aff"], people["anna"])
    desk.submit(people["aff"])
    assert _to(app) == ["anna@example.com"] and "whom you coach" in outbox(app)[0]["body"]


def test_deactivated_or_demoted_coach_hands_over_to_all_managers(app, desk):
    """A coach who was deactivated or lost the manager role: every active manager hears instead."""
    people = _people(desk)
    _coach(app, people["aff"], people["anna"])
    with app.app_context():
        db.session.get(User, people["anna"]).active = False
        db.session.commit()
    desk.submit(people["aff"])
    assert sorted(_to(app)) == ["ben@example.com", "cleo@example.com"]
    second = desk.user("Bea Second")
    _coach(app, second, people["ben"])
    with app.app_context():
        db.session.get(User, people["ben"]).role = "affiliate"
        db.session.commit()
    outbox(app).clear()
    desk.submit(second)
    assert _to(app) == ["cleo@example.com"]


def test_daily_and_off_are_respected(app, desk):
    """Managers who chose daily or off get no mail per submission."""
    people = _people(desk)
    with app.app_context():
        coaches.set_notify(db.session.get(User, people["anna"]), "daily")
        coaches.set_notify(db.session.get(User, people["ben"]), "off")
        db.session.commit()
    desk.submit(people["aff"])
    assert _to(app) == ["cleo@example.com"]


def test_review_mail_in_the_affiliates_language(app, desk):
    """A German affiliate reviewed by an English manager gets German mail with the link to the lesson."""
    people = _people(desk)
    aff = desk.user("Dieter Deutsch", email="dieter@example.com", language="de")
    desk.submit(aff)
    outbox(app).clear()
    desk.review(people["anna"], aff, "revise", met=False)
    [mail] = outbox(app)
    assert mail["to"] == "dieter@example.com" and "Überschrift" in mail["subject"]
    assert "überarbeiten" in mail["subject"] and "0 von 3 Kriterien erfüllt." in mail["body"]
    assert mail["body"].rstrip().endswith("http://localhost/courses/pitch/headline#assignment")


def test_digest_lists_new_waiting_work_once_a_day(app, desk, runner):
    """`flask reviews digest`: one mail per daily manager with the new waiting submissions; again later: none."""
    people = _people(desk)
    with app.app_context():
        coaches.set_notify(db.session.get(User, people["anna"]), "daily")
        coaches.set_notify(db.session.get(User, people["cleo"]), "daily")
        db.session.commit()
    second = desk.user("Bea Second")
    _coach(app, second, people["ben"])  # Ben coaches Bea: only Ben hears of her work
    desk.submit(people["aff"])
    desk.submit(second)
    _last_digest(app, utcnow() - timedelta(days=1), people["anna"], people["cleo"])
    outbox(app).clear()
    result = runner.invoke(args=["reviews", "digest"])
    assert result.exit_code == 0 and "2 digest mail(s) queued." in result.output
    by = {mail["to"]: mail for mail in outbox(app)}
    assert set(by) == {"anna@example.com", "cleo@example.com"}
    assert "Alex Affiliate" in by["anna@example.com"]["body"] and "Bea Second" not in by["anna@example.com"]["body"]
    assert by["anna@example.com"]["subject"] == "1 new submission to review"
    assert by["cleo@example.com"]["subject"].startswith("1 neue Einreichung")
    outbox(app).clear()
    assert "0 digest mail(s) queued." in runner.invoke(args=["reviews", "digest"]).output


def _last_digest(app: Any, when: Any, *user_ids: int) -> None:
    """Pretend the managers' last digest went out at `when`."""
    with app.app_context():
        for row in db.session.scalars(select(ReviewSettings).where(ReviewSettings.user_id.in_(user_ids))):
            row.last_digest_at = when
        db.session.commit()


def _submitted_at(app: Any, user_id: int, when: Any) -> None:
    """Move a person's submission time."""
    with app.app_context():
        db.session.scalar(select(Submission).where(Submission.user_id == user_id)).submitted_at = when
        db.session.commit()


def test_digest_window_and_empty_days(app, desk):
    """Only work since the last digest that still waits; once per day; a day without any sends nothing."""
    people = _people(desk)
    start = utcnow().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=10)
    with app.app_context():
        coaches.set_notify(db.session.get(User, people["anna"]), "daily")
        db.session.commit()
    _last_digest(app, start, people["anna"])
    desk.submit(people["aff"])
    _submitted_at(app, people["aff"], start + timedelta(hours=3))
    with app.app_context():
        assert review_mail.send_digests(now=start + timedelta(hours=5)) == 0  # the same day: not yet
        assert review_mail.send_digests(now=start + timedelta(days=1)) == 1
        db.session.commit()
        assert review_mail.send_digests(now=start + timedelta(days=1, hours=2)) == 0  # once a day
        assert review_mail.send_digests(now=start + timedelta(days=2)) == 0  # nothing new
        db.session.commit()
    fresh, reviewed = desk.user("Fresh Person"), desk.user("Done Person")
    desk.submit(fresh)
    desk.submit(reviewed)
    desk.review(people["ben"], reviewed)
    _submitted_at(app, fresh, start + timedelta(days=2, hours=1))
    _submitted_at(app, reviewed, start + timedelta(days=2, hours=1))
    with app.app_context():
        assert review_mail.send_digests(now=start + timedelta(days=3)) == 1
        db.session.commit()
    body = outbox(app)[-1]["body"]
    assert "Fresh Person" in body and "Alex Affiliate" not in body and "Done Person" not in body


def test_reset_mail(app, desk):
    """The reset mail tells the affiliate the assignment is open again, with the link."""
    from coaching.services import management

    people = _people(desk)
    desk.submit(people["aff"])
    desk.review(people["anna"], people["aff"])
    outbox(app).clear()
    with app.app_context():
        course, lesson, _text = desk.lesson()
        management.reset_lesson(db.session.get(User, people["anna"]), db.session.get(User, people["aff"]), course,
                                lesson)
        db.session.commit()
    [mail] = outbox(app)
    assert mail["subject"] == "Your assignment “Headline” is open again"
    assert "http://localhost/courses/pitch/headline#assignment" in mail["body"]
