"""Server-drawn bar charts: geometry computed in Python, drawn by templates/manage/_chart.html as inline SVG.

No scripts and no style attributes (the CSP forbids both): the template uses SVG attributes and CSS classes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
TOP = 16
BOTTOM = 36
LEFT = 8


@dataclass(frozen=True)
class Bar:
    """One bar with its position, size, value and label."""

    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    short: str = ""  # what fits under the bar; the full label is in the tooltip and the table

    @property
    def center(self) -> float:
        """The horizontal middle of the bar (for its labels)."""
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class BarChart:
    """A bar chart ready to draw, with its title and a text summary for screen readers."""

    id: str
    title: str
    summary: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    value_label: str = ""
    empty_text: str = ""  # shown instead of the drawing when every value is 0

    @property
    def has_data(self) -> bool:
        """False when every bar is 0: an empty drawing would be a large blank box."""
        return any(bar.value for bar in self.bars)


def bar_chart(chart_id: str, title: str, summary: str, points: Sequence[tuple[str, int]],
              value_label: str = "", shorts: Sequence[str] | None = None, empty_text: str = "") -> BarChart:
    """Lay out bars for (label, value) points, scaled to the largest value; `shorts` label the axis.

    `empty_text` says why there is nothing to draw when every value is 0 (the template shows it instead).
    """
    count = max(1, len(points))
    slot = (WIDTH - 2 * LEFT) / count
    gap = min(12.0, slot * 0.25)
    top_value = max([value for _label, value in points] + [1])
    usable = HEIGHT - TOP - BOTTOM
    bars = []
    for i, (label, value) in enumerate(points):
        height = round(usable * value / top_value, 1)
        bars.append(Bar(round(LEFT + i * slot + gap / 2, 1), round(HEIGHT - BOTTOM - height, 1),
                        round(slot - gap, 1), height, value, label, shorts[i] if shorts else label))
    return BarChart(chart_id, title, summary, bars, value_label=value_label, empty_text=empty_text)
