"""Helpers that build small content trees for the content tests."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "examples"  # the one fixtures tree

COURSE = """---
title: Test course
summary: A course for tests.
order: {order}
{extra}---
Course description.
"""

LESSON = """---
title: {title}
summary: One sentence.
minutes: 5
{extra}---
{body}
"""

QUIZ = """## Quiz

1. Pick the right one
   - [ ] wrong
   - [x] right
   - [ ] also wrong
"""

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")


def course_md(order: int = 1, extra: str = "") -> str:
    """Return a valid course.md with optional extra front matter lines."""
    return COURSE.format(order=order, extra=extra)


def lesson_md(title: str = "A lesson", body: str = "Some text.", extra: str = "") -> str:
    """Return a valid lesson file with optional extra front matter lines."""
    return LESSON.format(title=title, body=body, extra=extra)


def write(root: Path, rel: str, content: str | bytes) -> Path:
    """Write a file below root, creating folders."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def make_course(root: Path, slug: str = "c", lessons: dict[str, str] | None = None,
                course: str | None = None, order: int = 1) -> Path:
    """Create a course folder with course.md and the given lesson files."""
    folder = root / slug
    write(root, f"{slug}/course.md", course if course is not None else course_md(order))
    for name, text in (lessons or {}).items():
        write(folder, name, text)
    return folder


def messages(catalog, severity: str = "error") -> list[str]:
    """Return the catalog's problems of one severity as strings."""
    return [str(e) for e in catalog.errors if e.severity == severity]
