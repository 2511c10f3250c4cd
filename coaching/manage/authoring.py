"""Manager views for writing content in the browser: edit with live checks and preview, save (published or
draft), conflicts, history, diff and restore. Thin: parse, call services.authoring, publish and commit, render."""
from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import manager_required
from ..content.revisions import diff_rows, summary
from ..errors import render_error
from ..extensions import db
from ..i18n import current_language
from ..services import authoring, authoring_history, publishing
from ..services.authoring import AuthoringError, Conflict, FileRef
from ..services.reports import content_status
from . import bp
from .authoring_messages import ACTION_LABELS, IMAGE_MESSAGES, MESSAGES, check_summary, message_for
from .forms import CheckForm, EditForm, RestoreForm

TEXT_BODY_LIMIT = 3 * 1024 * 1024  # a 1 MB file sent as a form, with room to say it is too large
IMAGE_BODY_LIMIT = 2 * 1024 * 1024 + 64 * 1024  # a 2 MB picture and the form around it
TEXT_ENDPOINTS = {"manage.save", "manage.check_text"}


@bp.url_value_preprocessor
def _authoring_limits(endpoint: str | None, _values: dict | None) -> None:
    """Raise the body limits for the editor's forms only, before anything parses the body; keep the raw body
    of text forms (the form is parsed from it, and it is checked for invalid UTF-8)."""
    if request.method != "POST":
        return
    if endpoint in TEXT_ENDPOINTS:
        request.max_content_length = request.max_form_memory_size = TEXT_BODY_LIMIT
        request.get_data(cache=True)
    elif endpoint == "manage.images":
        request.max_content_length = IMAGE_BODY_LIMIT


@bp.errorhandler(413)
def _too_large(_error: Any) -> Any:
    """A body over the limit: say which limit, in the editor's words."""
    if request.endpoint == "manage.images":
        return render_error(413, IMAGE_MESSAGES["too_large"])
    if request.endpoint in TEXT_ENDPOINTS:
        return render_error(413, MESSAGES["too_large"])
    return render_error(413)


def body_is_utf8() -> bool:
    """Whether the raw form body is valid UTF-8 (the form parser would silently replace bad bytes)."""
    raw = request.get_data(cache=True)
    pieces = [raw]
    if request.mimetype == "application/x-www-form-urlencoded":  # each name and value on its own
        pieces = [unquote_to_bytes(p.replace(b"+", b" ")) for pair in raw.split(b"&") for p in pair.split(b"=", 1)]
    try:
        for piece in pieces:
            piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def ref_or_404(course_slug: str, lesson_slug: str | None, *, deleted: bool = False) -> FileRef:
    """The file an editor URL names (`?lang=` for a translation), or 404."""
    ref = authoring.locate(course_slug, lesson_slug, request.args.get("lang"), deleted=deleted)
    if ref is None:
        abort(404)
    return ref


def disabled() -> Any:
    """The page shown when browser editing is switched off on this site."""
    return render_template("manage/content/disabled.html"), 403


def edit_url(ref: FileRef) -> str:
    """The editor of a file."""
    return url_for("manage.edit", course_slug=ref.course_slug, lesson_slug=ref.lesson_slug, lang=ref.lang or None)


def titles(ref: FileRef) -> tuple[str, str | None]:
    """The course title and the lesson title (as served now) for headings and breadcrumbs."""
    course = authoring.store().catalog.course(ref.course_slug)
    lang = current_language()
    course_title = course.text(lang).title if course is not None else ref.course_slug
    lesson = course.lesson(ref.lesson_slug) if course is not None and ref.lesson_slug else None
    return course_title, (lesson.text(lang)[0].title if lesson is not None else ref.lesson_slug)


def languages(ref: FileRef) -> list[tuple[str, bool]]:
    """Every language of the file with whether that file exists (the editor offers to start a missing one)."""
    names = authoring.course_names(authoring.store().content_dir, ref.course_slug)
    default = authoring.course_language(ref.course_slug)
    base = "course" if ref.lesson_slug is None else ref.name.split(".")[0]
    return [(lang, f"{base}.md" in names if lang == default else f"{base}.{lang}.md" in names)
            for lang in ("en", "de")]


