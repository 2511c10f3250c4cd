"""The manager's side over HTTP: the queue, the review page and form, bad reviews, access, coaches, mail settings,
the overview figures, the progress matrix and the reviews export."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from coaching.extensions import db
from coaching.models import AuditLog, Review, Submission, User, utcnow
from tests.coaching.conftest import HEADLINE, outbox, review_form, send_work
from tests.conftest import Auth, csrf_token


def html_of(client: Any, path: str, status: int = 200) -> str:
    """A page's HTML, checking the status."""
    response = client.get(path)
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def test_affiliates_cannot_open_the_manager_pages(app, client, logged_in, desk):
    """An affiliate: 403 on the queue, a review page, the review POST and the export; nothing changes."""
    other = desk.user("Bea Other")
    desk.submit(other)
    sid = desk.submission_id(other)
    for path in ("/manage/reviews", f"/manage/reviews/{sid}", "/manage/export/reviews.csv"):
        assert client.get(path).status_code == 403
    token = csrf_token(html_of(client, "/dashboard"))
    assert client.post(f"/manage/reviews/{sid}", data={"csrf_token": token, "version": "1",
                                                       "decision": "approve"}).status_code == 403
    assert desk.reviews() == 0


def test_anonymous_goes_to_login(client, desk):
    """Signed out: the queue asks to sign in."""
    response = client.get("/manage/reviews")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_queue_lists_waiting_work_oldest_first(app, reviewer, desk):
    """Course, lesson, affiliate, waiting time, version; oldest first; the count in the manager navigation."""
    first, second = desk.user("Bea First"), desk.user("Cem Second")
    desk.submit(second)
    desk.submit(first, slug="landing", link="https://shop.example/landing")
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.user_id == first))
        row.submitted_at = utcnow() - timedelta(days=3)
        db.session.commit()
    html = html_of(reviewer, "/manage/reviews")
    table = html.split('id="review-queue"')[1]
    assert table.index("Bea First") < table.index("Cem Second")
    assert "Landing page" in table and "Headline" in table and "Pitch practice" in table and "3 days" in table
    assert re.search(r'id="review-count">2<', html)
    assert re.search(r'id="review-count">2<', html_of(reviewer, "/manage/affiliates"))


def test_queue_filters(app, reviewer, desk):
    """mine = the affiliates I coach; a course filter; an unknown course or scope falls back to all."""
    mine, theirs = desk.user("Mia Mine"), desk.user("Tom Theirs")
    desk.submit(mine)
    desk.submit(theirs)
    with app.app_context():
        boss = db.session.scalar(select(User).where(User.email == "boss@example.com"))
        from coaching.services import coaches

        coaches.set_coach(boss, db.session.get(User, mine), boss)
        db.session.commit()
    table = lambda html: html.split("<tbody>")[1] if "<tbody>" in html else ""  # noqa: E731
    assert "Mia Mine" in table(html_of(reviewer, "/manage/reviews?scope=mine"))
    assert "Tom Theirs" not in table(html_of(reviewer, "/manage/reviews?scope=mine"))
    assert "Tom Theirs" in table(html_of(reviewer, "/manage/reviews?scope=everything&course=nope"))
    assert "Mine (1 waiting)" in html_of(reviewer, "/manage/reviews")
    assert "Mia Mine" in table(html_of(reviewer, "/manage/reviews?course=pitch"))


def test_queue_pages(app, reviewer, desk):
    """Fifty per page with the shared pagination; a page number out of range shows the last page."""
    for i in range(51):
        desk.submit(desk.user(f"Person {i:02d}"))
    assert "Page 1 of 2" in html_of(reviewer, "/manage/reviews")
    last = html_of(reviewer, "/manage/reviews?page=9")
    assert "Page 2 of 2" in last and last.split("<tbody>")[1].count("<tr>") == 1


