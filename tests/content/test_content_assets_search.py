"""Course.asset() path handling and Catalog.search()."""

from __future__ import annotations

import os

import pytest

from coaching.content import load_catalog

from .helpers import PNG, course_md, lesson_md, make_course, write


@pytest.fixture
def course(content, tmp_path):
    """A course with images, a nested folder, a secret outside and symlinks."""
    folder = make_course(content, lessons={"01-a.md": lesson_md()})
    write(folder, "images/x.png", PNG)
    write(folder, "images/sub/y.svg", "<svg/>")
    write(folder, "images/.hidden.png", PNG)
    write(tmp_path, "secret.png", PNG)
    write(content, "other/images/z.png", PNG)
    os.symlink(tmp_path / "secret.png", folder / "images/link-out.png")
    os.symlink(folder / "images/x.png", folder / "images/link-in.png")
    os.symlink(tmp_path, folder / "images/dir-out")
    return load_catalog(content).course("c")


def test_assets_inside_the_course_folder(course):
    """Image files inside the folder resolve, also through an inner symlink."""
    assert course.asset("images/x.png") == (course.path / "images/x.png").resolve()
    assert course.asset("images/sub/y.svg") is not None
    assert course.asset("images/link-in.png") is not None


@pytest.mark.parametrize("relpath", [
    "../other/images/z.png", "images/../../other/images/z.png", "/etc/passwd",
    "images/%2e%2e/%2e%2e/other/images/z.png", "..%2fother/images/z.png", "images%2fx.png",
    "images\\x.png", "..\\other\\images\\z.png", "images//x.png", "./images/x.png", "images/./x.png",
    "images/x.png/", "", "images", "images/link-out.png", "images/dir-out/secret.png",
    "images/.hidden.png", "course.md", "01-a.md", "images/x.png\x00.md", "C:/x.png",
    "images/missing.png", "images/x.png?x=1", "images/x.png#top", "~/x.png",
])
def test_asset_refuses_everything_else(course, relpath):
    """Traversal, encoded escapes, backslashes, symlinks out, hidden and non-image files: None."""
    assert course.asset(relpath) is None


@pytest.mark.parametrize("relpath", [None, 42, b"images/x.png", "a/" * 300 + "x.png"])
def test_asset_odd_input(course, relpath):
    """Non-strings and absurdly long paths are refused without raising."""
    assert course.asset(relpath) is None


# -- search -----------------------------------------------------------------------------------

@pytest.fixture
def searchable(content):
    """Two courses with English and German text, one unpublished."""
    make_course(content, lessons={
        "01-headlines.md": lesson_md("Headlines that work", body="A headline promises a benefit."),
        "01-headlines.de.md": lesson_md("Überschriften, die wirken",
                                        body="Eine ÜBERSCHRIFT verspricht einen Nutzen. Straße."),
        "02-benefits.md": lesson_md("Benefits", body="Write the headline last. <b>bold</b> & co."),
    })
    make_course(content, "hidden", course=course_md(2, "published: false\n"),
                lessons={"01-secret.md": lesson_md("Headline secrets")})
    return load_catalog(content)


def test_title_hits_rank_first(searchable):
    """A lesson with the word in its title comes before one with it only in the body."""
    hits = searchable.search("headline", "en")
    assert [(h.course_slug, h.lesson_slug) for h in hits] == [("c", "headlines"), ("c", "benefits")]
    assert hits[0].title == "Headlines that work" and hits[0].score > hits[1].score


def test_unpublished_courses_are_not_searched(searchable):
    """Hidden courses never show up."""
    assert all(h.course_slug != "hidden" for h in searchable.search("secrets", "en"))


def test_german_umlauts_and_case(searchable):
    """Umlauts and case match in both directions; ß matches ss."""
    for query in ("überschrift", "ÜBERSCHRIFT", "Überschriften", "strasse", "STRASSE"):
        hits = searchable.search(query, "de")
        assert [h.lesson_slug for h in hits][:1] == ["headlines"], query
    assert "<mark>ÜBERSCHRIFT</mark>" in searchable.search("überschrift", "de")[0].excerpt_html


def test_language_fallback_in_search(searchable):
    """A lesson without a German text is searched in its default language."""
    assert [h.lesson_slug for h in searchable.search("last", "de")] == ["benefits"]


def test_all_words_must_match(searchable):
    """Every query word must be found (prefix match)."""
    assert [h.lesson_slug for h in searchable.search("head benef", "en")] == ["headlines", "benefits"]
    assert searchable.search("headline zebra", "en") == []
    assert searchable.search("", "en") == [] and searchable.search("  !!  ", "en") == []


def test_excerpt_is_escaped(searchable):
    """Excerpts escape the text and only add <mark> tags."""
    hit = searchable.search("bold", "en")[0]
    assert hit.excerpt_html == "Write the headline last. &lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; co."


def test_limit_and_index_built_once(searchable):
    """The documents are built once per catalog and language, and kept by that catalog; limit caps the hits."""
    assert len(searchable.search("headline", "fr", limit=1)) == 1
    searchable.search("benefit", "fr")
    assert searchable.index.docs.cache_info().misses == 1
    assert load_catalog(searchable.courses[0].path.parent).index.docs.cache_info().currsize == 0
