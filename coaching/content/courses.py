"""Reading `course.md` and its translations into the settings of a course folder."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

from . import frontmatter as fm
from .catalog import CertificateSettings, CourseText, resolve_asset
from .files import ContentFile, Folder, check_images, key_line, parse, read_file

DEFAULT_PASS_MARK = 80


@dataclass
class CourseMeta:
    """Course settings from course.md; `order_line` is where `order:` stands (for messages)."""

    order: int = 0
    language: str = "en"
    published: bool = True
    pass_mark: int = DEFAULT_PASS_MARK
    certificate: CertificateSettings = field(default_factory=CertificateSettings)
    texts: dict[str, CourseText] = field(default_factory=dict)
    external_images: bool = False
    order_line: int = 1


def read_meta(folder: Folder, course_files: dict[str, ContentFile]) -> CourseMeta | None:
    """Read course.md and its translations; fall back to the previous course when broken.

    Sets `folder.context` to allow external images when course.md does (before anything renders).
    Returns None when the folder has no usable course.md.
    """
    main = course_files.pop("", None)
    if main is None:
        return None
    meta = _read_course(folder, main)
    if meta is None and folder.previous is not None:
        prev = folder.previous
        meta = CourseMeta(prev.order, prev.language, prev.published, prev.pass_mark, prev.certificate,
                          dict(prev.texts), prev.external_images)
        folder.context = replace(folder.context, external_images=meta.external_images)
    if meta is None:
        for file in course_files.values():
            if folder.wants(file):
                read_file(file, folder.root)
            file.lang = file.lang or "en"
        return None
    main.lang = meta.language
    if meta.language in course_files:
        course_files[meta.language].add(1, f"course.{meta.language}.md repeats the course "
                                           "language; put that text in course.md")
        course_files.pop(meta.language)
    for file in course_files.values():
        if folder.wants(file):
            _read_translation(folder, file, meta)
    return meta


def _read_course(folder: Folder, file: ContentFile) -> CourseMeta | None:
    """Parse course.md into settings, or None when it has errors."""
    values, doc = parse(file, folder.root, fm.COURSE)
    if values is None:
        return None
    language = values.get("language", "en")
    file.lang = language
    folder.context = replace(folder.context, external_images=values.get("allow_external_images", False))
    text = _course_text(folder, file, doc, values, language)
    certificate = _certificate(folder, file, values.get("certificate", {}), language)
    if not file.ok:
        return None
    return CourseMeta(values["order"], language, values.get("published", True),
                      values.get("pass_mark", DEFAULT_PASS_MARK), certificate, {language: text},
                      values.get("allow_external_images", False), key_line(doc, "order"))


def _course_text(folder: Folder, file: ContentFile, doc: fm.Document, values: dict, lang: str) -> CourseText:
    """Render a course description."""
    rendered = folder.context.document(doc.body)
    check_images(file, folder, rendered.images, rendered.external_images, doc.body_line)
    return CourseText(lang, values.get("title", folder.slug), values.get("summary", ""), rendered.html)


def _certificate(folder: Folder, file: ContentFile, values: dict, lang: str) -> CertificateSettings:
    """Build certificate settings, checking that the logo exists."""
    logo = None
    if "logo" in values:
        relpath, line = values["logo"]
        logo = resolve_asset(folder.path, relpath)
        if logo is None:
            file.add(line, f"certificate logo not found in the course folder: {relpath}")
    titles = {lang: values["title"]} if "title" in values else {}
    return CertificateSettings(values.get("title"), values.get("signer_name"), values.get("signer_role"),
                               values.get("validity_months"), logo, MappingProxyType(titles))


def _read_translation(folder: Folder, file: ContentFile, meta: CourseMeta) -> None:
    """Add a course.<lang>.md translation to the settings (skipped when it has errors)."""
    values, doc = parse(file, folder.root, fm.COURSE_TRANSLATION, fm.COURSE)
    if values is None:
        return
    text = _course_text(folder, file, doc, values, file.lang)
    if not file.ok:
        return
    meta.texts[file.lang] = text
    title = values.get("certificate", {}).get("title")
    if title:
        titles = dict(meta.certificate.titles, **{file.lang: title})
        meta.certificate = replace(meta.certificate, titles=MappingProxyType(titles))
