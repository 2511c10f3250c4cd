"""Reading the lesson files of a course folder: default-language texts, translations and quizzes.

Hot-reload rule: a lesson text that was served before and is now broken keeps being served (the
previous version), and so does its translation; a translation is never published beside a broken
default-language file, and says so in one message.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from . import frontmatter as fm
from .assignment import read_assignment
from .catalog import Lesson, LessonText, Quiz, resolve_asset
from .courses import DEFAULT_PASS_MARK, CourseMeta
from .files import ContentFile, Folder, check_images, external_image, key_line, parse, read_file
from .quality import quiz_warnings
from .quiz import QuizSettings, Section, adopt_ids, parse_quiz, split_quiz


def load_lessons(folder: Folder, files: list[ContentFile], meta: CourseMeta | None) -> list[Lesson]:
    """Load every lesson file; return the lessons that can be served, in order."""
    prev = folder.previous
    language = meta.language if meta else (prev.language if prev else "en")
    for file in files:
        file.lang = file.lang or language
    defaults = _pick_defaults(folder, [f for f in files if f.lang == language])
    for file in files:
        if file.lang == language and file not in defaults.values() and folder.wants(file):
            read_file(file, folder.root)  # for its hash and mtime; it is already marked
    pass_mark = meta.pass_mark if meta else DEFAULT_PASS_MARK
    lessons = []
    for _, file in sorted(defaults.items(), key=lambda kv: kv[1].order):
        translations = _translations_of(folder, file, files, language)
        if not folder.wants(file) and not any(folder.wants(t) for t in translations):
            continue  # a check of another file: this lesson is not read
        lesson = _lesson(folder, file, [t for t in translations if folder.wants(t)], language, pass_mark)
        if lesson is not None:
            lessons.append(lesson)
    for file in files:
        if file.lang != language and file.lesson_slug not in defaults and folder.wants(file):
            _orphan(folder, file, language)
    exams = [lesson for lesson in lessons if lesson.exam]
    for lesson in exams[1:]:
        defaults[lesson.slug].add(1, f"more than one exam lesson in this course (also {exams[0].slug})",
                                  "warning")
    return lessons


def _pick_defaults(folder: Folder, files: list[ContentFile]) -> dict[str, ContentFile]:
    """Pick one default-language file per slug and per order number; flag the others."""
    # A file that was served before wins a clash, so adding a file never hides an old one.
    def served_before(f: ContentFile) -> bool:
        """Return True when the previous catalog served this slug at this number."""
        prev = folder.previous.lesson(f.lesson_slug) if folder.previous else None
        return prev is not None and prev.order == f.order

    chosen: dict[str, ContentFile] = {}
    orders: dict[int, ContentFile] = {}
    for file in sorted(files, key=lambda f: (not served_before(f), f.path.name)):
        if file.lesson_slug in chosen:
            other = chosen[file.lesson_slug]
            file.add(1, f"duplicate lesson slug '{file.lesson_slug}' (also {other.path.name})")
        elif file.order in orders:
            other = orders[file.order]
            file.add(1, f"duplicate order number {file.order} (also {other.path.name})")
        else:
            chosen[file.lesson_slug] = orders[file.order] = file
    return chosen


def _translations_of(folder: Folder, default: ContentFile, files: list[ContentFile],
                     language: str) -> list[ContentFile]:
    """Return the translations of a lesson; one with another number is an error."""
    found = []
    for file in files:
        if file.lesson_slug != default.lesson_slug or file.lang == language:
            continue
        if file.order != default.order:
            if folder.wants(file):
                read_file(file, folder.root)
            file.add(1, f"the number does not match the default-language file {default.path.name}")
        else:
            found.append(file)
    return found


def _orphan(folder: Folder, file: ContentFile, language: str) -> None:
    """Report a translation whose default-language lesson is missing or rejected."""
    if file.text is None and not file.issues:
        read_file(file, folder.root)
    default = next((f for f in folder.files if f.lesson_slug == file.lesson_slug and f.lang == language),
                   None)
    if default is None:
        file.add(1, f"translation without a default-language file ({file.path.name.split('.')[0]}.md)")
    elif not file.issues:
        file.add(1, f"not published: {default.path.name} has errors")


def _lesson(folder: Folder, file: ContentFile, translations: list[ContentFile], language: str,
            pass_mark: int) -> Lesson | None:
    """Load a lesson's default-language file and its translations."""
    prev = folder.previous.lesson(file.lesson_slug) if folder.previous else None
    text, exam = _guarded(file, _default_text, folder, file, pass_mark) or (None, False)
    broken = text is None
    if broken and prev is not None and language in prev.texts:
        text, exam = prev.texts[language], prev.exam  # hot reload: keep serving the old text
    texts = {language: text} if text is not None else {}
    for tfile in translations:
        ttext = _guarded(tfile, _translation, folder, tfile, text)
        if broken:
            # Never beside a broken original: the same message whether or not an old text is served.
            if tfile.ok:
                tfile.add(1, f"not published: {file.path.name} has errors")
            ttext = None
        if ttext is None and text is not None and prev is not None and tfile.lang in prev.texts:
            ttext = prev.texts[tfile.lang]  # hot reload: the translation served with the old text
        if ttext is not None and text is not None:
            texts[tfile.lang] = ttext
    if text is None:
        return None
    return Lesson(folder.slug, file.lesson_slug, file.order, exam, MappingProxyType(texts), language)


