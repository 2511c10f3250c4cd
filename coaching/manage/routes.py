"""Views of the manager area (managers only). Thin: read the request, call the services, render or redirect."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from ..access import manager_required
from ..extensions import db
from ..forms import Form
from ..i18n import current_language
from ..inputs import InputRefused
from ..models import User, utcnow
from ..routing import attachment, external_url
from ..services import (
    accounts,
    assignment_views,
    audit,
    authoring_history,
    catalog,
    certificates,
    coaches,
    management,
    review_queue,
)
from ..services.management import ActionRefused
from ..services.reports import content_status, exports, matrix, people
from ..services.reports import invites as invite_reports
from ..services.reports import overview as overview_report
from ..services.reports import questions as question_report
from . import bp
from .charts import bar_chart
from .forms import ActionForm, BulkCoachForm, InviteForm, LessonActionForm, ResetLessonForm, RevokeForm, RoleForm

MAX_QUERY = 200
PER_PAGE = 50
# Why a rule refused an action, for every manager action (the codes come from the services).
REFUSALS = {
    "self": lambda: _("You cannot do this to your own account. Ask another manager."),
    "self_delete": lambda: _("You cannot delete your own account here. Use “Delete my account” on your profile."),
    "last_manager": lambda: _("This is the last active manager. Make someone else a manager first."),
    "no_quiz": lambda: _("This lesson has no quiz."),
    "unlimited": lambda: _("This quiz allows unlimited attempts; there is nothing to grant."),
    "key_seen": lambda: _("This person has already seen the answer key of this quiz (it is shown once the quiz is "
                          "passed or no attempts are left), so another attempt would test nothing. Quizzes meant "
                          "to allow extra attempts set show_answers: never."),
    "not_affiliate": lambda: _("Reset links can only be created for affiliates."),
    "inactive": lambda: _("This account is deactivated. Reactivate it first."),
    "role": lambda: _("Unknown role."),
    "not_manager": lambda: _("A coach must be an active manager."),
    "self_coach": lambda: _("Nobody can coach themselves."),
    "no_people": lambda: _("Tick at least one person in the list first."),
}

Outcome = tuple[str, str] | None  # (flash message, category), or nothing to say


def _q() -> str:
    """The search text of a list page (trimmed and capped)."""
    return request.args.get("q", "", type=str).strip()[:MAX_QUERY]


def _page() -> int:
    """The page number of a list page; anything that is not a small ASCII number means page 1."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1


def _course_or_404(course_slug: str) -> Any:
    """A course of the catalog (drafts included), or 404."""
    course = catalog.catalog().course(course_slug)
    if course is None:
        abort(404)
    return course


def _lesson_or_404(course: Any, lesson_slug: str) -> Any:
    """A lesson of a course, or 404."""
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        abort(404)
    return lesson


def user_or_404(user_id: int) -> User:
    """A person by id, or 404."""
    user = accounts.find_user(user_id)
    if user is None:
        abort(404)
    return user


def back_to(user_id: int) -> Any:
    """Redirect (303) to a person's detail page after an action."""
    return redirect(url_for("manage.affiliate", user_id=user_id), 303)


def refused(error: ActionRefused) -> None:
    """Roll back and explain a refused action."""
    db.session.rollback()
    flash(REFUSALS.get(error.code, REFUSALS["role"])(), "error")


def person_action(user_id: int, form: Form, act: Callable[[User, Any], Outcome], *,
                  unconfirmed: str | None = None, done: Callable[[User], Any] = lambda user: back_to(user.id)) -> Any:
    """The one skeleton of every manager action on a person: load (404), validate, act, commit, flash, redirect.

    A broken form (token, hidden fields) is a 400; text the input rule refuses is a 400 that says why; a form
    that only misses its confirmation box or a reason says `unconfirmed` and changes nothing; a rule that
    refuses rolls back and explains. `act` calls a service (which writes the audit row) and returns what to flash.
    """
    user = user_or_404(user_id)
    if not form.validate_on_submit():
        for name, problem in form.refused_fields.items():
            raise InputRefused("form", str(form[name].label.text or name), problem)
        visible = {"confirm", "reason"}
        if unconfirmed is None or any(errors for name, errors in form.errors.items() if name not in visible):
            abort(400)
        flash(unconfirmed, "warning")
        return back_to(user.id)
    try:
        outcome = act(user, form)
    except ActionRefused as error:
        refused(error)
        return back_to(user.id)
    db.session.commit()
    if outcome:
        flash(*outcome)
    return done(user)