def render_edit(ref: FileRef, opened: authoring.Opened, form: EditForm, *, status: int = 200,
                error: str | None = None) -> Any:
    """The edit page: the text, its problems beside it and the preview, or an explanation of a refusal."""
    result = None
    with contextlib.suppress(AuthoringError):  # a refusal is shown as `error`; the text stays in the form
        result = authoring.check(ref, authoring.clean_text(form.text.data or ""))
    course_title, lesson_title = titles(ref)
    summary_text = check_summary(result.errors, len(result.problems) - result.errors) if result else ""
    return render_template("manage/content/edit.html", ref=ref, opened=opened, form=form, result=result,
                           error=error, course_title=course_title, lesson_title=lesson_title, summary=summary_text,
                           languages=languages(ref), file_lang=_lang_of(ref), images_form=_image_form()), status


def _image_form() -> Any:
    """The picture upload form shown in the editor."""
    from .forms import ImageForm

    return ImageForm()


@bp.get("/content/<course_slug>/edit", defaults={"lesson_slug": None})
@bp.get("/content/<course_slug>/<lesson_slug>/edit")
@manager_required
def edit(course_slug: str, lesson_slug: str | None) -> Any:
    """The editor of a lesson file or course.md (`?lang=de`: the translation, started from the original)."""
    if not authoring.editing_enabled():
        return disabled()
    ref = ref_or_404(course_slug, lesson_slug)
    try:
        template = None if ref.exists or not ref.lang else _translation_template(ref)
        opened = authoring.open_file(ref, template)
    except publishing.FolderError as error:
        return render_error(400, message_for(error))
    form = EditForm(text=opened.text, base=str(opened.base_id), base_sha=opened.base_sha)
    return render_edit(ref, opened, form)


def _translation_template(ref: FileRef) -> str:
    """A missing translation starts as a copy of the original."""
    from ..services.authoring_files import translation_template

    return translation_template(ref)


@bp.post("/content/<course_slug>/edit", defaults={"lesson_slug": None})
@bp.post("/content/<course_slug>/<lesson_slug>/edit")
@manager_required
def save(course_slug: str, lesson_slug: str | None) -> Any:
    """Save the text: published when it has no errors (and the manager asked), else kept as a draft."""
    if not authoring.editing_enabled():
        return disabled()
    ref = ref_or_404(course_slug, lesson_slug)
    form = EditForm()
    valid = form.validate_on_submit()
    if not valid and refused_text(form) is None:
        abort(400)
    try:
        opened = authoring.open_file(ref)
    except publishing.FolderError as error:
        return render_error(400, message_for(error))
    if not valid:  # the text holds what no text may hold (the input rule): the editor says what, nothing saved
        form.text.data = opened.text
        return render_edit(ref, opened, form, status=400, error=MESSAGES[refused_text(form)])
    if not body_is_utf8():
        form.text.data = opened.text
        return render_edit(ref, opened, form, status=400, error=MESSAGES["not_utf8"])
    try:
        saved = authoring.save(current_user, ref, form.text.data or "", base_id=int(form.base.data),
                               base_sha=form.base_sha.data or "", message=form.message.data or "",
                               publish=form.action.data != "draft")
    except Conflict as conflict:
        db.session.rollback()
        return render_conflict(ref, conflict)
    except (AuthoringError, publishing.FolderError) as error:
        db.session.rollback()
        return render_edit(ref, opened, form, status=400, error=message_for(error))
    if saved.state == "unchanged":
        db.session.rollback()
        flash(_("Nothing to save: the text is the same as the saved version."), "info")
        return redirect(edit_url(ref), 303)
    try:
        publishing.publish(authoring.store().content_dir, saved.changes, saved.revisions, db.session.commit)
    except publishing.FolderError as error:
        db.session.rollback()
        return render_edit(ref, opened, form, status=503, error=message_for(error))
    authoring.store().reload(force=False)
    flash(*_saved_message(saved, form.action.data != "draft"))
    return redirect(edit_url(ref), 303)


