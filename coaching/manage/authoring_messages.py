"""The manager's words for the browser editor: every refusal (codes from services.authoring, services.publishing
and content.images), the names of history entries, and the check's one-line summary."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..content.images import ImageRefused

# What each refusal means, for the manager (codes from services.authoring, publishing and content.images).
MESSAGES = {
    "too_large": _l("The text is larger than 1 MB, the largest file the site reads. Split the lesson in two."),
    "not_utf8": _l("The text holds characters that are not valid UTF-8. Copy it into the editor again as plain "
                   "text."),
    "control": _l("The text holds invisible control characters (such as NUL). Remove them, e.g. by pasting the "
                  "text as plain text."),
    "empty": _l("The text is empty. To remove a lesson, use Delete."),
    "slug_length": _l("The address name must have 1 to 60 characters."),
    "slug_format": _l("The address name may only hold lowercase letters a-z, digits and single hyphens "
                      "(e.g. “better-headlines”)."),
    "slug_reserved": _l("This word is used by the site's own addresses (preview, reload, new, edit, assets, "
                        "history, images). Choose another name."),
    "slug_taken": _l("This address name is or was used by another lesson of this course (its progress is kept "
                     "under it). Choose another name."),
    "same_slug": _l("That is the lesson's current address name."),
    "course_taken": _l("A course with this address name exists already. Choose another name."),
    "no_course": _l("This course has no course.md yet."),
    "not_found": _l("This lesson does not exist (any more)."),
    "busy": _l("Someone changed these files at the same moment. Nothing was saved; please try again."),
    "alt_missing": _l("Describe the picture for people who cannot see it (the description is required)."),
    "read_only": _l("The content folder of this server cannot be written (it is read-only). Nothing was saved "
                    "and readers still see the published version. Please tell your operator."),
    "disk_full": _l("The server's disk is full. Nothing was saved and readers still see the published "
                    "version. Please tell your operator."),
    "symlink": _l("This file is a link to another place on the server, so it cannot be edited here. Nothing was "
                  "saved. Please tell your operator."),
    "failed": _l("The content folder could not be written. Nothing was saved and readers still see the "
                 "published version. Please try again or tell your operator."),
}
IMAGE_MESSAGES = {
    "empty": _l("The file is empty."),
    "too_large": _l("The picture is larger than 2 MB. Make it smaller (e.g. 1600 pixels wide) and try again."),
    "unknown_type": _l("This file is not a PNG, JPEG, WebP, GIF or SVG picture, whatever its name says."),
    "broken": _l("The picture cannot be read. Export it again from your image program."),
    "trailing_data": _l("The file holds something else besides the picture. Export it again from your image "
                        "program."),
    "markup": _l("The file holds web page code (HTML or script) besides the picture, so it is refused."),
    "too_many_pixels": _l("The picture has too many pixels. Make it smaller and try again."),
    "svg_invalid": _l("The SVG cannot be read as plain SVG (it is broken, or uses a DTD or entities)."),
    "svg_script": _l("The SVG holds script, event handlers or embedded documents, so it is refused. Export it "
                     "again as a plain drawing."),
    "svg_external": _l("The SVG loads files or addresses from outside itself, so it is refused. Embed everything "
                       "in the file."),
}
ACTION_LABELS = {
    "save": _l("saved"), "restore": _l("restored"), "create": _l("created"), "rename": _l("renamed"),
    "delete": _l("deleted"), "import": _l("taken from the content folder"), "upload": _l("uploaded"),
    "sync": _l("changed in the content folder"),
}


def message_for(error: Exception) -> str:
    """The manager's words for a refusal."""
    if isinstance(error, ImageRefused):
        return str(IMAGE_MESSAGES.get(error.code, IMAGE_MESSAGES["broken"]))
    return str(MESSAGES.get(getattr(error, "code", ""), MESSAGES["failed"]))


def check_summary(errors: int, warnings: int) -> str:
    """'No problems', or how many errors and warnings, in the manager's language."""
    if not errors and not warnings:
        return _("No problems: this text can be published.")
    parts = []
    if errors:
        parts.append(ngettext("%(num)d error", "%(num)d errors", errors))
    if warnings:
        parts.append(ngettext("%(num)d warning", "%(num)d warnings", warnings))
    return ", ".join(parts)