def test_review_page_shows_task_criteria_work_and_history(app, reviewer, desk):
    """Task, criteria, the escaped submission with nofollow links, earlier versions with their feedback, the form."""
    aff = desk.user("Alex Affiliate")
    boss = desk.user("Otto Manager", role="manager")
    desk.submit(aff, "First try")
    desk.review(boss, aff, "revise", met=False, comment="Please name a benefit.")
    desk.submit(aff, "<b>bold?</b> see http://shop.example/x\nsecond line")
    html = html_of(reviewer, f"/manage/reviews/{desk.submission_id(aff)}")
    assert "Trail 2" in html and "The text is labelled as advertising" in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "<br>" in html
    assert '<a href="http://shop.example/x" rel="nofollow ugc noopener">' in html
    earlier = html.split('id="earlier-title"')[1]
    assert "First try" in earlier and "Please name a benefit." in earlier and "Reviewed by Otto Manager" in earlier
    assert len(re.findall(r'name="criterion-c-[0-9a-f]{10}" value="met"', html)) == 3
    assert 'name="decision" value="approve"' in html and 'name="decision" value="revise"' in html
    assert 'name="version" value="2"' in html and 'name="overall_comment"' in html


def test_approve_completes_and_tells_the_affiliate(app, reviewer, desk):
    """Approving: 303 to the queue, the lesson done, a mail to the affiliate, an audit row without the text."""
    aff = desk.user("Alex Affiliate", email="alex@example.com")
    desk.submit(aff, "My secret headline")
    outbox(app).clear()
    response = review_form(reviewer, desk.submission_id(aff), overall="Great work, Alex.")
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/reviews")
    assert "Approved. Alex Affiliate has been told by mail." in html_of(reviewer, "/manage/reviews")
    assert desk.state(aff) == "approved"
    [mail] = outbox(app)
    assert mail["to"] == "alex@example.com" and "approved" in mail["subject"]
    assert "http://localhost/courses/pitch/headline#assignment" in mail["body"] and "secret" not in mail["body"]
    assert "Great work" not in mail["body"]
    [detail] = desk.audit("submission_reviewed")
    assert detail["decision"] == "approve" and detail["met"] == 3 and detail["version"] == 1
    with app.app_context():
        text = " ".join(str(e.detail) for e in db.session.scalars(select(AuditLog)))
        assert "secret" not in text and "Great work" not in text


def test_revise_with_comments(app, reviewer, desk, client, logged_in):
    """Sent back with per-criterion comments; the affiliate sees them and may revise."""
    send_work(client)
    sid = desk.submission_id(logged_in.id)
    html = html_of(reviewer, f"/manage/reviews/{sid}")
    first = re.search(r'name="comment-(c-[0-9a-f]+)"', html).group(1)
    response = review_form(reviewer, sid, decision="revise", met=False, overall="Close, but not yet.",
                           **{f"comment-{first}": "Which benefit?"})
    assert response.status_code == 303
    lesson = client.get(HEADLINE).get_data(as_text=True)
    assert "Which benefit?" in lesson and "Close, but not yet." in lesson and 'name="answer"' in lesson
    assert "Needs revision" in lesson


@pytest.mark.parametrize(("extra", "message"), [
    ({"decision": "publish"}, "Choose a decision"),
    ({"decision": None}, "Choose a decision"),
    ({"criterion-c-ffffffffff": "met"}, "names a criterion that this version does not have"),
    ({"comment-c-ffffffffff": "x"}, "names a criterion that this version does not have"),
    ({"overall_comment": "x" * 5001}, "longer than 5000 characters"),
    ({"overall_comment": "nul \x00"}, "cannot be stored"),
])
def test_bad_reviews_are_refused(app, reviewer, desk, extra, message):
    """400 with a message and the form kept; nothing stored, the version still waiting."""
    aff = desk.user()
    desk.submit(aff)
    response = review_form(reviewer, desk.submission_id(aff), **extra)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert desk.reviews() == 0 and desk.state(aff) == "waiting"