# --- overview and reports ------------------------------------------------------------------------------------

@bp.get("/")
@manager_required
def overview() -> Any:
    """Figures of the last 30 days, quizzes most often failed, idle affiliates, and two charts."""
    cat = catalog.catalog()
    data = overview_report.overview(cat, current_language(), inactive_page=_page())
    weekly = bar_chart("chart-weekly", _("Course completions per week"),
                       _("Completions per week over the last %(n)d weeks: %(total)d in all.",
                         n=len(data.weekly_completions), total=sum(v for _d, v in data.weekly_completions)),
                       [(format_date(day, "d MMM"), value) for day, value in data.weekly_completions],
                       _("completions"),
                       empty_text=_("No data yet: no course was completed in the last %(n)d weeks.",
                                    n=len(data.weekly_completions)))
    drops = [bar_chart(f"chart-drop-{d.course_slug}", _("Drop-off in %(course)s", course=d.title),
                       ngettext("%(num)d affiliate started; lesson completions in course order.",
                                "%(num)d affiliates started; lesson completions in course order.", d.started),
                       [(_("Started"), d.started)] + [(f"{i}. {title}", n) for i, (_slug, title, n)
                                                       in enumerate(d.lessons, 1)], _("affiliates"),
                       shorts=[_("Started")] + [_("Lesson %(n)d", n=i) for i in range(1, len(d.lessons) + 1)],
                       empty_text=_("No data yet: nobody has started this course."))
             for d in data.drop_off]
    return render_template("manage/overview.html", data=data, weekly=weekly, drops=drops, courses=cat.courses,
                           lang=current_language(), reviews=review_queue.review_figures())


@bp.get("/courses/<course_slug>")
@manager_required
def course_progress(course_slug: str) -> Any:
    """The affiliates x lessons matrix of one course: filter, sort, pages."""
    course = _course_or_404(course_slug)
    sort = request.args.get("sort", "name")
    status = request.args.get("status", "all")
    page = matrix.course_matrix(course, q=_q(), sort=sort, status=status, page=_page(), per_page=PER_PAGE)
    sort = sort if sort in matrix.MATRIX_SORTS else "name"
    status = status if status in matrix.MATRIX_STATUSES else "all"
    return render_template("manage/course.html", course=course, page=page, q=_q(), sort=sort, status=status,
                           lang=current_language(), args={"q": _q(), "sort": sort, "status": status})


@bp.get("/courses/<course_slug>/<lesson_slug>/questions")
@manager_required
def questions(course_slug: str, lesson_slug: str) -> Any:
    """Per question: share right, most chosen wrong option, discrimination index, per language version."""
    course = _course_or_404(course_slug)
    lesson = _lesson_or_404(course, lesson_slug)
    if lesson.texts[lesson.language].quiz is None:
        abort(404)
    versions, older = question_report.question_analysis(course.slug, lesson)
    return render_template("manage/questions.html", course=course, lesson=lesson, versions=versions, older=older,
                           lang=current_language())


# --- affiliates ----------------------------------------------------------------------------------------------

@bp.get("/affiliates")
@manager_required
def affiliates() -> Any:
    """People, searchable by name or email, with course counts."""
    role = request.args.get("role", "")
    role = role if role in ("affiliate", "manager") else ""
    page = people.users_page(q=_q(), role=role, page=_page(), per_page=PER_PAGE)
    return render_template("manage/affiliates.html", page=page, q=_q(), role=role, args={"q": _q(), "role": role},
                           managers=coaches.active_managers(), bulk_form=BulkCoachForm())


