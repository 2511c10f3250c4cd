"""The shared render cache: a second process renders nothing that the first rendered, gets the same HTML, misses
when the rendering code changes, and a broken cache file only makes loading slower, never wrong."""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from coaching.content import load_catalog, markdown
from coaching.content.markdown import Renderer, shared_renderer
from coaching.content.render_cache import RenderCache, code_fingerprint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "content"
TEXT = "# Title\n\nSome *text* with a [link](https://example.com) and ![a picture](images/x.png).\n\n## Part two\n"


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text that python-markdown converted (a hit in any cache converts nothing)."""
    seen: list[str] = []
    real = markdown.convert

    def counting(md, safety, text, inline):  # type: ignore[no-untyped-def]
        seen.append(text)
        return real(md, safety, text, inline)

    monkeypatch.setattr(markdown, "convert", counting)
    return seen


def test_a_second_renderer_on_the_same_file_converts_nothing(tmp_path: Path, conversions: list[str]) -> None:
    """Like a second gunicorn worker: the same rendering, read from the file."""
    first = shared_renderer(tmp_path / "cache.sqlite3")
    rendered = first.document(TEXT, asset_base="/courses/c/assets/")
    first.flush()
    assert conversions == [TEXT]
    second = shared_renderer(tmp_path / "cache.sqlite3")
    again = second.document(TEXT, asset_base="/courses/c/assets/")
    assert again == rendered
    assert conversions == [TEXT]
    assert second.disk is not None and second.disk.hits == 1


def test_options_are_part_of_the_key(tmp_path: Path, conversions: list[str]) -> None:
    """Another asset base, inline rendering or allowing external images is another rendering."""
    renderer = shared_renderer(tmp_path / "cache.sqlite3")
    a = renderer.document(TEXT, asset_base="/courses/a/assets/")
    b = renderer.document(TEXT, asset_base="/courses/b/assets/")
    c = renderer.inline("*short*", asset_base="/courses/a/assets/")
    d = renderer.document(TEXT, asset_base="/courses/a/assets/", external_images=True)
    renderer.flush()
    assert len(conversions) == 4
    assert "/courses/a/assets/images/x.png" in a.html and "/courses/b/assets/images/x.png" in b.html
    assert c.html == "<em>short</em>" and d.html == a.html


def test_a_new_rendering_code_misses_and_drops_the_old_entries(tmp_path: Path) -> None:
    """Another fingerprint (an edited markdown.py, another library version) never reads old renderings."""
    path = tmp_path / "cache.sqlite3"
    old = RenderCache(path, "old-code")
    old.put(old.key("text"), {"html": "stale"})
    old.close()
    new = RenderCache(path, "new-code")
    assert new.get(new.key("text")) is None
    assert sqlite3.connect(path).execute("SELECT count(*) FROM renderings").fetchone()[0] == 0
    new.close()


def test_the_fingerprint_follows_the_source(tmp_path: Path) -> None:
    """A changed byte of the rendering module changes the fingerprint."""
    source = tmp_path / "markdown.py"
    source.write_text("x = 1\n")
    before = code_fingerprint(source)
    source.write_text("x = 2\n")
    assert code_fingerprint(source) != before
    assert code_fingerprint(Path(markdown.__file__)) == code_fingerprint(Path(markdown.__file__))


def test_a_corrupt_file_switches_the_cache_off_and_rendering_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Garbage where the file should be: one warning, the same HTML as without a cache."""
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING):
        renderer = shared_renderer(path)
        rendered = renderer.document(TEXT, asset_base="/a/")
        renderer.flush()
    assert renderer.disk is not None and not renderer.disk.enabled
    assert rendered == Renderer().document(TEXT, asset_base="/a/")
    assert "render cache" in caplog.text


def test_an_unusable_folder_switches_the_cache_off(tmp_path: Path) -> None:
    """The cache file's folder is a file: no cache, no error."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    renderer = shared_renderer(blocker / "cache.sqlite3")
    assert renderer.document(TEXT, asset_base="/a/").html
    assert renderer.disk is not None and not renderer.disk.enabled


def test_a_value_of_the_wrong_shape_is_a_miss(tmp_path: Path, conversions: list[str]) -> None:
    """An entry that does not decode to a rendering is rendered again, not served."""
    path = tmp_path / "cache.sqlite3"
    renderer = shared_renderer(path)
    assert renderer.disk is not None
    key = renderer.disk.key(TEXT, "/a/", "0", "0")
    renderer.disk.put(key, {"html": 3})
    renderer.disk.flush()
    assert renderer.document(TEXT, asset_base="/a/").html.startswith("<h1")
    assert conversions == [TEXT]


def test_the_file_keeps_at_most_max_entries(tmp_path: Path) -> None:
    """The oldest entries go first when the file is full."""
    cache = RenderCache(tmp_path / "cache.sqlite3", "code", max_entries=10)
    for n in range(25):
        cache.put(cache.key(str(n)), {"n": n})
        cache.flush()
    assert sqlite3.connect(tmp_path / "cache.sqlite3").execute("SELECT count(*) FROM renderings").fetchone()[0] == 10
    assert cache.get(cache.key("24")) == {"n": 24} and cache.get(cache.key("0")) is None
    cache.close()


def test_threads_share_one_cache(tmp_path: Path) -> None:
    """Many threads rendering at once through one shared renderer: every result right, the file consistent."""
    renderer = shared_renderer(tmp_path / "cache.sqlite3")
    texts = [f"# Heading {n}\n\nParagraph {n}." for n in range(200)]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for n in range(200):
                text = texts[(n + offset) % 200]
                assert renderer.document(text, asset_base="/a/").toc[0].title == text.split("\n")[0][2:]
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k * 50,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    renderer.flush()
    assert errors == []
    fresh = shared_renderer(tmp_path / "cache.sqlite3")
    assert all(fresh.document(t, asset_base="/a/") == Renderer().document(t, asset_base="/a/") for t in texts)
    assert fresh.disk is not None and fresh.disk.hits == 200


def test_a_catalog_read_through_the_cache_equals_one_read_without(tmp_path: Path, conversions: list[str]) -> None:
    """The fixture content: the second load converts nothing and every lesson text is the same."""
    plain = load_catalog(FIXTURES)
    conversions.clear()
    load_catalog(FIXTURES, renderer=shared_renderer(tmp_path / "cache.sqlite3"))
    assert conversions
    conversions.clear()
    cached = load_catalog(FIXTURES, renderer=shared_renderer(tmp_path / "cache.sqlite3"))
    assert conversions == []
    assert [str(e) for e in cached.errors] == [str(e) for e in plain.errors]
    for course in plain.courses:
        other = cached.course(course.slug)
        assert other is not None
        for lesson in course.lessons:
            twin = other.lesson(lesson.slug)
            assert twin is not None and dict(twin.texts) == dict(lesson.texts)
