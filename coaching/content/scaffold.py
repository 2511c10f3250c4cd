"""Pure helpers that write new content files for the browser editor: names, slugs and starting texts
(a new lesson, a new course, a translation of an existing file), and the Markdown of an image."""

from __future__ import annotations

import re
import unicodedata

from .files import COURSE_FILE, LESSON_FILE, RESERVED_SLUGS, SLUG

MAX_SLUG = 60
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
# The keys a translation may set (others there are warnings, see docs/content-format.md).
LESSON_TRANSLATION_KEYS = ("title", "summary", "minutes")
COURSE_TRANSLATION_KEYS = ("title", "summary", "certificate")
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:")

LESSON_BODY = {
    "en": "Write the lesson here. Start with what the reader will be able to do afterwards.\n\n"
          "## First step\n\nExplain the first step.\n",
    "de": "Schreiben Sie die Lektion hier. Beginnen Sie damit, was die Leserin oder der Leser danach kann.\n\n"
          "## Erster Schritt\n\nErklären Sie den ersten Schritt.\n",
}
COURSE_BODY = {
    "en": "Describe the course here: who it is for and what they will learn.\n",
    "de": "Beschreiben Sie den Kurs hier: für wen er ist und was man lernt.\n",
}


def slugify(title: str) -> str:
    """A slug from a title: lowercase ASCII letters, digits and single hyphens (umlauts written out)."""
    text = unicodedata.normalize("NFKD", title.translate(_TRANSLITERATE))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def slug_problem(slug: str) -> str | None:
    """Why a slug cannot be used (`format`, `length` or `reserved`), or None when it can."""
    if not slug or len(slug) > MAX_SLUG:
        return "length"
    if not SLUG.match(slug):
        return "format"
    if slug in RESERVED_SLUGS:
        return "reserved"
    return None


def quote(value: str) -> str:
    """A YAML double-quoted scalar (single line)."""
    clean = " ".join(value.split())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lesson_filename(order: int, slug: str, lang: str = "", width: int = 2) -> str:
    """`NN-slug.md` (or `NN-slug.de.md` for a translation)."""
    suffix = f".{lang}" if lang else ""
    return f"{order:0{width}d}-{slug}{suffix}.md"


def course_filename(lang: str = "") -> str:
    """`course.md` (or `course.de.md` for a translation)."""
    return f"course.{lang}.md" if lang else "course.md"


def parse_name(name: str) -> tuple[int | None, str | None, str]:
    """(order, lesson slug, language suffix) of a file name; (None, None, lang) for course files,
    (None, None, '') for a name that fits neither."""
    if m := COURSE_FILE.match(name):
        return None, None, m.group(1) or ""
    if m := LESSON_FILE.match(name):
        return int(m.group(1)), m.group(2), m.group(3) or ""
    return None, None, ""


def next_order(names: list[str]) -> tuple[int, int]:
    """The order number after the last lesson of these file names, and the digits used for it."""
    orders = [(int(m.group(1)), len(m.group(1))) for n in names if (m := LESSON_FILE.match(n))]
    if not orders:
        return 1, 2
    last = max(o for o, _ in orders)
    width = max(w for _, w in orders)
    return last + 1, max(width, len(str(last + 1)))


def new_lesson(title: str, summary: str, minutes: int, lang: str) -> str:
    """The text of a new lesson: its front matter filled in (the title stands in for a missing summary) and a short
    body to write over."""
    return (f"---\ntitle: {quote(title)}\nsummary: {quote(summary or title)}\nminutes: {minutes}\n---\n"
            f"{LESSON_BODY.get(lang, LESSON_BODY['en'])}")


def new_course(title: str, summary: str, order: int, lang: str) -> str:
    """The text of a new course.md: unpublished until the manager sets `published: true`."""
    return (f"---\ntitle: {quote(title)}\nsummary: {quote(summary or title)}\norder: {order}\nlanguage: {lang}\n"
            f"published: false\n---\n{COURSE_BODY.get(lang, COURSE_BODY['en'])}")


def translation_of(text: str, *, course: bool) -> str:
    """A translation's starting text: the original, its front matter cut down to the keys a translation
    may set (for course.md: title, summary and the certificate's title)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return text
    allowed = COURSE_TRANSLATION_KEYS if course else LESSON_TRANSLATION_KEYS
    kept, current = [], None
    for line in lines[1:end]:
        if line[:1] not in (" ", "\t") and line.strip():
            m = _KEY.match(line)
            current = m.group(1) if m else None
            if current in allowed and current != "certificate":
                kept.append(line)
            elif current == "certificate":
                kept.append("certificate:")
        elif current == "certificate" and line.strip().startswith("title:"):
            kept.append(line)
        elif current in allowed and current != "certificate" and line.strip():
            kept.append(line)  # a value that goes on over several lines
    if kept and kept[-1] == "certificate:":
        kept.pop()
    return "\n".join(["---", *kept, *lines[end:]])


def image_markdown(alt: str, relpath: str) -> str:
    """`![alt](images/x.png)` with the alt text on one line and its brackets escaped."""
    clean = " ".join(alt.split())
    clean = clean.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{clean}]({relpath})"


def image_filename(original: str, ext: str, taken: set[str]) -> str:
    """A file name for an upload: the slug of the name it came with, the extension of its real type,
    and `-2`, `-3`... when that name is taken."""
    stem = original.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    base = slugify(stem)[:40].rstrip("-") or "image"
    name, n = f"{base}.{ext}", 2
    while name in taken:
        name, n = f"{base}-{n}.{ext}", n + 1
    return name