@bp.get("/affiliates/<dbid:user_id>")
@manager_required
def affiliate(user_id: int) -> Any:
    """One person: courses with status, attempts with answers, certificates, and the actions."""
    user = user_or_404(user_id)
    cat = catalog.catalog()
    lang = current_language()
    return render_template(
        "manage/affiliate.html", user=user, courses=people.user_courses(cat, user.id, lang),
        attempts=people.attempt_views(cat, user.id, lang, page=_page(), per_page=PER_PAGE),
        certificates=certificates.certificates_of(user.id),
        history=audit.recent_for("user", user.id), role_form=RoleForm(role=user.role), revoke_form=RevokeForm(),
        reset_form=ResetLessonForm(), action_form=ActionForm(), is_self=user.id == current_user.id,
        coach=coaches.coach_of(user.id), managers=coaches.active_managers(), work=assignment_views.work_states(user.id))


def _lesson_from(form: LessonActionForm) -> tuple[Any, Any]:
    """The course and lesson a lesson action names, or 404."""
    course = _course_or_404(form.course.data)
    return course, _lesson_or_404(course, form.lesson.data)


@bp.post("/affiliates/<dbid:user_id>/grant-attempt")
@manager_required
def grant_attempt(user_id: int) -> Any:
    """Allow one more quiz attempt."""
    def act(user: User, form: LessonActionForm) -> Outcome:
        course, lesson = _lesson_from(form)
        management.grant_attempt(current_user, user, course, lesson)
        return _("One more attempt granted for “%(lesson)s”.", lesson=lesson.text(current_language())[0].title), \
            "success"

    return person_action(user_id, LessonActionForm(), act)


@bp.post("/affiliates/<dbid:user_id>/reset-lesson")
@manager_required
def reset_lesson(user_id: int) -> Any:
    """Reset a lesson's progress; the confirmation checkbox is required."""
    def act(user: User, form: ResetLessonForm) -> Outcome:
        course, lesson = _lesson_from(form)
        title = lesson.text(current_language())[0].title
        if management.reset_lesson(current_user, user, course, lesson):
            return _("Progress in “%(lesson)s” has been reset; its assignment is open again and the affiliate has "
                     "been told by mail.", lesson=title), "success"
        return _("Progress in “%(lesson)s” has been reset.", lesson=title), "success"

    return person_action(user_id, ResetLessonForm(), act,
                         unconfirmed=_("Tick the confirmation box to reset the lesson."))


def _set_active(user_id: int, active: bool) -> Any:
    """Deactivate or reactivate an account."""
    def act(user: User, _form: ActionForm) -> Outcome:
        if not management.set_active(current_user, user, active):
            return None
        return (_("The account is active again.") if active else
                _("The account is deactivated and every session of it has ended."), "success")

    return person_action(user_id, ActionForm(), act)


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
    def act(user: User, form: RoleForm) -> Outcome:
        changed = management.change_role(current_user, user, form.role.data)
        return (_("The role has been changed."), "success") if changed else None

    return person_action(user_id, RoleForm(), act)


@bp.post("/affiliates/<dbid:user_id>/certificates/<cert_id>/revoke")
@manager_required
def revoke(user_id: int, cert_id: str) -> Any:
    """Revoke one of this person's certificates with a reason (revoking twice changes nothing)."""
    cert = certificates.certificate_of_person(user_id, cert_id)
    if cert is None:
        abort(404)

    def act(_user: User, form: RevokeForm) -> Outcome:
        if management.revoke_certificate(current_user, cert, form.reason.data):
            return _("The certificate has been revoked."), "success"
        return _("The certificate was already revoked."), "info"

    return person_action(user_id, RevokeForm(), act, unconfirmed=_("Give a reason for the revocation."))


