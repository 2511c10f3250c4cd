"""Views of the learning area: catalog, course, lesson, quiz, assignment, dashboard, search, course assets.

Thin: each view parses the request, calls the services, and renders; pages showing a person's state are
rendered per request (the lesson body and quiz HTML come ready from the content catalog).
"""
from __future__ import annotations

import secrets
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import public, signed_in
from ..extensions import csrf, db
from ..i18n import current_language
from ..services import assignment_views, authoring_files, catalog, certificates, coaching, progress, quizzes
from ..services.db import late_write_lock
from ..usertext import without_control
from . import bp
from .forms import AssignmentForm, CompleteForm, QuizForm
from .fragments import lesson_parts


def _course_or_404(course_slug: str) -> Any:
    """The visible course or a 404."""
    course = catalog.find_course(course_slug, current_user)
    if course is None:
        abort(404)
    return course


def _lesson_or_404(course_slug: str, lesson_slug: str) -> tuple[Any, Any]:
    """The visible course and its lesson; a renamed lesson's old address redirects (308 keeps a POST's
    answers); else a 404."""
    found = catalog.find_lesson(course_slug, lesson_slug, current_user)
    if found is None:
        renamed = authoring_files.lesson_alias(course_slug, lesson_slug)
        if renamed is not None and catalog.find_lesson(course_slug, renamed, current_user) is not None:
            target = url_for(request.endpoint, **{**(request.view_args or {}), "lesson_slug": renamed})
            abort(redirect(target, 308 if request.method == "POST" else 301))
        abort(404)
    return found


@bp.get("/", endpoint="catalog")
@public
def catalog_page() -> Any:
    """All courses with summary, lesson count, minutes and, when signed in, my progress."""
    courses = catalog.visible_courses(current_user)
    statuses = progress.statuses_for(current_user.id, courses) if current_user.is_authenticated else {}
    return render_template("learn/catalog.html", courses=courses, statuses=statuses, lang=current_language())


@bp.get("/courses/<course_slug>")
@public
def course(course_slug: str) -> Any:
    """Course overview: lessons in order with done / not done and a resume button."""
    course = _course_or_404(course_slug)
    status = certificate = None
    if current_user.is_authenticated:
        status = progress.course_status(current_user.id, course)
        certificate = certificates.valid_certificate(current_user.id, course.slug)
    before, after = catalog.path_neighbours(course, current_user)
    return render_template("learn/course.html", course=course, status=status, lang=current_language(),
                           certificate=certificate, before=before, after=after)


@bp.get("/courses/<course_slug>/assets/<path:filename>")
@public
def asset(course_slug: str, filename: str) -> Any:
    """An image beside the lessons; anything outside the course folder is a 404."""
    course = _course_or_404(course_slug)
    path = course.asset(filename)
    if path is None:
        abort(404)
    g.cacheable = True
    response = send_file(path, max_age=3600, conditional=True)
    if path.suffix.lower() == ".svg":
        # An SVG opened directly must not run script even if one slipped into the file.
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.get("/courses/<course_slug>/<lesson_slug>")
@signed_in
def lesson(course_slug: str, lesson_slug: str) -> Any:
    """A lesson: body, table of contents, previous/next, mark-complete or the quiz form."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    status = progress.course_status(current_user.id, course)
    if progress.note_reading(current_user, course, status):
        db.session.commit()
    return _render_lesson(course, lesson, submission_id=secrets.token_urlsafe(16), status=status)


def _render_lesson(course: Any, lesson: Any, *, submission_id: str, missing: tuple[str, ...] = (),
                   status_code: int = 200, status: Any = None, given: dict[str, Any] | None = None) -> Any:
    """Render the lesson page (also used to re-show a quiz with the person's answers kept).

    The forms are plain inputs (QuizForm and CompleteForm validate the POSTs): building WTForms objects
    only to print three hidden fields cost a millisecond per view.
    """
    lang = current_language()
    text, fell_back = lesson.text(lang)
    status = status or progress.course_status(current_user.id, course)
    quiz_view = None
    if text.quiz is not None:
        orders = quizzes.option_orders(text.quiz, current_user.id)
        quiz_view = {
            "questions": [(q, quizzes.ordered(q, orders.get(q.id))) for q in text.quiz.questions],
            "standing": quizzes.quiz_standing(current_user.id, course.slug, lesson.slug, text.quiz.max_attempts),
            "given": ({q.id: request.form.getlist(q.id) for q in text.quiz.questions}
                      if request.method == "POST" else {}),
            "missing": set(missing),
        }
    work = None
    if text.assignment is not None:
        work = {"work": assignment_views.work_of(current_user.id, course.slug, lesson.slug), "given": given,
                "quiz_passed": text.quiz is not None and quiz_view["standing"].best is not None
                and quiz_view["standing"].best.passed}
    parts = lesson_parts(catalog.catalog().fingerprint, course, lesson, text, lang)
    page = render_template(
        "learn/lesson.html", course=course, lesson=lesson, text=text, fell_back=fell_back, lang=lang,
        status=status, done=lesson.slug in status.done, quiz=quiz_view, submission_id=submission_id,
        parts=parts, work=work, work_errors=WORK_ERRORS,
    )
    return page if status_code == 200 else (page, status_code)


@bp.post("/courses/<course_slug>/<lesson_slug>/complete")
@signed_in
def complete(course_slug: str, lesson_slug: str) -> Any:
    """Mark a lesson without a quiz as complete (idempotent)."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    text, _fell_back = lesson.text(current_language())
    if not CompleteForm().validate_on_submit():
        abort(400)
    if coaching.assignment_of(lesson) is not None or text.assignment is not None:
        flash(_("This lesson is completed when your assignment is approved (and its quiz passed, if it has one).")
              , "warning")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug,
                                _anchor="assignment"), 303)
    if text.quiz is not None:
        flash(_("This lesson is completed by passing its quiz."), "warning")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug), 303)
    progress.mark_complete(current_user, course, lesson, text.content_hash, current_language())
    db.session.commit()
    _flash_if_certified(course)
    following = course.next_lesson(lesson.slug)
    if following is not None:
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=following.slug), 303)
    return redirect(url_for("learn.course", course_slug=course.slug), 303)


