"""Views of the manager area (managers only). Thin: read the request, call reports/actions, render or redirect."""
from __future__ import annotations

from typing import Any

from flask import (Response, abort, current_app, flash, redirect, render_template, request, stream_with_context,
                   url_for)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import audit, learning, reports
from ..access import manager_required
from ..credentials.issuing import certificates_of
from ..dbutil import begin_write
from ..extensions import db
from ..models import Certificate, Invite, User, utcnow
from . import actions, bp
from .actions import ActionRefused
from .charts import bar_chart
from .forms import ActionForm, InviteForm, LessonActionForm, ResetLessonForm, RevokeForm, RoleForm

MAX_QUERY = 200
PER_PAGE = 50
REFUSALS = {
    "self": lambda: _("You cannot do this to your own account. Ask another manager."),
    "last_manager": lambda: _("This is the last active manager. Make someone else a manager first."),
    "no_quiz": lambda: _("This lesson has no quiz."),
    "unlimited": lambda: _("This quiz allows unlimited attempts; there is nothing to grant."),
    "not_affiliate": lambda: _("Reset links can only be created for affiliates."),
    "inactive": lambda: _("This account is deactivated. Reactivate it first."),
    "role": lambda: _("Unknown role."),
}


def _lang() -> str:
    """The manager's language code."""
    return str(get_locale() or "en")


def _catalog() -> Any:
    """The current content catalog."""
    return learning.catalog()


def _q() -> str:
    """The search text of a list page (trimmed and capped)."""
    return request.args.get("q", "", type=str).strip()[:MAX_QUERY]


def _page() -> int:
    """The page number of a list page; anything that is not a small ASCII number means page 1."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1


def _course_or_404(course_slug: str) -> Any:
    """A course of the catalog (drafts included), or 404."""
    course = _catalog().course(course_slug)
    if course is None:
        abort(404)
    return course


def _lesson_or_404(course: Any, lesson_slug: str) -> Any:
    """A lesson of a course, or 404."""
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        abort(404)
    return lesson


def _user_or_404(user_id: int) -> User:
    """A person by id, or 404."""
    return db.get_or_404(User, user_id)


def _back_to(user: User) -> Any:
    """Redirect (303) to a person's detail page after an action."""
    return redirect(url_for("manage.affiliate", user_id=user.id), 303)


def _refused(error: ActionRefused) -> None:
    """Roll back and explain a refused action."""
    db.session.rollback()
    flash(REFUSALS.get(error.code, REFUSALS["role"])(), "error")


# --- overview and reports ------------------------------------------------------------------------------------

@bp.get("/")
@manager_required
def overview() -> Any:
    """Figures of the last 30 days, quizzes most often failed, idle affiliates, and two charts."""
    data = reports.overview(_catalog(), _lang())
    weekly = bar_chart("chart-weekly", _("Course completions per week"),
                       _("Completions per week over the last %(n)d weeks: %(total)d in all.",
                         n=len(data.weekly_completions), total=sum(v for _d, v in data.weekly_completions)),
                       [(format_date(day, "d MMM"), value) for day, value in data.weekly_completions],
                       _("completions"))
    drops = [bar_chart(f"chart-drop-{d.course_slug}", _("Drop-off in %(course)s", course=d.title),
                       ngettext("%(num)d affiliate started; lesson completions in course order.",
                                "%(num)d affiliates started; lesson completions in course order.", d.started),
                       [(_("Started"), d.started)] + [(f"{i}. {title}", n) for i, (_slug, title, n)
                                                       in enumerate(d.lessons, 1)], _("affiliates"),
                       shorts=[_("Started")] + [_("Lesson %(n)d", n=i) for i in range(1, len(d.lessons) + 1)])
             for d in data.drop_off]
    return render_template("manage/overview.html", data=data, weekly=weekly, drops=drops, courses=_catalog().courses,
                           lang=_lang())


@bp.get("/courses/<course_slug>")
@manager_required
def course_progress(course_slug: str) -> Any:
    """The affiliates x lessons matrix of one course: filter, sort, pages."""
    course = _course_or_404(course_slug)
    sort = request.args.get("sort", "name")
    status = request.args.get("status", "all")
    page = reports.course_matrix(course, q=_q(), sort=sort, status=status, page=_page(), per_page=PER_PAGE)
    sort = sort if sort in reports.MATRIX_SORTS else "name"
    status = status if status in reports.MATRIX_STATUSES else "all"
    return render_template("manage/course.html", course=course, page=page, q=_q(), sort=sort, status=status,
                           lang=_lang(), args={"q": _q(), "sort": sort, "status": status})


@bp.get("/courses/<course_slug>/<lesson_slug>/questions")
@manager_required
def questions(course_slug: str, lesson_slug: str) -> Any:
    """Per question: share right, most chosen wrong option, discrimination index, per language version."""
    course = _course_or_404(course_slug)
    lesson = _lesson_or_404(course, lesson_slug)
    if lesson.texts[lesson.language].quiz is None:
        abort(404)
    versions, older = reports.question_analysis(course.slug, lesson)
    return render_template("manage/questions.html", course=course, lesson=lesson, versions=versions, older=older,
                           lang=_lang())