def _guarded(file: ContentFile, function: Any, *args: Any) -> Any:
    """Run `function`; an unexpected exception becomes an error of this one file."""
    try:
        return function(*args)
    except Exception as exc:  # e.g. RecursionError on pathological Markdown
        file.add(1, f"this file could not be processed ({type(exc).__name__}); simplify it")
        return None


def _default_text(folder: Folder, file: ContentFile, pass_mark: int) -> tuple[LessonText | None, bool]:
    """Load a default-language lesson file; return (text or None on errors, exam flag)."""
    values, doc = parse(file, folder.root, fm.LESSON)
    if values is None:
        return None, False
    settings = QuizSettings(values.get("pass_mark", pass_mark), values.get("max_attempts"),
                            values.get("shuffle", True), values.get("show_answers", "after_pass"))
    text = _text(folder, file, doc, values, settings, None)
    exam = values.get("exam", False)
    if exam and text.quiz is None:
        file.add(1, "an exam lesson needs a '## Quiz' section")
    elif exam and settings.max_attempts is None:
        file.add(key_line(doc, "exam"), "an exam without 'max_attempts' can be taken again and again until "
                                        "it is passed: set max_attempts", "warning")
    file.preview = text
    return (text if file.ok else None), exam


def _translation(folder: Folder, file: ContentFile, default: LessonText | None) -> LessonText | None:
    """Load a translation; its quiz takes ids and settings from the default-language quiz."""
    values, doc = parse(file, folder.root, fm.LESSON_TRANSLATION, fm.LESSON)
    if values is None:
        return None
    quiz = default.quiz if default else None
    settings = (QuizSettings(quiz.pass_mark, quiz.max_attempts, quiz.shuffle, quiz.show_answers) if quiz
                else QuizSettings(DEFAULT_PASS_MARK))
    text = _text(folder, file, doc, values, settings, default)
    file.preview = text
    return text if file.ok else None


def _text(folder: Folder, file: ContentFile, doc: fm.Document, values: dict, settings: QuizSettings,
          default: LessonText | None) -> LessonText:
    """Render a lesson body, quiz and assignment into a LessonText (best effort, problems recorded)."""
    work = read_assignment(
        doc.body, doc.body_line, values, default=default.assignment if default else None,
        translation=default is not None, key_lines={k: v[0] for k, v in (doc.meta.items or {}).items()},
        render_document=folder.context.document, render_inline=folder.context.inline)
    for line, message, severity in work.issues:
        file.add(line, message, severity)
    check_images(file, folder, work.images, (), doc.body_line)
    section = split_quiz(work.prose, doc.body_line)
    for line, message, severity in section.issues:
        file.add(line, message, severity)
    rendered = folder.context.document(section.prose)
    check_images(file, folder, rendered.images, rendered.external_images, doc.body_line)
    quiz = _quiz(folder, file, section, settings, default)
    title = values.get("title") or file.lesson_slug or file.path.stem
    return LessonText(file.lang, title, values.get("summary", ""), values.get("minutes", 1), rendered.html,
                      rendered.toc, quiz, file.content_hash, file.shown, rendered.words, work.assignment)


def _quiz(folder: Folder, file: ContentFile, section: Section, settings: QuizSettings,
          default: LessonText | None) -> Quiz | None:
    """Parse the quiz section; a translation's quiz is aligned with the default one.

    `default` is None for a default-language file, else the default-language LessonText.
    """
    if section.quiz_lines is None:
        if default is not None and default.quiz is not None:
            file.add(1, "no '## Quiz' section: the default-language quiz is shown", "warning")
            return default.quiz
        return None
    parsed = parse_quiz(section.quiz_lines, section.heading_line, context=folder.context, settings=settings,
                        lang=file.lang)
    for line, message, severity in parsed.issues:
        file.add(line, message, severity)
    for line, relpath in parsed.images:
        if resolve_asset(folder.path, relpath) is None:
            file.add(line, f"image not found in the course folder: {relpath}")
    for line, url in parsed.external_images:
        external_image(file, folder, line, url)
    if parsed.quiz is not None:
        for line, message, severity in quiz_warnings(parsed.quiz, section.heading_line, shape=default is None):
            file.add(line, message, severity)
    if default is None or parsed.quiz is None:
        return parsed.quiz
    if default.quiz is None:
        file.add(section.heading_line, "the default-language file has no quiz; this quiz is ignored", "warning")
        return None
    quiz, line, message = adopt_ids(parsed.quiz, default.quiz)
    if quiz is None:
        file.add(line or section.heading_line, message)
        return parsed.quiz
    return quiz
