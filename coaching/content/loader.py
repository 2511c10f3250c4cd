"""Read a content folder into a Catalog, turning every problem into a ContentError.

One bad file never stops the rest from loading, and (hot-reload rule) a broken
edit of a lesson text that was served before keeps the previous version served.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import frontmatter as fm
from .assignment import read_assignment
from .catalog import (LANGUAGES, Catalog, CertificateSettings, ContentError, Course, CourseText,
                      FileStatus, Lesson, LessonText, resolve_asset)
from .markdown import count_words, render_document, render_inline
from .quiz import adopt_ids, parse_quiz, split_quiz

MAX_BYTES = 1024 * 1024
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LESSON_FILE = re.compile(r"^(\d{2,})-(.+?)(?:\.([a-z]{2}))?\.md$")
COURSE_FILE = re.compile(r"^course(?:\.([a-z]{2}))?\.md$")
DEFAULT_ASSET_BASE = "/courses/{course}/assets/"
DEFAULT_PASS_MARK = 80


def load_catalog(content_dir: Path, *, asset_base: str = DEFAULT_ASSET_BASE,
                 previous: Catalog | None = None) -> Catalog:
    """Load every course folder under `content_dir` (the folder holding course folders)."""
    root = Path(content_dir)
    shown = _Display(root)
    errors: list[ContentError] = []
    courses: list[Course] = []
    files: list[FileStatus] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        error = ContentError(shown(root), 0, f"cannot read the content folder: {exc.strerror}")
        return Catalog((), (error,), _digest([str(error)]), ())
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        path = Path(entry.path)
        if not SLUG.match(entry.name):
            errors.append(ContentError(shown(path), 0, f"'{entry.name}' is not a valid course folder "
                                       "name (lowercase letters, digits and single hyphens)"))
            continue
        if not _inside(path, root):
            errors.append(ContentError(shown(path), 0, "symlink leads outside the content folder"))
            continue
        prev = previous.course(entry.name) if previous else None
        loader = _CourseLoader(path, root, shown, asset_base.replace("{course}", entry.name), prev)
        try:
            course = loader.load()
        except Exception as exc:  # a loader bug must not take the other courses down
            loader.folder_errors.append(ContentError(shown(path), 0, "this course could not be "
                                                     f"loaded ({type(exc).__name__})"))
            course = prev
        if course is not None:
            courses.append(course)
        errors.extend(loader.folder_errors)
        files.extend(loader.statuses())
    errors.extend(e for f in files for e in f.errors)
    courses.sort(key=lambda c: (c.order, c.slug))
    errors.sort(key=lambda e: (e.path, e.line))
    fingerprint = _digest([f"{c.slug}:{c.fingerprint}" for c in courses]
                          + [f"{f.path}:{f.content_hash}" for f in files])
    return Catalog(tuple(courses), tuple(errors), fingerprint, tuple(files))


class _Display:
    """Format paths for messages: as given when relative, else relative to the dir's parent."""

    def __init__(self, root: Path):
        self.root = root
        self.base = None if not root.is_absolute() else root.parent

    def __call__(self, path: Path) -> str:
        """Return the short, stable form of a path."""
        if self.base is None:
            return path.as_posix()
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return path.as_posix()


