"""Charts of the manager overview: one without any value says "no data yet" instead of drawing an empty box."""
from __future__ import annotations

from coaching.manage.charts import bar_chart


def test_chart_with_only_zeros_has_no_data() -> None:
    """All-zero points: has_data is False and the empty text is kept; one non-zero value draws bars."""
    empty = bar_chart("c", "Drop-off", "summary", [("Started", 0), ("1. Intro", 0)], empty_text="Nobody yet.")
    assert not empty.has_data and empty.empty_text == "Nobody yet."
    assert bar_chart("c", "Drop-off", "summary", [("Started", 2), ("1. Intro", 0)]).has_data


def test_overview_without_activity_says_no_data_yet(manager_client) -> None:
    """A fresh platform: the weekly chart and the course's drop-off show the no-data text and no SVG."""
    html = manager_client.get("/manage/").get_data(as_text=True)
    assert html.count('class="chart-empty"') == 2 and "<svg class=\"chart\"" not in html
    assert "No data yet: nobody has started this course." in html
    assert "No data yet: no course was completed in the last" in html