def _flash_if_certified(course: Any) -> None:
    """Congratulate once the course is complete and the certificate exists."""
    if progress.course_status(current_user.id, course).completed:
        flash(_("Congratulations, you completed this course! Your certificate is ready on your dashboard."),
              "success")


@bp.post("/courses/<course_slug>/<lesson_slug>/quiz")
@late_write_lock  # submit_quiz grades first and takes the write lock only to decide and store
@csrf.exempt  # QuizForm checks the token itself, so that an expired one keeps the answers (see below)
@signed_in
def submit_quiz(course_slug: str, lesson_slug: str) -> Any:
    """Grade a quiz on the server; one attempt per rendered form, then show the result page."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    text, _fell_back = lesson.text(current_language())
    if text.quiz is None:
        abort(404)
    form = QuizForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors and not form.submission_id.errors and not form.quiz_version.errors:
            # An expired token (an operator's WTF_CSRF_TIME_LIMIT): show the quiz again with the answers kept.
            flash(_("Your form expired. Your answers are still filled in: please submit them again."), "warning")
            return _render_lesson(course, lesson, submission_id=form.submission_id.data, status_code=400)
        abort(400)
    if form.quiz_version.data != text.quiz.version:
        flash(_("This quiz was updated while you had it open. Here is the new version; please answer again."),
              "warning")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug, _anchor="quiz"),
                        303)
    try:
        answers = quizzes.parse_answers(text.quiz, request.form.to_dict(flat=False))
    except quizzes.AnswerError as error:
        if not error.missing:
            abort(400)
        flash(_("Please answer every question before you submit."), "error")
        return _render_lesson(course, lesson, submission_id=form.submission_id.data, missing=error.missing,
                              status_code=400)
    try:
        attempt, _created = quizzes.submit_quiz(current_user, course, lesson, text, answers,
                                                form.submission_id.data, current_language())
    except quizzes.AttemptRefused:
        db.session.rollback()
        flash(_("You have used all attempts for this quiz. Your affiliate manager can grant you another one."),
              "error")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug), 303)
    db.session.commit()
    if attempt.passed:
        _flash_if_certified(course)
    return redirect(url_for("learn.attempt", course_slug=course.slug, lesson_slug=lesson.slug,
                            attempt_id=attempt.id), 303)


@bp.get("/courses/<course_slug>/<lesson_slug>/attempts/<dbid:attempt_id>")
@signed_in
def attempt(course_slug: str, lesson_slug: str, attempt_id: int) -> Any:
    """The result of one of my attempts: score, right and wrong, explanations, the way forward."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    record = quizzes.attempt_for(current_user.id, attempt_id, course.slug, lesson.slug)
    if record is None:
        abort(404)
    text = quizzes.graded_text(lesson, record)
    standing = quizzes.quiz_standing(current_user.id, course.slug, lesson.slug,
                                     text.quiz.max_attempts if text is not None else None)
    review = quizzes.review_shown(text.quiz, record, standing) if text is not None else "score"
    questions = [(q, quizzes.ordered(q, (record.option_orders or {}).get(q.id))) for q in text.quiz.questions] \
        if text is not None else []
    return render_template(
        "learn/result.html", course=course, lesson=lesson, attempt=record, text=text, lang=current_language(),
        next=course.next_lesson(lesson.slug), left=standing.left, best=standing.best, review=review,
        questions=questions,
    )


@bp.get("/dashboard")
@signed_in
def dashboard() -> Any:
    """My courses with percentages, last activity, what to do next, my assignments, and my certificates."""
    courses = catalog.visible_courses(current_user)
    statuses = progress.statuses_for(current_user.id, courses)
    mine = [c for c in courses if statuses[c.slug].started]
    mine.sort(key=lambda c: statuses[c.slug].last_activity_at or statuses[c.slug].started_at or 0, reverse=True)
    others = [c for c in courses if not statuses[c.slug].started]
    work = assignment_views.my_work(current_user.id, catalog.catalog(), current_language())
    return render_template("learn/dashboard.html", mine=mine, others=others, statuses=statuses,
                           lang=current_language(), certificates=certificates.certificates_of(current_user.id),
                           work=work)


