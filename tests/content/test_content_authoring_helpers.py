"""The pure helpers of the browser editor: reserved slugs, checking unsaved text, diff, three-way merge, merge
markers, new files' texts, and image checks by content."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from coaching.content import load_catalog
from coaching.content.check import check_text
from coaching.content.files import RESERVED_SLUGS
from coaching.content.images import REASONS, ImageRefused, inspect_image, sniff
from coaching.content.revisions import diff_rows, lines_of, marker_lines, merge3, summary
from coaching.content.scaffold import (
    image_filename,
    image_markdown,
    new_course,
    new_lesson,
    next_order,
    slug_problem,
    slugify,
    translation_of,
)
from tests.conftest import DEMO_CONTENT

LESSON = "---\ntitle: T\nsummary: S\nminutes: 2\n---\nBody.\n"


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_reserved_lesson_and_course_names_are_errors(tmp_path, slug):
    """A lesson or a course folder named like one of the site's address words is a clear error; the rest loads."""
    root = tmp_path / "lessons"
    shutil.copytree(DEMO_CONTENT, root)
    (root / "demo" / f"03-{slug}.md").write_text(LESSON, encoding="utf-8")
    shutil.copytree(root / "demo", root / slug)
    catalog = load_catalog(root)
    messages = [str(e) for e in catalog.errors]
    assert f"lessons/demo/03-{slug}.md:1: '{slug}' cannot be the name of a lesson" in " ".join(messages)
    assert any(m.startswith(f"lessons/{slug}:0: '{slug}' cannot be the name of a course") for m in messages)
    assert [c.slug for c in catalog.courses] == ["demo"] and catalog.course("demo").lesson(slug) is None


def test_check_text_reads_unsaved_text_in_its_course(tmp_path):
    """Unsaved text is checked with the course's other files (a duplicate order number is found), nothing
    written; hidden files count as gone; a new course's course.md is checked without a folder."""
    root = tmp_path / "lessons"
    shutil.copytree(DEMO_CONTENT, root)
    before = sorted(p.name for p in (root / "demo").iterdir())
    result = check_text(root, "demo", "02-other.md", LESSON.encode())
    assert [p.message for p in result.problems][0].startswith("duplicate order number 2")
    assert sorted(p.name for p in (root / "demo").iterdir()) == before
    hidden = check_text(root, "demo", "02-other.md", LESSON.encode(), hide=("02-headlines.md",))
    assert hidden.problems == () and hidden.lesson.title == "T"
    course = check_text(root, "brand-new", "course.md", b"---\ntitle: N\nsummary: S\norder: 4\n---\nHi\n")
    assert course.problems == () and course.course.title == "N"


def test_diff_rows_pair_changes_and_skip_unchanged_lines():
    """A replaced line pairs old and new; long unchanged stretches become one 'skip' row."""
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 10", "line ten")
    rows = diff_rows(old, new)
    kinds = [r.kind for r in rows]
    assert kinds == ["skip", "equal", "equal", "equal", "replace", "equal", "equal", "equal", "skip"]
    change = rows[4]
    assert (change.old_no, change.old, change.new_no, change.new) == (10, "line 10", 10, "line ten")
    assert rows[0].skipped == 6 and rows[-1].skipped == 7
    assert summary(old, new).added == 1 and summary(old, new).removed == 1
    assert diff_rows("same", "same") == []


def test_merge_takes_each_sides_changes_and_marks_clashes():
    """Changes in different places merge; the same place changed twice keeps both between markers."""
    base = "a\nb\nc\nd\ne\n"
    assert merge3(base, base.replace("b", "B"), base.replace("d", "D")).text == "a\nB\nc\nD\ne\n"
    clash = merge3(base, base.replace("b", "mine"), base.replace("b", "theirs"))
    assert clash.conflicts == 1
    assert clash.text == "a\n<<<<<<< your version\nmine\n=======\ntheirs\n>>>>>>> the saved version\nc\nd\ne\n"
    assert marker_lines(clash.text) == [2, 4, 6]
    assert merge3(base, base, base.replace("e", "E")).text == base.replace("e", "E")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "", "d"]), max_size=12),
       st.lists(st.sampled_from(["a", "b", "x", ""]), max_size=12))
def test_merge_with_one_side_unchanged_is_the_other_side(base_lines, other_lines):
    """When one side did not change anything the merge is exactly the other side (no markers)."""
    base, other = "\n".join(base_lines), "\n".join(other_lines)
    assert merge3(base, base, other) == merge3(base, other, base)
    assert merge3(base, base, other).text == other and merge3(base, base, other).conflicts == 0


def test_setext_heading_is_not_a_marker():
    """A line of = under a heading is Markdown, not a merge marker."""
    assert marker_lines("Title\n=======\ntext") == []
    assert lines_of("a\r\nb\rc") == ["a", "b", "c"]


def test_slugs_and_names():
    """Titles become slugs (umlauts written out), bad or reserved names are named, file names are built."""
    assert slugify("Größere Überschriften: 5 Tipps!") == "groessere-ueberschriften-5-tipps"
    assert slugify("  ") == "" and slug_problem("") == "length"
    assert [slug_problem(s) for s in ("ok-1", "Ok", "a--b", "-a", "new", "a" * 61)] == [
        None, "format", "format", "format", "reserved", "length"]
    assert next_order(["01-a.md", "02-b.md", "02-b.de.md", "course.md"]) == (3, 2)
    assert next_order(["009-a.md"]) == (10, 3) and next_order([]) == (1, 2)
    assert image_filename("/etc/passwd.PNG", "png", set()) == "passwd.png"
    assert image_filename("../../x.svg", "png", {"x.png"}) == "x-2.png"
    assert image_filename("....", "gif", set()) == "image.gif"
    assert image_markdown("A [b]\\c", "images/x.png") == r"![A \[b\]\\c](images/x.png)"


