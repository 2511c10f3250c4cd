"""The progress matrix: states per lesson, search, sort, status filter, pages, and the bench entry point."""
from __future__ import annotations

import pytest

from coaching.services import catalog
from coaching.services.reports import matrix as matrix_report

from .conftest import answers


@pytest.fixture
def people(world):
    """Anna passed everything, Bert failed the quiz, Cora only read, Dan never started."""
    anna = world.user("Anna Able", email="anna@example.com")
    world.finish(anna)
    bert = world.user("Bert Brown", email="bert@shop.example")
    world.attempt(bert, answers(single=False, multi=False))
    world.shift(bert, days=3)
    cora = world.user("Cora Cole", email="cora@example.com")
    world.complete_welcome(cora)
    world.shift(cora, days=10)
    dan = world.user("Dan Dee", email="dan@example.com")
    return {"anna": anna, "bert": bert, "cora": cora, "dan": dan}


def matrix(app, **options):
    """The demo course's matrix page as the service returns it."""
    with app.app_context():
        return matrix_report.course_matrix(catalog.catalog().course("demo"), **options)


def test_cells_show_done_passed_failed_and_not_started(app, people):
    """Each cell tells done, passed with score, failed with best score, or not started."""
    rows = {row.name: row for row in matrix(app).items}
    assert [(c.state, c.percent) for c in rows["Anna Able"].cells] == [("done", None), ("passed", 100)]
    assert [(c.state, c.percent) for c in rows["Bert Brown"].cells] == [("todo", None), ("failed", 33)]
    assert [c.state for c in rows["Cora Cole"].cells] == ["done", "todo"]
    assert [c.state for c in rows["Dan Dee"].cells] == ["todo", "todo"]
    assert (rows["Anna Able"].done, rows["Anna Able"].percent, rows["Cora Cole"].percent) == (2, 100, 50)


def test_sorts(app, people):
    """Sort by name, by progress (most done first), by last activity (most recent first, never last)."""
    assert [r.name for r in matrix(app, sort="name").items] == ["Anna Able", "Bert Brown", "Cora Cole", "Dan Dee"]
    assert [r.name for r in matrix(app, sort="progress").items] == ["Anna Able", "Cora Cole", "Bert Brown", "Dan Dee"]
    assert [r.name for r in matrix(app, sort="activity").items] == ["Anna Able", "Bert Brown", "Cora Cole", "Dan Dee"]


@pytest.mark.parametrize("bad", ["password", "name; DROP TABLE users", "", "__class__", "User.email"])
def test_unknown_sort_falls_back_to_name(app, people, bad):
    """A sort key outside the allowlist sorts by name."""
    assert [r.name for r in matrix(app, sort=bad).items] == ["Anna Able", "Bert Brown", "Cora Cole", "Dan Dee"]


def test_search_by_name_or_email(app, people):
    """q matches name or email, case-insensitively; LIKE wildcards are taken literally."""
    assert [r.name for r in matrix(app, q="cole").items] == ["Cora Cole"]
    assert [r.name for r in matrix(app, q="SHOP.EXAMPLE").items] == ["Bert Brown"]
    assert matrix(app, q="%").total == 0 and matrix(app, q="_").total == 0


def test_status_filter(app, people):
    """Started, not started and completed filters."""
    assert {r.name for r in matrix(app, status="started").items} == {"Anna Able", "Bert Brown", "Cora Cole"}
    assert [r.name for r in matrix(app, status="not_started").items] == ["Dan Dee"]
    assert [r.name for r in matrix(app, status="completed").items] == ["Anna Able"]
    assert matrix(app, status="bogus").total == 4


def test_managers_are_not_rows(app, people, manager_id):
    """The matrix lists affiliates only."""
    assert "Maria Manager" not in [r.name for r in matrix(app).items]


def test_pages(app, world):
    """Pages of a fixed size; a page past the end shows the last page."""
    for i in range(7):
        world.user(f"Person {i:02d}")
    first = matrix(app, per_page=3)
    assert (first.total, first.pages, [r.name for r in first.items]) == (7, 3, ["Person 00", "Person 01", "Person 02"])
    last = matrix(app, per_page=3, page=3)
    assert [r.name for r in last.items] == ["Person 06"] and not last.has_next and last.has_prev
    assert matrix(app, per_page=3, page=99).page == 3
    assert matrix(app, per_page=3, page=-4).page == 1


def test_page_view_filters_sorts_and_pages(manager_client, world, people):
    """The page reads q, sort, status and page from the query string; bad values are harmless."""
    html = manager_client.get("/manage/courses/demo?q=bert").get_data(as_text=True)
    assert "Bert Brown" in html and "Anna Able" not in html and "Failed 33%" in html
    html = manager_client.get("/manage/courses/demo?sort=progress").get_data(as_text=True)
    assert html.index("Anna Able") < html.index("Cora Cole") < html.index("Bert Brown")
    for query in ("sort=evil", "page=abc", "page=-1", "page=%D9%A1", "status=x", "q=" + "x" * 500):
        assert manager_client.get(f"/manage/courses/demo?{query}").status_code == 200, query
    for i in range(50):
        world.user(f"Zed {i:02d}")
    page2 = manager_client.get("/manage/courses/demo?page=2").get_data(as_text=True)
    assert "Zed 49" in page2 and "Anna Able" not in page2 and "Page 2 of 2" in page2


def test_bench_entry_point_needs_no_catalog(app, world):
    """progress_matrix takes plain slugs, so a benchmark can call it with synthetic data."""
    uid = world.user("Bench Person")
    world.complete_welcome(uid)
    with app.app_context():
        page = matrix_report.progress_matrix("demo", ["welcome", "headlines", "gone"], quiz_slugs=["headlines"],
                                       sort="progress", per_page=50)
    assert page.total == 1 and [c.state for c in page.items[0].cells] == ["done", "todo", "todo"]