def _saved_message(saved: authoring.Saved, wanted_publish: bool) -> tuple[str, str]:
    """What to tell the manager after a save."""
    if saved.state == "published":
        return _("Published. Readers see the new version now."), "success"
    if not wanted_publish:
        return _("Saved as a draft. Readers still see the published version."), "success"
    errors = saved.result.errors if saved.result else 0
    return ngettext("Saved as a draft: the text has %(num)d error, so it cannot be published yet. Readers still "
                    "see the last published version.",
                    "Saved as a draft: the text has %(num)d errors, so it cannot be published yet. Readers "
                    "still see the last published version.", errors), "warning"


def render_conflict(ref: FileRef, conflict: Conflict) -> Any:
    """Both versions and the merge, after a save over a newer revision (nothing was saved)."""
    view = authoring_history.conflict_view(ref, conflict.mine, conflict.base_id, conflict.base_sha)
    form = EditForm(formdata=None, text=view.merged, base=str(view.base_id),
                    base_sha=_disk_sha(ref) if view.base_id == 0 else "")
    course_title, lesson_title = titles(ref)
    return render_template("manage/content/conflict.html", ref=ref, view=view, form=form,
                           course_title=course_title, lesson_title=lesson_title), 409


def _disk_sha(ref: FileRef) -> str:
    """The hash of the file on disk (the base of a file never saved in the browser)."""
    opened = authoring.open_file(ref)
    return opened.base_sha


def refused_text(form: Any) -> str | None:
    """When the only problem of a form is its text breaking the input rule: "control" or "not_utf8" (the
    editor's own messages for them); None for anything else (a token, a hidden field)."""
    problem = getattr(form.text, "refused_input", None)
    if problem is None or any(errors for name, errors in form.errors.items() if name != "text"):
        return None
    return "not_utf8" if problem in ("encoding", "surrogate") else "control"


@bp.post("/content/<course_slug>/check", defaults={"lesson_slug": None})
@bp.post("/content/<course_slug>/<lesson_slug>/check")
@manager_required
def check_text(course_slug: str, lesson_slug: str | None) -> Any:
    """Check unsaved text in the context of its course (nothing saved): problems and preview as JSON."""
    db.session.rollback()  # only reads here: give back SQLite's write lock that every POST takes up front
    if not authoring.editing_enabled():
        return {"error": _("Browser editing is switched off on this site.")}, 403
    ref = ref_or_404(course_slug, lesson_slug)
    form = CheckForm()
    if not form.validate_on_submit():
        refused = refused_text(form)
        return {"error": str(MESSAGES[refused]) if refused else _("The form expired. Reload the page.")}, 400
    if not body_is_utf8():
        return {"error": str(MESSAGES["not_utf8"])}, 400
    try:
        result = authoring.check(ref, authoring.clean_text(form.text.data or ""))
    except AuthoringError as error:
        return {"error": message_for(error)}, 400
    preview = render_template("manage/content/_preview.html", lesson=result.lesson, course_text=result.course)
    return {"errors": result.errors, "warnings": len(result.problems) - result.errors, "preview": preview,
            "summary": check_summary(result.errors, len(result.problems) - result.errors),
            "problems": [{"line": p.line, "severity": p.severity, "message": p.message} for p in result.problems]}


@bp.get("/content/<course_slug>/<lesson_slug>/preview")
@manager_required
def preview(course_slug: str, lesson_slug: str) -> Any:
    """A lesson as managers see it: the draft when there is one, else the file; answers marked, problems listed."""
    shown = content_status.preview(authoring.store().catalog, course_slug, lesson_slug, request.args.get("lang"))
    draft = None
    if authoring.editing_enabled():
        ref = authoring.locate(course_slug, lesson_slug, request.args.get("lang"))
        doc = authoring.document(ref.path) if ref is not None else None
        draft = authoring.revision(doc.draft_id) if doc is not None and not doc.deleted else None
        if draft is not None:
            result = authoring.check(ref, draft.text or "")
            shown = content_status.draft_preview(shown, ref.course_slug, ref.lesson_slug, _lang_of(ref), result)
    if shown is None:
        abort(404)
    return render_template("manage/preview.html", p=shown, draft=draft)


def _lang_of(ref: FileRef) -> str:
    """The language a file is written in."""
    return ref.lang or authoring.course_language(ref.course_slug)