def test_new_texts_load_cleanly(tmp_path):
    """A new lesson and a new course from the templates load without errors; quotes in titles are escaped."""
    root = tmp_path / "lessons"
    (root / "fresh").mkdir(parents=True)
    (root / "fresh" / "course.md").write_text(new_course('The "best" course: part 1', "S", 3, "de"), encoding="utf-8")
    (root / "fresh" / "01-start.md").write_text(new_lesson("Start: here", "", 5, "de"), encoding="utf-8")
    catalog = load_catalog(root)
    assert [e for e in catalog.errors if e.severity == "error"] == []
    course = catalog.course("fresh")
    assert course.text("de").title == 'The "best" course: part 1' and not course.published
    assert course.lesson("start").texts["de"].title == "Start: here"


def test_translation_keeps_only_the_keys_a_translation_may_set():
    """The start of a translation keeps title, summary, minutes (and the certificate's title for a course)."""
    lesson = "---\ntitle: T\nsummary: S\nminutes: 3\nmax_attempts: 2\nshow_answers: never\n---\nBody\n"
    assert translation_of(lesson, course=False) == "---\ntitle: T\nsummary: S\nminutes: 3\n---\nBody\n"
    course = ("---\ntitle: C\nsummary: S\norder: 1\ncertificate:\n  title: Cert\n  signer_name: Dana\n---\nBody\n")
    assert translation_of(course, course=True) == "---\ntitle: C\nsummary: S\ncertificate:\n  title: Cert\n---\nBody\n"
    assert translation_of("no front matter", course=False) == "no front matter"


def picture(fmt: str) -> bytes:
    """A tiny picture."""
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif"), ("WEBP", "webp")])
def test_raster_pictures_by_content(fmt, kind):
    """The type comes from the bytes; a picture whose end holds something else is refused."""
    data = picture(fmt)
    info = inspect_image(data)
    assert (info.kind, info.width, info.height) == (kind, 3, 2) and sniff(data) == kind
    with pytest.raises(ImageRefused) as refused:
        inspect_image(data + b"PK\x03\x04 a zip file")
    assert refused.value.code == "trailing_data"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"), (b"x" * (2 * 1024 * 1024 + 1), "too_large"), (b"%PDF-1.7", "unknown_type"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "broken"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>', "svg_external"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="javascript:x"/></svg>', "svg_script"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://x.example/a.css);</style></svg>',
     "svg_external"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://x.example/p)"/></svg>', "svg_external"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><use href="other.svg#x"/></svg>', "svg_external"),
    (b"<svg>not closed", "svg_invalid"), (b'<?xml version="1.0"?><html xmlns="x"><svg/></html>', "svg_invalid"),
])
def test_refused_files(data, code):
    """Each refusal names its reason."""
    with pytest.raises(ImageRefused) as refused:
        inspect_image(data)
    assert refused.value.code == code and code in REASONS


def test_svg_with_internal_references_and_embedded_pictures_is_accepted():
    """#references and embedded raster pictures stay inside the file: accepted."""
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><g id="a"/>'
           b'</defs><use xlink:href="#a"/><image href="data:image/png;base64,iVBORw0KGgo="/></svg>')
    assert inspect_image(svg).kind == "svg"


def test_decompression_bomb_is_refused():
    """A PNG claiming a huge size is refused before it is decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + \
        chunk(b"IEND", b"")
    with pytest.raises(ImageRefused) as refused:
        inspect_image(data)
    assert refused.value.code == "too_many_pixels"


def test_the_editor_explains_every_image_refusal():
    """Every refusal code has the manager's words (in the manager area's message table)."""
    from coaching.manage.authoring_messages import IMAGE_MESSAGES

    assert set(IMAGE_MESSAGES) == set(REASONS)


def test_reserved_words_are_documented():
    """docs/content-format.md names every reserved word."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "content-format.md").read_text(encoding="utf-8")
    for slug in RESERVED_SLUGS:
        assert f"`{slug}`" in text


def test_checking_a_translation_reads_its_original(tmp_path):
    """A translation is checked against its original (the quiz must line up) while the other lessons are not
    read at all (they are not needed for this file's messages)."""
    from tests.content.helpers import FIXTURES

    root = tmp_path / "lessons"
    shutil.copytree(FIXTURES / "example-course", root / "example")
    name = "02-check-your-knowledge.de.md"
    german = (root / "example" / name).read_text(encoding="utf-8")
    misaligned = german.replace("   - [ ] Das Passwort der Person\n", "   - [ ] Das Passwort der Person\n"
                                "   - [ ] Die Farbe des Links\n")
    result = check_text(root, "example", name, misaligned.encode())
    assert result.errors == 1, result.problems
    assert (root / "example" / "02-check-your-knowledge.md").name in result.problems[0].message or \
        "default-language" in result.problems[0].message
    assert check_text(root, "example", name, german.encode()).errors == 0
