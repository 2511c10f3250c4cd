"""Hot reload: ContentStore and the `previous` rule of load_catalog()."""

from __future__ import annotations

import os
import threading

from coaching.content import ContentStore, load_catalog
from coaching.content import markdown as md
from coaching.content.markdown import Renderer

from .helpers import course_md, lesson_md, make_course, messages, write


def edit(path, text):
    """Rewrite a file and move its mtime on, so a change is visible even within one tick."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 10**9, old + 10**9))


def title(catalog, slug="a", lang="en"):
    """Return the served title of lesson `slug` in course c (None when not served)."""
    course = catalog.course("c")
    lesson = course.lesson(slug) if course else None
    return lesson.texts[lang].title if lesson and lang in lesson.texts else None


def test_edit_break_fix_delete(content):
    """Edits show up, a broken edit keeps the old text (with its error), deletion drops it."""
    make_course(content, lessons={"01-a.md": lesson_md("One"), "02-b.md": lesson_md("B")})
    store = ContentStore(content, reload_seconds=0)
    path = content / "c/01-a.md"
    assert title(store.catalog) == "One"

    edit(path, lesson_md("Two"))
    assert title(store.catalog) == "Two"

    edit(path, "---\ntitle: Three\nsummary: [broken\n---\n")
    catalog = store.catalog
    assert title(catalog) == "Two"
    assert messages(catalog) == ["lessons/c/01-a.md:3: a value that starts with '[' or '{' is read as a list or "
                                 "mapping: put the whole value in quotes, e.g. title: \"[draft] lesson\""]
    status = next(f for f in catalog.files if f.lesson_slug == "a")
    assert not status.ok

    edit(path, lesson_md("Four"))
    catalog = store.catalog
    assert title(catalog) == "Four" and catalog.errors == ()

    path.unlink()
    catalog = store.catalog
    assert title(catalog) is None and title(catalog, "b") == "B"


def test_broken_translation_keeps_previous_translation(content):
    """The rule holds per language."""
    make_course(content, lessons={"01-a.md": lesson_md("EN"), "01-a.de.md": lesson_md("DE")})
    first = load_catalog(content)
    edit(content / "c/01-a.de.md", "---\ntitle: x\n")
    second = load_catalog(content, previous=first)
    assert title(second, lang="de") == "DE" and len(second.errors) == 1


def test_broken_course_md_keeps_previous_settings(content):
    """A broken course.md keeps the course (old settings) with fresh lessons."""
    make_course(content, lessons={"01-a.md": lesson_md("One")})
    first = load_catalog(content)
    edit(content / "c/course.md", "---\ntitle: x\norder: first\n")
    edit(content / "c/01-a.md", lesson_md("Two"))
    second = load_catalog(content, previous=first)
    assert second.course("c").text("en").title == "Test course"
    assert title(second) == "Two" and len(second.errors) == 1


def test_broken_new_file_without_previous_is_not_served(content):
    """A file that was never good is simply not served."""
    make_course(content, lessons={"01-a.md": lesson_md("One")})
    first = load_catalog(content)
    write(content, "c/02-b.md", "---\nbroken")
    second = load_catalog(content, previous=first)
    assert [lesson.slug for lesson in second.course("c").lessons] == ["a"]


def test_new_file_with_taken_number_does_not_hide_the_served_one(content):
    """A new file reusing a served lesson's number is the one reported."""
    make_course(content, lessons={"03-zeta.md": lesson_md("Zeta")})
    first = load_catalog(content)
    write(content, "c/03-alpha.md", lesson_md("Alpha"))
    second = load_catalog(content, previous=first)
    assert [lesson.slug for lesson in second.course("c").lessons] == ["zeta"]
    assert messages(second) == ["lessons/c/03-alpha.md:1: duplicate order number 3 (also 03-zeta.md)"]


def test_unchanged_files_are_not_rendered_again(content, monkeypatch):
    """Reloading unchanged files with the same Renderer hits its cache."""
    make_course(content, lessons={"01-a.md": lesson_md(body="Cached *body* text unique-42")})
    renderer = Renderer()
    first = load_catalog(content, renderer=renderer)
    calls = []
    real = md.convert
    monkeypatch.setattr(md, "convert", lambda *a: calls.append(a) or real(*a))
    second = load_catalog(content, previous=first, renderer=renderer)
    assert calls == []
    assert second.course("c").lesson("a").texts["en"].html == first.course("c").lesson("a").texts["en"].html


def test_store_checks_at_most_every_reload_seconds(content):
    """With a long interval the store does not look at the files again."""
    make_course(content, lessons={"01-a.md": lesson_md("One")})
    store = ContentStore(content, reload_seconds=3600)
    first = store.catalog
    edit(content / "c/01-a.md", lesson_md("Two"))
    assert store.catalog is first
    assert title(store.reload()) == "Two"


def test_store_does_not_reload_unchanged_tree(content):
    """Without changes the catalog object stays the same."""
    make_course(content, lessons={"01-a.md": lesson_md("One")})
    store = ContentStore(content, reload_seconds=0)
    first = store.catalog
    assert store.catalog is first and store.loads == 1
    assert store.reload(force=True) is not first and store.loads == 2


def test_store_sees_new_images(content):
    """Adding a missing image fixes the lesson on the next check."""
    make_course(content, lessons={"01-a.md": lesson_md(body="![x](images/x.png)")})
    store = ContentStore(content, reload_seconds=0)
    assert title(store.catalog) is None
    write(content, "c/images/x.png", b"png")
    assert title(store.catalog) == "A lesson"


def test_store_is_thread_safe(content):
    """Many threads reading while files change never see an exception or a missing course."""
    make_course(content, lessons={"01-a.md": lesson_md("v0")})
    store = ContentStore(content, reload_seconds=0)
    failures = []

    def read():
        for _ in range(30):
            try:
                assert store.catalog.course("c") is not None
            except Exception as exc:  # collected for the main thread
                failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for i in range(5):
        edit(content / "c/01-a.md", lesson_md(f"v{i + 1}"))
    for thread in threads:
        thread.join()
    assert failures == []
    assert title(store.catalog) == "v5"


def test_course_md_deleted_drops_course(content):
    """Deleting course.md removes the course (a missing course.md is an error)."""
    make_course(content, lessons={"01-a.md": lesson_md()})
    store = ContentStore(content, reload_seconds=0)
    (content / "c/course.md").unlink()
    assert store.catalog.course("c") is None
    write(content, "c/course.md", course_md())
    assert store.catalog.course("c") is not None