@bp.get("/content/preview/<course_slug>/<lesson_slug>")
@manager_required
def preview_old_address(course_slug: str, lesson_slug: str) -> Any:
    """The preview's old address: moved for good."""
    return redirect(url_for("manage.preview", course_slug=course_slug, lesson_slug=lesson_slug,
                            **({"lang": request.args["lang"]} if "lang" in request.args else {})), 301)


@bp.get("/content/<course_slug>/history", defaults={"lesson_slug": None})
@bp.get("/content/<course_slug>/<lesson_slug>/history")
@manager_required
def history(course_slug: str, lesson_slug: str | None) -> Any:
    """Every saved version of a file (who, when, what), with compare and restore."""
    ref = ref_or_404(course_slug, lesson_slug, deleted=True)
    revisions = authoring_history.history(ref.path)
    rows = []
    for i, rev in enumerate(revisions):
        older = revisions[i + 1] if i + 1 < len(revisions) else None
        rows.append((rev, older, summary(older.text or "" if older else "", rev.text or "")))
    course_title, lesson_title = titles(ref)
    return render_template("manage/content/history.html", ref=ref, rows=rows, form=RestoreForm(),
                           head_id=revisions[0].id if revisions else 0, course_title=course_title,
                           action_labels=ACTION_LABELS,
                           lesson_title=lesson_title, editing=authoring.editing_enabled())


def _revision_arg(ref: FileRef, name: str) -> Any:
    """A revision of this file named in the query string, or 404."""
    raw = request.args.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        abort(404)
    found = authoring_history.revision_of(ref.path, int(raw))
    if found is None:
        abort(404)
    return found


@bp.get("/content/<course_slug>/diff", defaults={"lesson_slug": None})
@bp.get("/content/<course_slug>/<lesson_slug>/diff")
@manager_required
def diff(course_slug: str, lesson_slug: str | None) -> Any:
    """What changed between two versions of a file, as a table (`?from=` and `?to=` revision ids)."""
    ref = ref_or_404(course_slug, lesson_slug, deleted=True)
    old, new = _revision_arg(ref, "from"), _revision_arg(ref, "to")
    course_title, lesson_title = titles(ref)
    return render_template("manage/content/diff.html", ref=ref, old=old, new=new,
                           rows=diff_rows(old.text or "", new.text or ""), course_title=course_title,
                           lesson_title=lesson_title, change=summary(old.text or "", new.text or ""))


@bp.post("/content/<course_slug>/restore", defaults={"lesson_slug": None})
@bp.post("/content/<course_slug>/<lesson_slug>/restore")
@manager_required
def restore(course_slug: str, lesson_slug: str | None) -> Any:
    """Save an older version again as a new revision (the history keeps everything)."""
    if not authoring.editing_enabled():
        return disabled()
    ref = ref_or_404(course_slug, lesson_slug, deleted=True)
    form = RestoreForm()
    if not form.validate_on_submit():
        abort(400)
    old = authoring_history.revision_of(ref.path, int(form.revision.data))
    back = url_for("manage.history", course_slug=ref.course_slug, lesson_slug=ref.lesson_slug,
                   lang=ref.lang or None)
    if old is None or old.deleted or old.kind != "text":
        abort(404)
    try:
        saved = authoring_history.restore(current_user, ref, old, base_id=int(form.base.data or 0))
        if saved.state != "unchanged":
            publishing.publish(authoring.store().content_dir, saved.changes, saved.revisions, db.session.commit)
    except Conflict:
        db.session.rollback()
        flash(_("Someone saved a newer version in the meantime. Look at the history again before restoring."),
              "warning")
        return redirect(back, 303)
    except (AuthoringError, publishing.FolderError) as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(back, 303)
    if saved.state == "unchanged":
        db.session.rollback()
        flash(_("This version is the current one already."), "info")
        return redirect(back, 303)
    authoring.store().reload(force=False)
    flash(_("The version #%(id)d is restored as a new version.", id=old.id) if saved.state == "published" else
          _("The version #%(id)d is restored as a draft: it has errors now (for example an image that is gone).",
            id=old.id), "success" if saved.state == "published" else "warning")
    return redirect(edit_url(ref), 303)