@bp.get("/search")
@public
def search() -> Any:
    """Find lessons by words in their titles and bodies, in the reader's language."""
    query = (request.args.get("q") or "").strip()[:200]
    hits = catalog.search(query, current_language(), current_user)
    courses = {c.slug: c for c in catalog.visible_courses(current_user)}
    return render_template("learn/search.html", query=query, hits=hits, courses=courses, lang=current_language())


# --- assignments ---------------------------------------------------------------------------------------------

WORK_ERRORS = {
    "empty": lambda a: _("Write your answer before you submit it."),
    "too_long": lambda a: _("Your answer is longer than the %(max)d characters this assignment allows.",
                            max=a.max_length),
    "link": lambda a: _("The link must be a complete web address starting with http:// or https://."),
    "link_missing": lambda a: _("This assignment asks for a link as well: add the web address of your page or "
                                "post."),
    "text": lambda a: _("Your text contains characters that cannot be stored (control characters or a broken "
                        "encoding). They have been removed below; please check the text and send it again."),
}
WORK_REFUSALS = {
    "waiting": lambda: _("Your submission is waiting for review and cannot be changed now."),
    "approved": lambda: _("This assignment is already approved; there is nothing more to submit."),
}


def _checked_box(name: str) -> bool:
    """A checkbox: ticked when sent with a value."""
    return bool(request.form.get(name))


@bp.post("/courses/<course_slug>/<lesson_slug>/assignment")
@signed_in
def submit_assignment(course_slug: str, lesson_slug: str) -> Any:
    """Save a draft of my assignment or submit it for review (`action` = save | submit)."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    text, _fell_back = lesson.text(current_language())
    if text.assignment is None:
        abort(404)
    form = AssignmentForm()
    action = request.form.get("action")
    answer, link = request.form.get("answer", ""), request.form.get("link", "")
    consent = _checked_box("show_on_certificate")
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.content_hash.errors or action not in ("save", "submit"):
            abort(400)
        # The answer or the link holds characters no text may hold (the input rule): shown again without them.
        given = {"answer": without_control(answer), "link": without_control(link, multiline=False),
                 "consent": consent, "error": "text"}
        return _render_lesson(course, lesson, submission_id=secrets.token_urlsafe(16), status_code=400, given=given)
    if action not in ("save", "submit"):
        abort(400)
    here = url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug, _anchor="assignment")
    stale = form.content_hash.data != text.content_hash
    try:
        if action == "save" or stale:
            coaching.save_draft(current_user, course, lesson, text, answer=answer, link=link, consent=consent)
        else:
            coaching.submit(current_user, course, lesson, text, answer=answer, link=link, consent=consent,
                            language=current_language())
    except coaching.WorkError as error:
        db.session.rollback()
        given = {"answer": answer, "link": link, "consent": consent, "error": error.code}
        if error.code == "text":
            given.update(answer=without_control(answer), link=without_control(link, multiline=False))
        return _render_lesson(course, lesson, submission_id=secrets.token_urlsafe(16), status_code=400, given=given)
    except coaching.WorkRefused as error:
        db.session.rollback()
        flash(WORK_REFUSALS.get(error.code, WORK_REFUSALS["waiting"])(), "warning")
        return _render_lesson(course, lesson, submission_id=secrets.token_urlsafe(16), status_code=409)
    db.session.commit()
    if stale:
        flash(_("The assignment was updated while you had it open. Your text is saved as a draft: please check "
                "the task and submit again."), "warning")
    elif action == "save":
        flash(_("Your draft is saved."), "success")
    else:
        flash(_("Your work is submitted for review. You will get a mail when it has been reviewed."), "success")
    return redirect(here, 303)


@bp.post("/dashboard/assignments/<dbid:submission_id>/consent")
@signed_in
def assignment_consent(submission_id: int) -> Any:
    """Show my approved work on my certificate, or stop showing it (`show_on_certificate` = y | n)."""
    submission = coaching.own_submission(current_user.id, submission_id)
    if submission is None:
        abort(404)
    choice = request.form.get("show_on_certificate")
    if not CompleteForm().validate_on_submit() or choice not in ("y", "n"):
        abort(400)
    changed = coaching.set_consent(current_user, submission, choice == "y")
    db.session.commit()
    if changed:
        flash(_("Your work will be shown on your certificate.") if choice == "y" else
              _("Your work is no longer shown on your certificate."), "success")
    return redirect(url_for("learn.dashboard", _anchor="assignments"), 303)


@bp.get("/submissions/<dbid:submission_id>")
@signed_in
def submission(submission_id: int) -> Any:
    """One of my assignments with every version and its feedback (another person's: 404)."""
    work = coaching.own_submission(current_user.id, submission_id)
    if work is None:
        abort(404)
    found = catalog.find_lesson(work.course_slug, work.lesson_slug, current_user)
    return render_template("learn/submission.html", submission=work, versions=assignment_views.version_views(work),
                           course=found[0] if found else None, lesson=found[1] if found else None,
                           lang=current_language())