# --- affiliates ----------------------------------------------------------------------------------------------

@bp.get("/affiliates")
@manager_required
def affiliates() -> Any:
    """People, searchable by name or email, with course counts."""
    role = request.args.get("role", "")
    role = role if role in ("affiliate", "manager") else ""
    page = reports.users_page(q=_q(), role=role, page=_page(), per_page=PER_PAGE)
    return render_template("manage/affiliates.html", page=page, q=_q(), role=role, args={"q": _q(), "role": role})


@bp.get("/affiliates/<dbid:user_id>")
@manager_required
def affiliate(user_id: int) -> Any:
    """One person: courses with status, attempts with answers, certificates, and the actions."""
    user = _user_or_404(user_id)
    return _render_affiliate(user)


def _render_affiliate(user: User, **extra: Any) -> Any:
    """Render the detail page (also with a reset link to show once)."""
    cat = _catalog()
    role_form = RoleForm(role=user.role)
    return render_template(
        "manage/affiliate.html", user=user, courses=reports.user_courses(cat, user.id, _lang()),
        attempts=reports.attempt_views(cat, user.id, _lang()), certificates=certificates_of(user.id),
        history=audit.recent_for("user", user.id), role_form=role_form, revoke_form=RevokeForm(),
        reset_form=ResetLessonForm(), action_form=ActionForm(), is_self=user.id == current_user.id, **extra)


def _lesson_from(form: LessonActionForm) -> tuple[Any, Any]:
    """The course and lesson a lesson action names, or 404."""
    course = _course_or_404(form.course.data)
    return course, _lesson_or_404(course, form.lesson.data)


@bp.post("/affiliates/<dbid:user_id>/grant-attempt")
@manager_required
def grant_attempt(user_id: int) -> Any:
    """Allow one more quiz attempt."""
    user = _user_or_404(user_id)
    form = LessonActionForm()
    if not form.validate_on_submit():
        abort(400)
    course, lesson = _lesson_from(form)
    try:
        actions.grant_attempt(current_user, user, course, lesson)
    except ActionRefused as error:
        _refused(error)
    else:
        db.session.commit()
        flash(_("One more attempt granted for “%(lesson)s”.", lesson=lesson.text(_lang())[0].title), "success")
    return _back_to(user)


@bp.post("/affiliates/<dbid:user_id>/reset-lesson")
@manager_required
def reset_lesson(user_id: int) -> Any:
    """Reset a lesson's progress; the confirmation checkbox is required."""
    user = _user_or_404(user_id)
    form = ResetLessonForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.course.errors or form.lesson.errors:
            abort(400)
        flash(_("Tick the confirmation box to reset the lesson."), "warning")
        return _back_to(user)
    course, lesson = _lesson_from(form)
    actions.reset_lesson(current_user, user, course, lesson)
    db.session.commit()
    flash(_("Progress in “%(lesson)s” has been reset.", lesson=lesson.text(_lang())[0].title), "success")
    return _back_to(user)


def _set_active(user_id: int, active: bool) -> Any:
    """Deactivate or reactivate an account."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        changed = actions.set_active(current_user, user, active)
    except ActionRefused as error:
        _refused(error)
        return _back_to(user)
    db.session.commit()
    if changed:
        flash(_("The account is active again.") if active else
              _("The account is deactivated and every session of it has ended."), "success")
    return _back_to(user)


@bp.post("/affiliates/<dbid:user_id>/deactivate")
@manager_required
def deactivate(user_id: int) -> Any:
    """Deactivate an account and end its sessions."""
    return _set_active(user_id, False)


@bp.post("/affiliates/<dbid:user_id>/reactivate")
@manager_required
def reactivate(user_id: int) -> Any:
    """Reactivate an account."""
    return _set_active(user_id, True)


@bp.post("/affiliates/<dbid:user_id>/role")
@manager_required
def change_role(user_id: int) -> Any:
    """Change a person's role (never one's own, never the last manager's)."""
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = actions.change_role(current_user, user, form.role.data)
    except ActionRefused as error:
        _refused(error)
        return _back_to(user)
    db.session.commit()
    if changed:
        flash(_("The role has been changed."), "success")
    return _back_to(user)


@bp.post("/affiliates/<dbid:user_id>/certificates/<cert_id>/revoke")
@manager_required
def revoke(user_id: int, cert_id: str) -> Any:
    """Revoke one of this person's certificates with a reason (revoking twice changes nothing)."""
    user = _user_or_404(user_id)
    cert = db.session.get(Certificate, cert_id[:40])
    if cert is None or cert.user_id != user.id:
        abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(_("Give a reason for the revocation."), "warning")
        return _back_to(user)
    changed = actions.revoke_certificate(current_user, cert, form.reason.data)
    db.session.commit()
    flash(_("The certificate has been revoked.") if changed else _("The certificate was already revoked."),
          "success" if changed else "info")
    return _back_to(user)


