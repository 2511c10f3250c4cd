"""Views of the learning area: catalog, course, lesson, quiz, dashboard, search, course assets."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import learning
from ..access import public, signed_in
from ..credentials.issuing import certificates_of
from ..extensions import db
from ..i18n import select_language
from . import bp
from .forms import CompleteForm, QuizForm


def _lang() -> str:
    """The reader's language code."""
    return str(get_locale() or "en")


def _course_or_404(course_slug: str, cat: Any = None) -> Any:
    """The visible course or a 404."""
    course = learning.find_course(course_slug, current_user, cat)
    if course is None:
        abort(404)
    return course


def _lesson_or_404(course_slug: str, lesson_slug: str, cat: Any = None) -> tuple[Any, Any]:
    """The visible course and its lesson, or a 404."""
    course = _course_or_404(course_slug, cat)
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        abort(404)
    return course, lesson


@bp.get("/")
@public
def catalog() -> Any:
    """All courses with summary, lesson count, minutes and, when signed in, my progress."""
    courses = learning.visible_courses(current_user)
    statuses = learning.statuses_for(current_user.id, courses) if current_user.is_authenticated else {}
    return render_template("learn/catalog.html", courses=courses, statuses=statuses, lang=_lang())


@bp.get("/courses/<course_slug>")
@public
def course(course_slug: str) -> Any:
    """Course overview: lessons in order with done / not done and a resume button."""
    course = _course_or_404(course_slug)
    status = learning.course_status(current_user.id, course) if current_user.is_authenticated else None
    certificate = None
    if current_user.is_authenticated:
        certificate = next((c for c in certificates_of(current_user.id) if c.course_slug == course.slug
                            and c.status == "valid"), None)
    return render_template("learn/course.html", course=course, status=status, lang=_lang(), certificate=certificate)


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
    """A lesson: body, table of contents, previous/next, mark-complete or the quiz form.

    Served from the per-worker page cache when nothing the page shows has changed (coaching/pagecache.py).
    """
    cat = learning.catalog()
    course, lesson = _lesson_or_404(course_slug, lesson_slug, cat)
    pages, tokens = current_app.extensions["coaching.lesson_pages"], current_app.extensions["coaching.csrf_tokens"]
    key = _lesson_page_key(course, lesson) if pages.enabled else None
    now = learning.utcnow()
    if key is not None:
        cached = pages.get(key, cat, {"csrf_token": tokens.token(), "submission_id": secrets.token_urlsafe(16)},
                           now=now)
        if cached is not None:
            return Response(cached, mimetype="text/html")
    status = learning.course_status(current_user.id, course)
    wrote = learning.note_reading(current_user, course, status, now=now)
    if wrote:
        db.session.commit()
    # The rendered page carries the token Flask-WTF gives its forms; the cache cuts it out to refill it.
    values = {"csrf_token": tokens.remember(generate_csrf()), "submission_id": secrets.token_urlsafe(16)}
    page = _render_lesson(course, lesson, status=status, submission_id=values["submission_id"])
    if key is not None:
        pages.put(key, cat, page, values, expires_at=learning.next_reading_note(status, wrote, now))
    return page


def _lesson_page_key(course: Any, lesson: Any) -> tuple[Any, ...] | None:
    """Everything a lesson page depends on, or None when this request's page must not be cached."""
    if request.query_string or session.get("_flashes"):
        return None  # the footer's language form returns to the full path; flashes show once
    user = current_user._get_current_object()
    return (user.id, user.session_token, user.progress_version, user.role, select_language(), course.slug,
            lesson.slug)


def _render_lesson(course: Any, lesson: Any, *, submission_id: str, missing: tuple[str, ...] = (),
                   status_code: int = 200, status: Any = None) -> Any:
    """Render the lesson page (also used to re-show a quiz with the person's answers kept).

    The forms are plain inputs (QuizForm and CompleteForm validate the POSTs): building WTForms objects
    only to print three hidden fields cost a millisecond per view.
    """
    text, fell_back = lesson.text(_lang())
    status = status or learning.course_status(current_user.id, course)
    quiz_view = None
    if text.quiz is not None:
        quiz_view = {
            "questions": [(q, learning.shuffled_options(q, current_user.id, text.quiz.shuffle)) for q in text.quiz.questions],
            "standing": learning.quiz_standing(current_user.id, course.slug, lesson.slug, text.quiz.max_attempts),
            "given": {q.id: request.form.getlist(q.id) for q in text.quiz.questions} if request.method == "POST" else {},
            "missing": set(missing),
        }
    page = render_template(
        "learn/lesson.html", course=course, lesson=lesson, text=text, fell_back=fell_back, lang=_lang(),
        status=status, done=lesson.slug in status.done, quiz=quiz_view, submission_id=submission_id,
        previous=course.previous_lesson(lesson.slug), next=course.next_lesson(lesson.slug),
    )
    return page if status_code == 200 else (page, status_code)