def _inside(path: Path, root: Path) -> bool:
    """Return True when `path` (after following symlinks) stays inside `root`."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def _digest(lines: list[str]) -> str:
    """Return a sha256 hex digest over lines."""
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class _File:
    """One content file as read: its text (None when unreadable) and its problems."""

    path: Path
    shown: str
    lang: str
    lesson_slug: str | None = None
    order: int = 0
    text: str | None = None
    content_hash: str = ""
    mtime: float = 0.0
    issues: list[ContentError] = field(default_factory=list)
    preview: LessonText | None = None

    def add(self, line: int, message: str, severity: str = "error") -> None:
        """Record a problem in this file."""
        self.issues.append(ContentError(self.shown, line, message, severity))

    @property
    def ok(self) -> bool:
        """Return True when no error was recorded."""
        return not any(e.severity == "error" for e in self.issues)


def read_file(file: _File, root: Path) -> None:
    """Read a file's bytes into `file.text`, recording size, encoding and symlink problems."""
    try:
        if not _inside(file.path, root):
            file.add(1, "symlink leads outside the content folder")
            return
        stat = file.path.stat()
        file.mtime = stat.st_mtime
        if stat.st_size > MAX_BYTES:  # checked before reading anything
            file.add(1, f"the file is larger than 1 MB ({stat.st_size} bytes)")
            return
        with open(file.path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        file.add(1, f"cannot read the file: {exc.strerror}")
        return
    file.content_hash = hashlib.sha256(data).hexdigest()
    file.text = _decode(data, file)


def _decode(data: bytes, file: _File) -> str | None:
    """Decode UTF-8 (BOM stripped, newlines normalised); record empty or invalid files."""
    if len(data) > MAX_BYTES:
        file.add(1, "the file is larger than 1 MB")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        file.add(line, f"the file is not valid UTF-8 (byte {exc.start}); save it as UTF-8")
        return None
    if not text.strip():
        file.add(1, "the file is empty")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class _Meta:
    """Course settings from course.md."""

    order: int = 0
    language: str = "en"
    published: bool = True
    pass_mark: int = DEFAULT_PASS_MARK
    certificate: CertificateSettings = field(default_factory=CertificateSettings)
    texts: dict[str, CourseText] = field(default_factory=dict)


class _CourseLoader:
    """Loads one course folder."""

    def __init__(self, path: Path, root: Path, shown: _Display, asset_base: str,
                 previous: Course | None):
        self.path, self.root, self.shown = path, root, shown
        self.slug = path.name
        self.asset_base = asset_base
        self.previous = previous
        self.files: list[_File] = []
        self.folder_errors: list[ContentError] = []

    def load(self) -> Course | None:
        """Return the course, or None when it has no usable course.md."""
        course_files, lesson_files = self._scan()
        meta = self._meta(course_files)
        lessons = self._lessons(lesson_files, meta)
        if meta is None:
            return None
        fingerprint = _digest([f"{lesson.slug}:{lang}:{lesson.texts[lang].content_hash}"
                               for lesson in lessons for lang in sorted(lesson.texts)])
        return Course(self.slug, meta.order, meta.language, meta.published, meta.pass_mark,
                      meta.certificate, tuple(lessons), MappingProxyType(meta.texts), self.path,
                      fingerprint)

    def statuses(self) -> list[FileStatus]:
        """Return a FileStatus per file seen."""
        return [FileStatus(f.shown, self.slug, f.lesson_slug, f.lang, f.content_hash, f.mtime,
                           tuple(f.issues), f.preview) for f in self.files]

    def _folder_error(self, message: str) -> None:
        """Record a problem of the folder itself."""
        self.folder_errors.append(ContentError(self.shown(self.path), 0, message))

    # -- scanning -------------------------------------------------------------------------

    def _scan(self) -> tuple[dict[str, _File], list[_File]]:
        """Sort the folder's .md files into course files (by language) and lesson files."""
        course_files: dict[str, _File] = {}
        lessons: list[_File] = []
        try:
            entries = sorted(os.scandir(self.path), key=lambda e: e.name)
        except OSError as exc:
            self._folder_error(f"cannot read the folder: {exc.strerror}")
            return course_files, lessons
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.endswith(".md") or entry.is_dir():
                continue
            file = _File(Path(entry.path), self.shown(Path(entry.path)), "")
            try:
                file.mtime = entry.stat().st_mtime  # also for files that are never read
            except OSError:
                pass
            self.files.append(file)
            self._classify(file, entry.name, course_files, lessons)
        return course_files, lessons

    def _classify(self, file: _File, name: str, course_files: dict, lessons: list) -> None:
        """Check a file name and put the file in the right group."""
        if m := COURSE_FILE.match(name):
            file.lang = m.group(1) or ""
            if file.lang and file.lang not in LANGUAGES:
                file.add(1, f"unsupported language '.{file.lang}' (use one of {', '.join(LANGUAGES)})")
                return
            course_files[file.lang] = file
            return
        m = LESSON_FILE.match(name)
        if not m:
            file.add(1, "not a lesson file name: use NN-slug.md or NN-slug.de.md "
                        "(NN = two or more digits)")
            return
        lang, slug = m.group(3) or "", m.group(2)
        if lang and lang not in LANGUAGES:
            file.add(1, f"unsupported language '.{lang}' (use one of {', '.join(LANGUAGES)})")
            return
        if not SLUG.match(slug):
            file.add(1, f"'{slug[:60]}' is not a valid lesson slug "
                        "(lowercase letters, digits and single hyphens)")
            return
        file.lang, file.lesson_slug, file.order = lang, slug, int(m.group(1))
        lessons.append(file)

    # -- course.md ------------------------------------------------------------------------

    def _meta(self, course_files: dict[str, _File]) -> _Meta | None:
        """Read course.md and its translations; fall back to the previous course when broken."""
        main = course_files.pop("", None)
        if main is None:
            self._folder_error("missing course.md: the lessons in this folder have no course")
            return None
        meta = self._read_course(main)
        if meta is None and self.previous is not None:
            meta = self._previous_meta()
        if meta is None:
            for file in course_files.values():
                read_file(file, self.root)
                file.lang = file.lang or "en"
            return None
        main.lang = meta.language
        if meta.language in course_files:
            course_files[meta.language].add(1, f"course.{meta.language}.md repeats the course "
                                               "language; put that text in course.md")
            course_files.pop(meta.language)
        for lang, file in course_files.items():
            self._read_course_translation(file, meta)
        return meta

    def _previous_meta(self) -> _Meta:
        """Rebuild course settings from the previous catalog."""
        prev = self.previous
        return _Meta(prev.order, prev.language, prev.published, prev.pass_mark, prev.certificate,
                     dict(prev.texts))

    def _parse(self, file: _File, schema: dict, full: dict | None = None):
        """Read and parse a file's front matter; return (values, document) or (None, None)."""
        read_file(file, self.root)
        if file.text is None:
            return None, None
        try:
            doc = fm.parse(file.text)
        except fm.FrontMatterError as exc:
            file.add(exc.line, exc.message)
            return None, None
        values, issues = fm.coerce(doc.meta, schema, full=full)
        for line, message, severity in issues:
            file.add(line, message, severity)
        return values, doc

    def _read_course(self, file: _File) -> _Meta | None:
        """Parse course.md into settings, or None when it has errors."""
        values, doc = self._parse(file, fm.COURSE)
        if values is None:
            return None
        language = values.get("language", "en")
        file.lang = language
        text = self._course_text(file, doc, values, language)
        certificate = self._certificate(file, values.get("certificate", {}), language)
        if not file.ok:
            return None
        return _Meta(values["order"], language, values.get("published", True),
                     values.get("pass_mark", DEFAULT_PASS_MARK), certificate, {language: text})

    def _course_text(self, file: _File, doc: fm.Document, values: dict, lang: str) -> CourseText:
        """Render a course description."""
        rendered = render_document(doc.body, asset_base=self.asset_base)
        self._check_images(file, rendered.images, doc.body_line)
        return CourseText(lang, values.get("title", self.slug), values.get("summary", ""),
                          rendered.html)

    def _certificate(self, file: _File, values: dict, lang: str) -> CertificateSettings:
        """Build certificate settings, checking that the logo exists."""
        logo = None
        if "logo" in values:
            relpath, line = values["logo"]
            logo = resolve_asset(self.path, relpath)
            if logo is None:
                file.add(line, f"certificate logo not found in the course folder: {relpath}")
        titles = {lang: values["title"]} if "title" in values else {}
        return CertificateSettings(values.get("title"), values.get("signer_name"),
                                   values.get("signer_role"), values.get("validity_months"),
                                   logo, MappingProxyType(titles))

    def _read_course_translation(self, file: _File, meta: _Meta) -> None:
        """Add a course.<lang>.md translation to the settings (skipped when it has errors)."""
        values, doc = self._parse(file, fm.COURSE_TRANSLATION, fm.COURSE)
        if values is None:
            return
        text = self._course_text(file, doc, values, file.lang)
        if not file.ok:
            return
        meta.texts[file.lang] = text
        title = values.get("certificate", {}).get("title")
        if title:
            titles = dict(meta.certificate.titles, **{file.lang: title})
            meta.certificate = replace(meta.certificate, titles=MappingProxyType(titles))

    # -- lessons --------------------------------------------------------------------------

    def _lessons(self, files: list[_File], meta: _Meta | None) -> list[Lesson]:
        """Load every lesson file; return the lessons that can be served, in order."""
        language = meta.language if meta else (self.previous.language if self.previous else "en")
        for file in files:
            file.lang = file.lang or language
        defaults = self._pick_defaults([f for f in files if f.lang == language])
        lessons = []
        for file in files:
            if file.lang == language and file not in defaults.values():
                read_file(file, self.root)  # for its hash and mtime; it is already marked
        pass_mark = meta.pass_mark if meta else DEFAULT_PASS_MARK
        for slug, file in sorted(defaults.items(), key=lambda kv: kv[1].order):
            translations = self._translations_of(file, files, language)
            lesson = self._lesson(file, translations, language, pass_mark)
            if lesson is not None:
                lessons.append(lesson)
        for file in files:
            if file.lang != language and file.lesson_slug not in defaults:
                self._orphan(file, language)
        self._check_exams(lessons, defaults)
        return lessons

    def _pick_defaults(self, files: list[_File]) -> dict[str, _File]:
        """Pick one default-language file per slug and per order number; flag the others."""
        # A file that was served before wins a clash, so adding a file never hides an old one.
        def served_before(f: _File) -> bool:
            """Return True when the previous catalog served this slug at this number."""
            prev = self.previous.lesson(f.lesson_slug) if self.previous else None
            return prev is not None and prev.order == f.order

        chosen: dict[str, _File] = {}
        orders: dict[int, _File] = {}
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

    def _translations_of(self, default: _File, files: list[_File], language: str) -> list[_File]:
        """Return the translations of a lesson; one with another number is an error."""
        found = []
        for file in files:
            if file.lesson_slug != default.lesson_slug or file.lang == language:
                continue
            if file.order != default.order:
                read_file(file, self.root)
                file.add(1, f"the number does not match the default-language file "
                            f"{default.path.name}")
            else:
                found.append(file)
        return found

    def _orphan(self, file: _File, language: str) -> None:
        """Report a translation whose default-language lesson is missing or rejected."""
        if file.text is None and not file.issues:
            read_file(file, self.root)
        default = next((f for f in self.files if f.lesson_slug == file.lesson_slug
                        and f.lang == language), None)
        if default is None:
            file.add(1, f"translation without a default-language file "
                        f"({file.path.name.split('.')[0]}.md)")
        elif not file.issues:
            file.add(1, f"not published: {default.path.name} has errors")

    def _lesson(self, file: _File, translations: list[_File], language: str,
                pass_mark: int) -> Lesson | None:
        """Load a lesson's default-language file and its translations."""
        prev = self.previous.lesson(file.lesson_slug) if self.previous else None
        text, exam = self._guarded(file, self._default_text, file, pass_mark) or (None, False)
        if text is None and prev is not None and language in prev.texts:
            text, exam = prev.texts[language], prev.exam  # hot reload: keep serving the old text
        texts = {language: text} if text is not None else {}
        for tfile in translations:
            ttext = self._guarded(tfile, self._translation, tfile, file, text)
            if ttext is None and text is not None and prev is not None and tfile.lang in prev.texts:
                ttext = prev.texts[tfile.lang]
            if ttext is not None and text is not None:
                texts[tfile.lang] = ttext
        if text is None:
            for tfile in translations:
                if tfile.ok:
                    tfile.add(1, f"not published: {file.path.name} has errors")
            return None
        return Lesson(self.slug, file.lesson_slug, file.order, exam, MappingProxyType(texts),
                      language)

    @staticmethod
    def _guarded(file: _File, function: Any, *args: Any) -> Any:
        """Run `function`; an unexpected exception becomes an error of this one file."""
        try:
            return function(*args)
        except Exception as exc:  # e.g. RecursionError on pathological Markdown
            file.add(1, f"this file could not be processed ({type(exc).__name__}); simplify it")
            return None

    def _default_text(self, file: _File, pass_mark: int) -> tuple[LessonText | None, bool]:
        """Load a default-language lesson file; return (text or None on errors, exam flag)."""
        values, doc = self._parse(file, fm.LESSON)
        if values is None:
            return None, False
        settings = (values.get("pass_mark", pass_mark), values.get("max_attempts"),
                    values.get("shuffle", False))
        text = self._text(file, doc, values, settings, None)
        exam = values.get("exam", False)
        if exam and text.quiz is None:
            file.add(1, "an exam lesson needs a '## Quiz' section")
        file.preview = text
        return (text if file.ok else None), exam

    def _translation(self, file: _File, default_file: _File,
                     default: LessonText | None) -> LessonText | None:
        """Load a translation; its quiz takes ids and settings from the default-language quiz."""
        values, doc = self._parse(file, fm.LESSON_TRANSLATION, fm.LESSON)
        if values is None:
            return None
        quiz = default.quiz if default else None
        settings = ((quiz.pass_mark, quiz.max_attempts, quiz.shuffle) if quiz
                    else (DEFAULT_PASS_MARK, None, False))
        text = self._text(file, doc, values, settings, default)
        file.preview = text
        return text if file.ok else None

    def _text(self, file: _File, doc: fm.Document, values: dict, settings: tuple,
              default: LessonText | None) -> LessonText:
        """Render a lesson body, quiz and assignment into a LessonText (best effort, problems recorded)."""
        work = read_assignment(
            doc.body, doc.body_line, values, default=default.assignment if default else None,
            translation=default is not None, key_lines={k: v[0] for k, v in doc.meta.items.items()},
            render_document=lambda md: render_document(md, asset_base=self.asset_base),
            render_inline=lambda md: render_inline(md, asset_base=self.asset_base))
        for line, message, severity in work.issues:
            file.add(line, message, severity)
        self._check_images(file, work.images, doc.body_line)
        section = split_quiz(work.prose, doc.body_line)
        for line, message, severity in section.issues:
            file.add(line, message, severity)
        rendered = render_document(section.prose, asset_base=self.asset_base)
        self._check_images(file, rendered.images, doc.body_line)
        quiz = self._quiz(file, section, settings, default)
        title = values.get("title") or file.lesson_slug or file.path.stem
        return LessonText(file.lang, title, values.get("summary", ""), values.get("minutes", 1),
                          rendered.html, rendered.toc, quiz, file.content_hash, file.shown,
                          count_words(rendered.html), work.assignment)

    def _quiz(self, file: _File, section: Any, settings: tuple, default: Any):
        """Parse the quiz section; a translation's quiz is aligned with the default one.

        `default` is None for a default-language file, else the default-language LessonText.
        """
        if section.quiz_lines is None:
            if default is not None and default.quiz is not None:
                file.add(1, "no '## Quiz' section: the default-language quiz is shown", "warning")
                return default.quiz
            return None
        pass_mark, max_attempts, shuffle = settings
        parsed = parse_quiz(section.quiz_lines, section.heading_line, asset_base=self.asset_base,
                            pass_mark=pass_mark, max_attempts=max_attempts, shuffle=shuffle)
        for line, message, severity in parsed.issues:
            file.add(line, message, severity)
        for line, relpath in parsed.images:
            if resolve_asset(self.path, relpath) is None:
                file.add(line, f"image not found in the course folder: {relpath}")
        if default is None or parsed.quiz is None:
            return parsed.quiz
        if default.quiz is None:
            file.add(section.heading_line, "the default-language file has no quiz; this quiz is "
                                           "ignored", "warning")
            return None
        quiz, line, message = adopt_ids(parsed.quiz, default.quiz)
        if quiz is None:
            file.add(line or section.heading_line, message)
            return parsed.quiz
        return quiz

    def _check_images(self, file: _File, images: tuple[str, ...], body_line: int) -> None:
        """Report relative images that are not files in the course folder, at their line."""
        for relpath in images:
            if resolve_asset(self.path, relpath) is None:
                file.add(_line_of(file.text or "", relpath, body_line),
                         f"image not found in the course folder: {relpath}")

    def _check_exams(self, lessons: list[Lesson], defaults: dict[str, _File]) -> None:
        """Warn when more than one lesson is marked as the exam."""
        exams = [lesson for lesson in lessons if lesson.exam]
        for lesson in exams[1:]:
            defaults[lesson.slug].add(1, f"more than one exam lesson in this course "
                                         f"(also {exams[0].slug})", "warning")


def _line_of(text: str, needle: str, default: int) -> int:
    """Return the first line (from `default` on) that mentions `needle`."""
    lines = text.split("\n")
    for i in range(max(default - 1, 0), len(lines)):
        if needle in lines[i]:
            return i + 1
    return default
