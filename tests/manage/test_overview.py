"""The overview page: figures of the last 30 days, failed quizzes, idle affiliates, charts."""
from __future__ import annotations

import re

import pytest

from coaching.services import catalog
from coaching.services.reports import overview

from .conftest import answers


@pytest.fixture
def scene(world, manager_id):
    """A finished affiliate, one who failed, one idle for 40 days, a deactivated one, and a manager who finished."""
    finished = world.user("Fiona Finished")
    world.finish(finished)
    failed = world.user("Fred Failed")
    world.open(failed)
    world.attempt(failed, answers(single=False, multi=False))
    idle = world.user("Ida Idle")
    world.complete_welcome(idle)
    world.shift(idle, days=40)
    gone = world.user("Gina Gone", active=False)
    world.open(gone)
    world.finish(manager_id)  # managers are not counted as affiliates, but their certificate is a certificate
    return {"finished": finished, "failed": failed, "idle": idle, "gone": gone}


def stat(html: str, name: str) -> int:
    """The number shown in one stat box."""
    match = re.search(rf'id="stat-{name}">(\d+)<', html)
    assert match, name
    return int(match.group(1))


def test_overview_numbers(app, scene):
    """The service counts affiliates only, over the last 30 days."""
    with app.app_context():
        data = overview.overview(catalog.catalog())
    assert data.active_affiliates == 3  # finished, failed, idle (gone is deactivated)
    assert data.starts == 3  # finished, failed, gone; idle started 40 days ago
    assert data.completions == 1
    assert data.certificates == 2 and data.certificates_recent == 2
    assert [(q.lesson_slug, q.failed, q.attempts) for q in data.failed_quizzes] == [("headlines", 1, 2)]
    assert data.failed_quizzes[0].fail_percent == 50
    assert [p.name for p in data.inactive] == ["Ida Idle"] and data.inactive_total == 1
    assert data.inactive[0].unfinished == 1
    assert data.weekly_completions[-1][1] == 1 and sum(v for _d, v in data.weekly_completions) == 1
    drop = data.drop_off[0]
    assert (drop.started, [n for _s, _t, n in drop.lessons]) == (4, [2, 1])


def test_overview_page_shows_the_numbers(manager_client, scene):
    """The page shows the same figures and names."""
    html = manager_client.get("/manage/").get_data(as_text=True)
    assert (stat(html, "active"), stat(html, "starts"), stat(html, "completions"), stat(html, "certificates")) == (3, 3, 1, 2)
    assert "Ida Idle" in html and "Fred Failed" not in html.split('id="inactive-affiliates"')[1]
    assert "Headlines" in html.split('id="failed-quizzes"')[1]


def test_charts_are_inline_svg_with_text_alternatives(manager_client, scene):
    """Charts are SVG with a title, a description and a table of the same numbers."""
    html = manager_client.get("/manage/").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 2
    assert 'role="img"' in html and "<desc" in html and "Show the numbers" in html
    assert "Drop-off in Demo course" in html


def test_inactive_list_skips_finished_and_deactivated(app, world):
    """Someone idle whose courses are all finished, or whose account is deactivated, is not listed."""
    done = world.user("Done Dora")
    world.finish(done)
    world.shift(done, days=30)
    off = world.user("Off Otto", active=False)
    world.open(off)
    world.shift(off, days=30)
    with app.app_context():
        assert overview.inactive_affiliates() == ([], 0)


def test_overview_empty_database(manager_client):
    """A fresh platform shows zeros and no errors."""
    html = manager_client.get("/manage/").get_data(as_text=True)
    assert stat(html, "active") == 0 and stat(html, "certificates") == 0
    assert "No failed attempts yet." in html