@bp.post("/courses/<course_slug>/<lesson_slug>/complete")
@signed_in
def complete(course_slug: str, lesson_slug: str) -> Any:
    """Mark a lesson without a quiz as complete (idempotent)."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    text, _fell_back = lesson.text(_lang())
    if not CompleteForm().validate_on_submit():
        abort(400)
    if text.quiz is not None:
        flash(_("This lesson is completed by passing its quiz."), "warning")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug), 303)
    learning.mark_complete(current_user, course, lesson, text.content_hash, _lang())
    db.session.commit()
    _flash_if_certified(course)
    following = course.next_lesson(lesson.slug)
    if following is not None:
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=following.slug), 303)
    return redirect(url_for("learn.course", course_slug=course.slug), 303)


def _flash_if_certified(course: Any) -> None:
    """Congratulate once the course is complete and the certificate exists."""
    if learning.course_status(current_user.id, course).completed:
        flash(_("Congratulations, you completed this course! Your certificate is ready on your dashboard."), "success")


@bp.post("/courses/<course_slug>/<lesson_slug>/quiz")
@signed_in
def submit_quiz(course_slug: str, lesson_slug: str) -> Any:
    """Grade a quiz on the server; one attempt per rendered form, then show the result page."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    text, _fell_back = lesson.text(_lang())
    if text.quiz is None:
        abort(404)
    form = QuizForm()
    if not form.validate_on_submit():
        abort(400)
    if form.content_hash.data != text.content_hash:
        flash(_("This quiz was updated while you had it open. Here is the new version; please answer again."),
              "warning")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug, _anchor="quiz"), 303)
    try:
        answers = learning.parse_answers(text.quiz, request.form.to_dict(flat=False))
    except learning.AnswerError as error:
        if not error.missing:
            abort(400)
        flash(_("Please answer every question before you submit."), "error")
        return _render_lesson(course, lesson, submission_id=form.submission_id.data, missing=error.missing,
                              status_code=400)
    try:
        attempt, _created = learning.submit_quiz(current_user, course, lesson, text, answers, form.submission_id.data,
                                                 _lang())
    except learning.AttemptRefused:
        db.session.rollback()
        flash(_("You have used all attempts for this quiz. Your affiliate manager can grant you another one."), "error")
        return redirect(url_for("learn.lesson", course_slug=course.slug, lesson_slug=lesson.slug), 303)
    db.session.commit()
    if attempt.passed:
        _flash_if_certified(course)
    return redirect(url_for("learn.attempt", course_slug=course.slug, lesson_slug=lesson.slug, attempt_id=attempt.id), 303)


@bp.get("/courses/<course_slug>/<lesson_slug>/attempts/<int:attempt_id>")
@signed_in
def attempt(course_slug: str, lesson_slug: str, attempt_id: int) -> Any:
    """The result of one of my attempts: score, right and wrong, explanations, the way forward."""
    course, lesson = _lesson_or_404(course_slug, lesson_slug)
    record = learning.attempt_for(current_user.id, attempt_id)
    if record is None or record.course_slug != course.slug or record.lesson_slug != lesson.slug:
        abort(404)
    text = lesson.texts.get(record.language)
    same_version = text is not None and text.content_hash == record.content_hash and text.quiz is not None
    standing = learning.quiz_standing(current_user.id, course.slug, lesson.slug,
                                      text.quiz.max_attempts if same_version else None)
    return render_template(
        "learn/result.html", course=course, lesson=lesson, attempt=record, text=text if same_version else None,
        lang=_lang(), next=course.next_lesson(lesson.slug), left=standing.left, best=standing.best,
    )


@bp.get("/dashboard")
@signed_in
def dashboard() -> Any:
    """My courses with percentages, last activity, what to do next, and my certificates."""
    courses = learning.visible_courses(current_user)
    statuses = learning.statuses_for(current_user.id, courses)
    mine = [c for c in courses if statuses[c.slug].started]
    mine.sort(key=lambda c: statuses[c.slug].last_activity_at or statuses[c.slug].started_at or 0, reverse=True)
    others = [c for c in courses if not statuses[c.slug].started]
    return render_template("learn/dashboard.html", mine=mine, others=others, statuses=statuses, lang=_lang(),
                           certificates=certificates_of(current_user.id))


@bp.get("/search")
@public
def search() -> Any:
    """Find lessons by words in their titles and bodies, in the reader's language."""
    query = (request.args.get("q") or "").strip()[:200]
    hits = learning.catalog().search(query, _lang(), limit=30) if query else []
    visible = {c.slug: c for c in learning.visible_courses(current_user)}
    hits = [hit for hit in hits if hit.course_slug in visible]
    return render_template("learn/search.html", query=query, hits=hits, courses=visible, lang=_lang())