def test_every_criterion_must_be_marked(app, reviewer, desk):
    """A criterion left without met / not met: 400, the other marks kept checked."""
    aff = desk.user()
    desk.submit(aff)
    sid = desk.submission_id(aff)
    html = html_of(reviewer, f"/manage/reviews/{sid}")
    ids = sorted(set(re.findall(r'name="criterion-(c-[0-9a-f]+)"', html)))
    response = reviewer.post(f"/manage/reviews/{sid}", data={
        "csrf_token": csrf_token(html), "version": "1", "decision": "approve", f"criterion-{ids[0]}": "met"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Mark every criterion" in body
    assert re.search(rf'id="met-{ids[0]}" name="criterion-{ids[0]}" value="met" checked', body)


def test_malformed_review_posts(app, reviewer, desk):
    """No token or a version that is not a number: 400; an unknown version: 400; unknown submission: 404."""
    aff = desk.user()
    desk.submit(aff)
    sid = desk.submission_id(aff)
    assert reviewer.post(f"/manage/reviews/{sid}", data={"version": "1", "decision": "approve"}).status_code == 400
    assert review_form(reviewer, sid, version="one").status_code == 400
    response = review_form(reviewer, sid, version="7")
    assert response.status_code == 400 and "no such version" in response.get_data(as_text=True)
    assert review_form(reviewer, 99999).status_code == 404
    assert reviewer.get("/manage/reviews/abc").status_code == 404
    assert desk.reviews() == 0


def test_a_version_that_is_not_waiting(app, reviewer, desk):
    """Reviewing an already reviewed version (an old tab, a second manager): 409, nothing changes."""
    aff = desk.user()
    desk.submit(aff)
    sid = desk.submission_id(aff)
    stale = html_of(reviewer, f"/manage/reviews/{sid}")
    other = desk.user("Otto Manager", role="manager")
    desk.review(other, aff, "revise")
    ids = sorted(set(re.findall(r'name="criterion-(c-[0-9a-f]+)"', stale)))
    response = reviewer.post(f"/manage/reviews/{sid}", data={
        "csrf_token": csrf_token(stale), "version": "1", "decision": "approve",
        **{f"criterion-{i}": "met" for i in ids}})
    assert response.status_code == 409
    assert "already been reviewed" in response.get_data(as_text=True)
    assert desk.reviews() == 1 and desk.state(aff) == "revise"


def test_own_work_is_not_reviewable(app, reviewer, desk):
    """A manager who took the course sees their work without the form; a forged POST: 403."""
    with app.app_context():
        boss_id = db.session.scalar(select(User.id).where(User.email == "boss@example.com"))
    desk.submit(boss_id)
    sid = desk.submission_id(boss_id)
    html = html_of(reviewer, f"/manage/reviews/{sid}")
    assert "This is your own work: another manager reviews it." in html and 'name="decision"' not in html
    assert "Your own work" in html_of(reviewer, "/manage/reviews")
    token = csrf_token(html)
    response = reviewer.post(f"/manage/reviews/{sid}", data={"csrf_token": token, "version": "1",
                                                             "decision": "approve"})
    assert response.status_code == 403 and "cannot review your own work" in response.get_data(as_text=True)
    assert desk.reviews() == 0


def test_deleted_affiliates_work_is_gone(app, reviewer, desk):
    """After deletion the review page is a 404 and the queue no longer lists the work."""
    from coaching.services import privacy

    aff = desk.user("Gone Person")
    desk.submit(aff)
    sid = desk.submission_id(aff)
    with app.app_context():
        privacy.delete_account(db.session.get(User, aff), actor=None, withdraw_certificates=False, via="self")
        db.session.commit()
    assert reviewer.get(f"/manage/reviews/{sid}").status_code == 404
    assert "Gone Person" not in html_of(reviewer, "/manage/reviews")


def test_coach_on_the_affiliate_page(app, reviewer, desk):
    """Set and remove a coach; a non-manager or oneself is refused with a message."""
    aff = desk.user("Alex Affiliate")
    with app.app_context():
        boss = db.session.scalar(select(User.id).where(User.email == "boss@example.com"))
    page = f"/manage/affiliates/{aff}"
    html = html_of(reviewer, page)
    assert "No coach: submissions are announced to every manager." in html
    token = csrf_token(html)
    assert reviewer.post(f"{page}/coach", data={"csrf_token": token, "coach": str(boss)}).status_code == 303
    assert "Coached by Maria Manager." in html_of(reviewer, page)
    reviewer.post(f"{page}/coach", data={"csrf_token": token, "coach": str(aff)})
    assert "A coach must be an active manager." in html_of(reviewer, page)
    reviewer.post(f"/manage/affiliates/{boss}/coach", data={"csrf_token": token, "coach": str(boss)})
    assert "Nobody can coach themselves." in html_of(reviewer, f"/manage/affiliates/{boss}")
    reviewer.post(f"{page}/coach", data={"csrf_token": token, "coach": ""})
    assert "No coach:" in html_of(reviewer, page)
    assert reviewer.post(f"{page}/coach", data={"coach": str(boss)}).status_code == 400


def test_bulk_coach_on_the_list(app, reviewer, desk):
    """Tick several people, pick a coach: each of them changes; nobody ticked or bad ids are refused."""
    people = [desk.user(f"Person {i}") for i in range(3)]
    with app.app_context():
        boss = db.session.scalar(select(User.id).where(User.email == "boss@example.com"))
    html = html_of(reviewer, "/manage/affiliates")
    assert len(re.findall(r'name="user_ids"', html)) == 4
    token = csrf_token(html)
    response = reviewer.post("/manage/affiliates/coach", data={"csrf_token": token, "coach": str(boss),
                                                               "user_ids": [str(p) for p in people[:2]]})
    assert response.status_code == 303
    assert "The coach of 2 people has been changed." in html_of(reviewer, "/manage/affiliates")
    assert [d["coach_id"] for d in desk.audit("coach_set")] == [boss, boss]
    reviewer.post("/manage/affiliates/coach", data={"csrf_token": token, "coach": str(boss)})
    assert "Tick at least one person" in html_of(reviewer, "/manage/affiliates")
    assert reviewer.post("/manage/affiliates/coach", data={"csrf_token": token, "coach": str(boss),
                                                           "user_ids": ["x1"]}).status_code == 400


def test_mail_setting(app, reviewer, desk):
    """each / daily / off is stored; anything else: 400."""
    html = html_of(reviewer, "/manage/reviews")
    token = csrf_token(html)
    assert reviewer.post("/manage/reviews/notifications", data={"csrf_token": token,
                                                                "notify": "daily"}).status_code == 303
    html = html_of(reviewer, "/manage/reviews")
    assert "Your mail setting is saved." in html and re.search(r'value="daily"[^>]*checked|checked[^>]*value="daily"',
                                                               html)
    assert reviewer.post("/manage/reviews/notifications", data={"csrf_token": token,
                                                                "notify": "hourly"}).status_code == 400


def test_overview_figures(app, reviewer, desk):
    """Queue length, the oldest waiting submission (linked), the median time to review."""
    aff, late = desk.user(), desk.user()
    other = desk.user("Otto Manager", role="manager")
    desk.submit(aff)
    desk.review(other, aff)
    desk.submit(late)
    html = html_of(reviewer, "/manage/")
    assert re.search(r'id="stat-review-queue"><a href="/manage/reviews">1<', html)
    assert f'/manage/reviews/{desk.submission_id(late)}' in html and 'id="stat-review-median"' in html
    assert "1 version reviewed" in html


def test_matrix_shows_awaiting_review(app, reviewer, desk):
    """The progress matrix marks a lesson whose assignment waits, and one sent back."""
    aff, other = desk.user("Alex Affiliate"), desk.user("Bea Other")
    boss = desk.user("Otto Manager", role="manager")
    desk.submit(aff)
    desk.submit(other)
    desk.review(boss, other, "revise")
    html = html_of(reviewer, "/manage/courses/pitch")
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")
    alex = next(row for row in rows if "Alex Affiliate" in row)
    bea = next(row for row in rows if "Bea Other" in row)
    assert "badge-review" in alex and "Awaiting review" in alex and "badge-revise" in bea


def test_affiliate_page_shows_work_and_resets_it(app, reviewer, desk, client, logged_in):
    """The person's page links the submission; resetting the lesson opens the assignment again."""
    other = desk.user("Otto Manager", role="manager")
    send_work(client)
    desk.review(other, logged_in.id)
    page = f"/manage/affiliates/{logged_in.id}"
    html = html_of(reviewer, page)
    assert f'/manage/reviews/{desk.submission_id(logged_in.id)}' in html and "Approved" in html
    response = reviewer.post(f"{page}/reset-lesson", data={"csrf_token": csrf_token(html), "course": "pitch",
                                                          "lesson": "headline", "confirm": "y"})
    assert response.status_code == 303
    assert "its assignment is open again" in html_of(reviewer, page)
    lesson = client.get(HEADLINE).get_data(as_text=True)
    assert "Your manager reset this lesson" in lesson and 'name="answer"' in lesson


def test_reviews_export(app, reviewer, desk):
    """One row per review: affiliate, lesson, version, decision, criteria met, reviewer, times; cells are safe."""
    aff = desk.user("=HYPERLINK(\"x\")", email="alex@example.com")
    boss = desk.user("Otto Manager", role="manager")
    desk.submit(aff, "secret text")
    desk.review(boss, aff, "revise", met=False, comment="secret comment")
    desk.submit(aff, "secret again")
    desk.review(boss, aff)
    response = reviewer.get("/manage/export/reviews.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert "secret" not in body
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:6] == ["review id", "name", "email", "course", "lesson", "version"]
    assert [(r[1], r[4], r[5], r[8], r[9], r[10], r[11]) for r in rows[1:]] == [
        ("'=HYPERLINK(\"x\")", "headline", "1", "revise", "0", "3", "Otto Manager"),
        ("'=HYPERLINK(\"x\")", "headline", "2", "approve", "3", "3", "Otto Manager")]
    assert desk.audit("export_downloaded")[-1] == {}
    with app.app_context():
        assert db.session.scalar(select(AuditLog.target_id).where(AuditLog.action == "export_downloaded")) == "reviews"


def test_review_rows_survive_deletion_anonymously(app, reviewer, desk):
    """After the affiliate is deleted the export keeps the review (figures) without name or texts."""
    from coaching.services import privacy

    aff = desk.user("Alex Affiliate")
    boss = desk.user("Otto Manager", role="manager")
    desk.submit(aff)
    desk.review(boss, aff)
    with app.app_context():
        privacy.delete_account(db.session.get(User, aff), actor=None, withdraw_certificates=False, via="self")
        db.session.commit()
        assert db.session.scalar(select(Review.decision)) == "approve"
    rows = list(csv.reader(io.StringIO(reviewer.get("/manage/export/reviews.csv").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][1] == "" and rows[1][8] == "approve"


def test_german_review_page(app, desk, make_user):
    """The review page in German for a German manager."""
    make_user(email="chefin@example.com", name="Clara Chefin", role="manager", language="de")
    client = app.test_client()
    assert Auth(client).login("chefin@example.com").status_code == 302
    aff = desk.user()
    desk.submit(aff)
    html = html_of(client, f"/manage/reviews/{desk.submission_id(aff)}")
    assert "Erfüllt" in html and "Überarbeitung anfordern" in html and "Bewertung senden" in html
    assert "Bewertungen" in html_of(client, "/manage/reviews")


def test_preview_shows_the_assignment(app, reviewer):
    """The manager's preview of a lesson file shows the task, the settings and each criterion with its id."""
    html = html_of(reviewer, "/manage/content/pitch/landing/preview")
    assert "Describe your landing page" in html and "Submission: text and link." in html
    assert "At most 300 characters." in html and len(re.findall(r"<code class=\"muted\">c-[0-9a-f]{10}</code>",
                                                                 html)) == 2
