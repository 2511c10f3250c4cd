"""Manager views for whole content files in the browser: a new lesson or course, renaming and deleting a lesson,
and pictures for a course. Thin: parse, call services.authoring_files, publish and commit, render or redirect."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import manager_required
from ..content.images import ImageRefused
from ..content.scaffold import slugify
from ..extensions import db
from ..i18n import current_language
from ..services import authoring, authoring_files, publishing
from ..services.authoring import AuthoringError
from . import bp
from .authoring import disabled, edit_url, message_for, ref_or_404, titles
from .forms import DeleteLessonForm, ImageForm, NewCourseForm, NewLessonForm, RenameForm


def _publish(changes: list, revisions: list) -> None:
    """Write the files of an action and commit (nothing written when the commit fails, nothing committed when a
    write fails)."""
    publishing.publish(authoring.store().content_dir, changes, revisions, db.session.commit)
    authoring.store().reload(force=False)


def _course_or_404(course_slug: str) -> str:
    """A course the editor knows (its course.md on disk or in the database), or 404."""
    ref = authoring.locate(course_slug, None, None)
    if ref is None or not ref.exists:
        abort(404)
    return course_slug


@bp.route("/content/<course_slug>/new", methods=["GET", "POST"])
@manager_required
def new_lesson(course_slug: str) -> Any:
    """A new lesson from a template, placed after the last one; it starts as a draft."""
    if not authoring.editing_enabled():
        return disabled()
    _course_or_404(course_slug)
    form = NewLessonForm()
    error = None
    if form.validate_on_submit():
        slug = (form.slug.data or "").strip() or slugify(form.title.data)
        try:
            ref, saved = authoring_files.create_lesson(
                current_user, course_slug, title=form.title.data.strip(), slug=slug,
                summary=(form.summary.data or "").strip(), minutes=form.minutes.data,
                lang=authoring.course_language(course_slug))
            db.session.commit()
        except (AuthoringError, publishing.FolderError) as refusal:
            db.session.rollback()
            error = message_for(refusal)
        else:
            flash(_("The lesson is created as a draft. Write it, then choose “Save and publish”."), "success")
            return redirect(edit_url(ref), 303)
    elif request.method == "POST" and form.csrf_token.errors:
        abort(400)
    course_title, _lesson = titles(authoring.FileRef(course_slug, None, "", "course.md", True))
    status = 400 if request.method == "POST" else 200
    return render_template("manage/content/new_lesson.html", form=form, course_slug=course_slug,
                           course_title=course_title, error=error), status


@bp.route("/content/new", methods=["GET", "POST"])
@manager_required
def new_course() -> Any:
    """A new course: its folder and course.md (unpublished until the manager sets published: true)."""
    if not authoring.editing_enabled():
        return disabled()
    form = NewCourseForm(language=current_language()) if request.method == "GET" else NewCourseForm()
    error = None
    if form.validate_on_submit():
        slug = (form.slug.data or "").strip() or slugify(form.title.data)
        try:
            ref, saved = authoring_files.create_course(current_user, title=form.title.data.strip(), slug=slug,
                                                       summary=(form.summary.data or "").strip(),
                                                       lang=form.language.data)
            _publish(saved.changes, saved.revisions)
        except (AuthoringError, publishing.FolderError) as refusal:
            db.session.rollback()
            error = message_for(refusal)
        else:
            flash(_("The course is created. It stays hidden from affiliates until you set “published: true”."),
                  "success")
            return redirect(edit_url(ref), 303)
    elif request.method == "POST" and form.csrf_token.errors:
        abort(400)
    return render_template("manage/content/new_course.html", form=form, error=error), \
        400 if request.method == "POST" else 200


@bp.route("/content/<course_slug>/<lesson_slug>/rename", methods=["GET", "POST"])
@manager_required
def rename(course_slug: str, lesson_slug: str) -> Any:
    """Give a lesson a new address name; the old address redirects, progress and attempts move along."""
    if not authoring.editing_enabled():
        return disabled()
    ref = ref_or_404(course_slug, lesson_slug)
    form = RenameForm()
    error = None
    if form.validate_on_submit():
        new_slug = form.slug.data.strip()
        try:
            batch = authoring_files.rename_lesson(current_user, course_slug, lesson_slug, new_slug)
            _publish(batch.changes, batch.revisions)
        except (AuthoringError, publishing.FolderError) as refusal:
            db.session.rollback()
            error = message_for(refusal)
        else:
            flash(_("The lesson is renamed. Its old address leads to the new one."), "success")
            return redirect(url_for("manage.edit", course_slug=course_slug, lesson_slug=new_slug), 303)
    elif request.method == "POST" and form.csrf_token.errors:
        abort(400)
    course_title, lesson_title = titles(ref)
    return render_template("manage/content/rename.html", ref=ref, form=form, error=error,
                           course_title=course_title, lesson_title=lesson_title), \
        400 if request.method == "POST" else 200


@bp.route("/content/<course_slug>/<lesson_slug>/delete", methods=["GET", "POST"])
@manager_required
def delete(course_slug: str, lesson_slug: str) -> Any:
    """Delete a lesson (`?lang=de`: only that translation) after a confirmation; archived, progress kept."""
    if not authoring.editing_enabled():
        return disabled()
    ref = ref_or_404(course_slug, lesson_slug)
    if not ref.exists:
        abort(404)
    form = DeleteLessonForm()
    if request.method == "POST":
        if form.csrf_token.errors or not form.validate_on_submit():
            if form.csrf_token.errors:
                abort(400)
            flash(_("Tick the confirmation box to delete."), "warning")
            return redirect(request.full_path, 303)
        try:
            batch = authoring_files.delete_lesson(current_user, course_slug, lesson_slug, ref.lang)
            _publish(batch.changes, batch.revisions)
        except (AuthoringError, publishing.FolderError) as refusal:
            db.session.rollback()
            flash(message_for(refusal), "error")
            return redirect(request.full_path, 303)
        flash(_("Deleted. The file is archived, its history and everyone's progress are kept."), "success")
        return redirect(url_for("manage.content"), 303)
    course_title, lesson_title = titles(ref)
    files = authoring_files.lesson_names(course_slug).get(lesson_slug, [])
    return render_template("manage/content/delete.html", ref=ref, form=form, course_title=course_title,
                           lesson_title=lesson_title, files=[f for f in files if not ref.lang
                                                             or f.endswith(f".{ref.lang}.md")])


@bp.route("/content/<course_slug>/images", methods=["GET", "POST"])
@manager_required
def images(course_slug: str) -> Any:
    """The course's pictures, and the upload form (the picture is checked by content; a description is
    required). A JSON client gets the Markdown to insert into the editor."""
    if not authoring.editing_enabled():
        return disabled()
    _course_or_404(course_slug)
    form = ImageForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    if request.method == "POST":
        if form.csrf_token.errors:
            abort(400)
        if not form.validate_on_submit():
            return _image_refused(course_slug, form, _("Choose a picture and describe it."), wants_json)
        data = form.image.data.read(authoring_files.MAX_UPLOAD + 1)
        try:
            upload = authoring_files.upload_image(current_user, course_slug, form.image.data.filename or "",
                                                  data, form.alt.data)
            _publish(upload.batch.changes, upload.batch.revisions)
        except (AuthoringError, ImageRefused, publishing.FolderError) as refusal:
            db.session.rollback()
            return _image_refused(course_slug, form, message_for(refusal), wants_json)
        if wants_json:
            return {"markdown": upload.markdown, "path": upload.relpath}
        flash(_("The picture is uploaded. Copy its Markdown into the lesson: %(md)s", md=upload.markdown),
              "success")
        return redirect(url_for("manage.images", course_slug=course_slug), 303)
    return _render_images(course_slug, form)


def _image_refused(course_slug: str, form: ImageForm, message: str, wants_json: bool) -> Any:
    """Explain a refused upload (JSON for the editor's insert dialog)."""
    if wants_json:
        return {"error": message}, 400
    return _render_images(course_slug, form, error=message, status=400)


def _render_images(course_slug: str, form: ImageForm, *, error: str | None = None, status: int = 200) -> Any:
    """The pictures page."""
    course_title, _lesson = titles(authoring.FileRef(course_slug, None, "", "course.md", True))
    return render_template("manage/content/images.html", course_slug=course_slug, course_title=course_title,
                           names=authoring_files.image_names(course_slug), form=form, error=error), status