@bp.post("/affiliates/<dbid:user_id>/password-reset")
@manager_required
def password_reset(user_id: int) -> Any:
    """Create a password reset link for an affiliate and show it once."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        token = actions.password_reset_link(current_user, user)
    except ActionRefused as error:
        _refused(error)
        return _back_to(user)
    db.session.commit()
    link = current_app.config["SITE_URL"] + url_for("auth.reset_password", token=token)
    return render_template("manage/link_once.html", link=link, user=user, kind="reset",
                           back=url_for("manage.affiliate", user_id=user.id))


# --- audit log -----------------------------------------------------------------------------------------------

@bp.get("/audit")
@manager_required
def audit_log() -> Any:
    """Every manager action: who, what, when, on what."""
    return render_template("manage/audit.html", page=audit.entries(page=_page(), per_page=PER_PAGE))


# --- exports -------------------------------------------------------------------------------------------------

def _csv_response(name: str, header: list[str], rows: Any) -> Response:
    """Stream a CSV download; memory stays constant whatever the number of rows."""
    filename = f"{name}-{utcnow():%Y-%m-%d}.csv"
    response = Response(stream_with_context(reports.csv_stream(header, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/export/progress.csv")
@manager_required
def export_progress() -> Any:
    """Progress per affiliate and course as CSV."""
    begin_write()  # a GET that writes: take the write lock first on SQLite
    audit.record(current_user, "export_downloaded", "export", "progress")
    db.session.commit()
    return _csv_response("progress", reports.PROGRESS_HEADER, reports.progress_rows(_catalog()))


@bp.get("/export/attempts.csv")
@manager_required
def export_attempts() -> Any:
    """Every quiz attempt as CSV."""
    begin_write()  # a GET that writes: take the write lock first on SQLite
    audit.record(current_user, "export_downloaded", "export", "attempts")
    db.session.commit()
    return _csv_response("attempts", reports.ATTEMPTS_HEADER, reports.attempt_rows())


# --- content -------------------------------------------------------------------------------------------------

@bp.get("/content")
@manager_required
def content() -> Any:
    """Every course and lesson file with languages, quiz size, version, last change, and every problem."""
    cat = _catalog()
    return render_template("manage/content.html", courses=reports.content_status(cat, _lang()),
                           problems=cat.errors, form=ActionForm())


@bp.post("/content/reload")
@manager_required
def reload_content() -> Any:
    """Reload the content files now."""
    if not ActionForm().validate_on_submit():
        abort(400)
    cat = actions.reload_content(current_user, current_app.extensions["coaching.content"])
    db.session.commit()
    if cat.has_errors:
        flash(_("Content reloaded with errors; the lessons with errors keep their last good version."), "warning")
    else:
        flash(_("Content reloaded."), "success")
    return redirect(url_for("manage.content"), 303)


@bp.get("/content/preview/<course_slug>/<lesson_slug>")
@manager_required
def preview(course_slug: str, lesson_slug: str) -> Any:
    """A lesson as its file is now (drafts and broken files too), quiz answers marked, problems listed."""
    shown = reports.preview(_catalog(), course_slug, lesson_slug, request.args.get("lang"))
    if shown is None:
        abort(404)
    return render_template("manage/preview.html", p=shown)


# --- invites -------------------------------------------------------------------------------------------------

@bp.get("/invites")
@manager_required
def invites() -> Any:
    """Invites with their status, and the form to create one."""
    return _render_invites(InviteForm())


def _render_invites(form: InviteForm, status: int = 200, **extra: Any) -> Any:
    """Render the invites page."""
    return render_template("manage/invites.html", form=form, page=reports.invites_page(page=_page()),
                           action_form=ActionForm(), **extra), status


@bp.post("/invites")
@manager_required
def create_invite() -> Any:
    """Create a single-use invite and show its link once (only its hash is stored)."""
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _render_invites(form, 400)
    _invite, token = actions.create_invite(current_user, form.email.data)
    db.session.commit()
    link = current_app.config["SITE_URL"] + url_for("auth.register", invite=token)
    return render_template("manage/link_once.html", link=link, user=None, kind="invite",
                           back=url_for("manage.invites"))


@bp.post("/invites/<dbid:invite_id>/withdraw")
@manager_required
def withdraw_invite(invite_id: int) -> Any:
    """Withdraw an unused invite."""
    invite = db.get_or_404(Invite, invite_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    changed = actions.withdraw_invite(current_user, invite)
    db.session.commit()
    flash(_("The invite has been withdrawn.") if changed else _("This invite can no longer be withdrawn."),
          "success" if changed else "info")
    return redirect(url_for("manage.invites"), 303)