@bp.post("/affiliates/<dbid:user_id>/password-reset")
@manager_required
def password_reset(user_id: int) -> Any:
    """Create a password reset link for an affiliate and show it once."""
    token: list[str] = []

    def act(user: User, _form: ActionForm) -> Outcome:
        token.append(management.password_reset_link(current_user, user))
        return None

    def show(user: User) -> Any:
        link = external_url("auth.open_reset_link", token=token[0])
        return render_template("manage/link_once.html", link=link, user=user, kind="reset",
                               back=url_for("manage.affiliate", user_id=user.id))

    return person_action(user_id, ActionForm(), act, done=show)


# --- audit log -----------------------------------------------------------------------------------------------

@bp.get("/audit")
@manager_required
def audit_log() -> Any:
    """Every manager action: who, what, when, on what."""
    return render_template("manage/audit.html", page=audit.entries(page=_page(), per_page=PER_PAGE))


# --- exports -------------------------------------------------------------------------------------------------

def _csv_response(name: str, header: list[str], rows: Any) -> Response:
    """Stream a CSV download; memory stays constant whatever the number of rows."""
    exports.record_download(current_user, name)
    db.session.commit()
    filename = f"{name}-{utcnow():%Y-%m-%d}.csv"
    response = Response(stream_with_context(exports.csv_stream(header, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = attachment(filename)
    return response


@bp.get("/export/progress.csv")
@manager_required
def export_progress() -> Any:
    """Progress per affiliate and course as CSV."""
    return _csv_response("progress", exports.PROGRESS_HEADER, exports.progress_rows(catalog.catalog()))


@bp.get("/export/attempts.csv")
@manager_required
def export_attempts() -> Any:
    """Every quiz attempt as CSV."""
    return _csv_response("attempts", exports.ATTEMPTS_HEADER, exports.attempt_rows())


# --- content -------------------------------------------------------------------------------------------------

@bp.get("/content")
@manager_required
def content() -> Any:
    """Every course and lesson file with languages, quiz size, version, last change, and every problem."""
    cat = catalog.catalog()
    return render_template("manage/content.html", courses=content_status.content_status(cat, current_language()),
                           problems=cat.errors, form=ActionForm(), editor=authoring_history.editor_state())


@bp.post("/content/reload")
@manager_required
def reload_content() -> Any:
    """Reload the content files now."""
    if not ActionForm().validate_on_submit():
        abort(400)
    cat = management.reload_content(current_user, current_app.extensions["coaching.content"])
    db.session.commit()
    if cat.has_errors:
        flash(_("Content reloaded with errors; the lessons with errors keep their last good version."), "warning")
    else:
        flash(_("Content reloaded."), "success")
    return redirect(url_for("manage.content"), 303)


# --- invites -------------------------------------------------------------------------------------------------

@bp.get("/invites")
@manager_required
def invites() -> Any:
    """Invites with their status, and the form to create one."""
    return _render_invites(InviteForm())


def _render_invites(form: InviteForm, status: int = 200) -> Any:
    """Render the invites page."""
    return render_template("manage/invites.html", form=form, page=invite_reports.invites_page(page=_page()),
                           action_form=ActionForm()), status


@bp.post("/invites")
@manager_required
def create_invite() -> Any:
    """Create a single-use invite and show its link once (only its hash is stored)."""
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _render_invites(form, 400)
    _invite, token = management.create_invite(current_user, form.email.data)
    link = external_url("auth.register", invite=token)
    db.session.commit()
    return render_template("manage/link_once.html", link=link, user=None, kind="invite",
                           back=url_for("manage.invites"))


@bp.post("/invites/<dbid:invite_id>/withdraw")
@manager_required
def withdraw_invite(invite_id: int) -> Any:
    """Withdraw an unused invite."""
    invite = accounts.find_invite(invite_id)
    if invite is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    changed = management.withdraw_invite(current_user, invite)
    db.session.commit()
    flash(_("The invite has been withdrawn.") if changed else _("This invite can no longer be withdrawn."),
          "success" if changed else "info")
    return redirect(url_for("manage.invites"), 303)
