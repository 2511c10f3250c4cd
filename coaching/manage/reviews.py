"""Manager views for coaching: the review queue, the review page, coaches, review mail settings, the export."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import manager_required
from ..extensions import db
from ..i18n import current_language
from ..models import User
from ..services import accounts, assignment_views, catalog, coaches, coaching, review_queue
from ..services.management import ActionRefused
from ..services.reports import exports
from . import bp
from .forms import BulkCoachForm, CoachForm, NotifyForm, ReviewForm
from .routes import PER_PAGE, REFUSALS, Outcome, _csv_response, _page, person_action

REVIEW_ERRORS = {
    "decision": lambda: _("Choose a decision: approve, or ask for a revision."),
    "missing_criterion": lambda: _("Mark every criterion as met or not met."),
    "unknown_criterion": lambda: _("The form names a criterion that this version does not have. Reload the page "
                                   "and review again."),
    "mark": lambda: _("Each criterion is either met or not met."),
    "too_long": lambda: _("A comment is longer than %(n)d characters.", n=coaching.MAX_COMMENT),
    "text": lambda: _("A comment contains characters that cannot be stored (control characters or a broken "
                      "encoding)."),
    "version": lambda: _("There is no such version of this submission. Reload the page."),
}
REVIEW_REFUSALS = {
    "own_work": (403, lambda: _("You cannot review your own work. Another manager reviews it.")),
    "not_waiting": (409, lambda: _("This version has already been reviewed (or was taken back by a reset). "
                                   "Nothing was changed.")),
}


@bp.context_processor
def _review_queue() -> dict[str, Any]:
    """The number in the manager navigation, computed only when a page draws it."""
    return {"review_queue_count": review_queue.waiting_count}


def _submission_or_404(submission_id: int) -> Any:
    """A submission of an existing person, or 404."""
    submission = coaching.find_submission(submission_id)
    if submission is None:
        abort(404)
    return submission


@bp.get("/reviews")
@manager_required
def reviews() -> Any:
    """The review queue: waiting submissions, oldest first; mine (my affiliates) or all; one course or all."""
    scope = request.args.get("scope", "all")
    scope = scope if scope in review_queue.SCOPES else "all"
    cat = catalog.catalog()
    course_slug = request.args.get("course", "")
    course_slug = course_slug if cat.course(course_slug) is not None else ""
    page = review_queue.queue(current_user, scope=scope, course_slug=course_slug, page=_page(), per_page=PER_PAGE)
    return render_template("manage/reviews.html", page=page, scope=scope, course_slug=course_slug,
                           courses=cat.courses, cat=cat, lang=current_language(),
                           mine=review_queue.mine_count(current_user), args={"scope": scope, "course": course_slug},
                           notify_form=NotifyForm(notify=coaches.notify_setting(current_user.id)))


@bp.post("/reviews/notifications")
@manager_required
def review_notifications() -> Any:
    """Store my choice of review mail: each submission, a daily digest, or none."""
    form = NotifyForm()
    if not form.validate_on_submit():
        abort(400)
    coaches.set_notify(current_user, form.notify.data)
    db.session.commit()
    flash(_("Your mail setting is saved."), "success")
    return redirect(url_for("manage.reviews"), 303)


def _render_review(submission: Any, *, given: dict[str, Any] | None = None, error: str | None = None,
                   status: int = 200) -> Any:
    """The review page: task, criteria, the submission, earlier versions with feedback, and the form."""
    data = assignment_views.review_page(current_user, submission)
    cat = catalog.catalog()
    course = cat.course(submission.course_slug)
    lesson = course.lesson(submission.lesson_slug) if course is not None else None
    lang = current_language()
    page = render_template("manage/review.html", p=data, course=course, lesson=lesson, lang=lang,
                           form=ReviewForm(), given=given or {}, error=error,
                           course_title=course.text(lang).title if course else submission.course_slug,
                           lesson_title=(lesson.text(lang)[0].title if lesson else
                                         (data.current.version.lesson_title if data.current else
                                          submission.lesson_slug)))
    return page, status


@bp.get("/reviews/<dbid:submission_id>")
@manager_required
def review(submission_id: int) -> Any:
    """One submission to review (or already reviewed), with every earlier version and its feedback."""
    return _render_review(_submission_or_404(submission_id))


@bp.post("/reviews/<dbid:submission_id>")
@manager_required
def submit_review(submission_id: int) -> Any:
    """Store the review of the waiting version: per criterion met or not, comments, approve or revise."""
    submission = _submission_or_404(submission_id)
    form = ReviewForm()
    raw = form.version.data or ""
    fields = request.form.to_dict(flat=False)
    given = {"decision": request.form.get("decision", ""), "overall": request.form.get("overall_comment", ""),
             "marks": {k.split("-", 1)[1]: v[0] for k, v in fields.items() if k.startswith("criterion-") and v},
             "comments": {k.split("-", 1)[1]: v[0] for k, v in fields.items() if k.startswith("comment-") and v}}
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.version.errors:
            abort(400)
        # The overall comment holds characters no text may hold (the input rule): the same answer as the service's.
        return _render_review(submission, given=given, error=REVIEW_ERRORS["text"](), status=400)
    if not (raw.isascii() and raw.isdigit()):
        abort(400)
    try:
        version = coaching.reviewable_version(current_user, submission, int(raw))
        marks = coaching.parse_marks(version, fields)
        done = coaching.review(current_user, submission, version_number=version.number, decision=given["decision"],
                               marks=marks, overall_comment=given["overall"], cat=catalog.catalog())
    except coaching.ReviewError as error:
        db.session.rollback()
        return _render_review(submission, given=given, error=REVIEW_ERRORS.get(error.code, REVIEW_ERRORS["mark"])(),
                              status=400)
    except coaching.ReviewRefused as error:
        db.session.rollback()
        if error.code == "gone":
            abort(404)
        status, message = REVIEW_REFUSALS.get(error.code, REVIEW_REFUSALS["not_waiting"])
        flash(message(), "error" if status == 403 else "warning")
        return _render_review(submission, status=status)
    db.session.commit()
    flash(_("Approved. %(name)s has been told by mail.", name=submission.user.name) if done.decision == "approve"
          else _("Sent back for revision. %(name)s has been told by mail.", name=submission.user.name), "success")
    return redirect(url_for("manage.reviews"), 303)


# --- coaches ---------------------------------------------------------------------------------------------------

def _coach_from(raw: str | None) -> User | None:
    """The manager a coach field names ("" removes the coach); unknown ids are refused as not a manager."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ActionRefused("not_manager")
    coach = accounts.find_user(int(raw))
    if coach is None:
        raise ActionRefused("not_manager")
    return coach


