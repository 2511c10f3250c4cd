"""When the lesson catalog is read: not at app creation (a CLI command that needs no lesson reads none), at the
first request or by gunicorn's post_worker_init; its renderings land in the instance's shared render cache."""
from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def store(app: Any) -> Any:
    """The app's content store."""
    return app.extensions["coaching.content"]


def test_creating_the_app_reads_no_lesson(app: Any) -> None:
    """create_app builds the store; the catalog waits for its first use."""
    assert not store(app).loaded and store(app).loads == 0


def test_a_cli_command_without_lessons_reads_none(app: Any, runner: Any) -> None:
    """`flask users create` (the issue's example) leaves the catalog unread."""
    result = runner.invoke(args=["users", "create", "new@example.com", "--name", "New", "--password",
                                 "a long passphrase here"])
    assert result.exit_code == 0, result.output
    assert not store(app).loaded


def test_the_first_request_reads_the_catalog_into_the_shared_cache(app: Any, client: Any) -> None:
    """The home page lists the courses; afterwards the render cache file holds its renderings."""
    assert client.get("/").status_code == 200
    assert store(app).loaded and store(app).loads == 1
    cache = Path(app.instance_path) / "render-cache.sqlite3"
    assert cache.is_file()
    disk = store(app).renderer.disk
    assert disk is not None and disk.enabled and disk.misses > 0


def test_a_second_app_on_the_same_instance_renders_nothing_again(app_factory: Any) -> None:
    """Like a second worker or a restart: every rendering comes from the file."""
    first = app_factory()
    first_catalog = store(first).catalog
    second = app_factory()
    second_catalog = store(second).catalog
    disk = store(second).renderer.disk
    assert disk is not None and disk.misses == 0 and disk.hits > 0
    assert [c.slug for c in second_catalog.courses] == [c.slug for c in first_catalog.courses]


def test_the_cache_can_be_switched_off(app_factory: Any) -> None:
    """RENDER_CACHE_FILE=off: no file, renderings kept in memory only."""
    app = app_factory(RENDER_CACHE_FILE="off")
    assert store(app).catalog.courses
    assert store(app).renderer.disk is None
    assert not (Path(app.instance_path) / "render-cache.sqlite3").exists()


def test_gunicorn_reads_the_catalog_before_the_first_request(app: Any) -> None:
    """gunicorn.conf.py's post_worker_init hook reads the worker's catalog."""
    hooks = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    assert store(app).loaded
    hooks["post_worker_init"](SimpleNamespace(wsgi=object()))  # something else as the app: nothing to read