@bp.post("/affiliates/<dbid:user_id>/coach")
@manager_required
def set_coach(user_id: int) -> Any:
    """Set or remove one affiliate's coach."""
    def act(user: User, form: CoachForm) -> Outcome:
        coach = _coach_from(form.coach.data)
        try:
            changed = coaches.set_coach(current_user, user, coach)
        except coaches.ActionError as error:
            raise ActionRefused(error.code) from error
        if not changed:
            return None
        return (_("%(coach)s now coaches %(name)s.", coach=coach.name, name=user.name) if coach else
                _("%(name)s has no coach now.", name=user.name)), "success"

    return person_action(user_id, CoachForm(), act)


@bp.post("/affiliates/coach")
@manager_required
def bulk_coach() -> Any:
    """Set or remove the coach of every affiliate ticked in the list."""
    form = BulkCoachForm()
    if not form.validate_on_submit():
        abort(400)
    raw_ids = request.form.getlist("user_ids")
    if len(raw_ids) > 1000 or not all(r.isascii() and r.isdigit() and len(r) <= 10 for r in raw_ids):
        abort(400)
    back = redirect(url_for("manage.affiliates"), 303)
    try:
        coach = _coach_from(form.coach.data)
        changed = coaches.set_coach_bulk(current_user, [int(r) for r in raw_ids], coach)
    except (ActionRefused, coaches.ActionError) as error:
        db.session.rollback()
        flash(REFUSALS.get(error.code, REFUSALS["role"])(), "error")
        return back
    db.session.commit()
    flash(ngettext("The coach of %(num)d person has been changed.", "The coach of %(num)d people has been changed.",
                   changed), "success")
    return back


# --- export ----------------------------------------------------------------------------------------------------

@bp.get("/export/reviews.csv")
@manager_required
def export_reviews() -> Any:
    """Every review as CSV: affiliate, lesson, version, decision, criteria met, reviewer, times."""
    return _csv_response("reviews", exports.REVIEWS_HEADER, exports.review_rows())

